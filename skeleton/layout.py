"""Skeleton layouts as plain data: joint names, edges and centre joints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    """A skeleton layout; models and converters read it, nothing hard-codes joint indices.

    Attributes:
        name: registry key, e.g. ``"blazepose33"``.
        joint_names: joint names in storage order (index = position in arrays).
        edges: undirected bones as ``(joint_index, joint_index)`` pairs.
        center: indices of the centre joint(s) used by ST-GCN's spatial partition; with
            several, a joint's distance to the centre is the smallest over them.
    """

    name: str
    joint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    center: tuple[int, ...]

    def __post_init__(self) -> None:
        count = len(self.joint_names)
        if len(set(self.joint_names)) != count:
            raise ValueError(f"layout {self.name!r}: joint names are not unique")
        for first, second in self.edges:
            if not (0 <= first < count and 0 <= second < count) or first == second:
                raise ValueError(f"layout {self.name!r}: bad edge ({first}, {second})")
        if not self.center or any(not 0 <= joint < count for joint in self.center):
            raise ValueError(f"layout {self.name!r}: centre joints {self.center} out of range")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def mirror_index(self) -> tuple[int, ...]:
        """For each joint, the joint it becomes in a left-right mirror image (itself on the midline).

        Derived from the names: ``left`` and ``right`` swapped (``left_hip`` <-> ``right_hip``,
        ``mouth_left`` <-> ``mouth_right``); a name with neither is on the midline.
        """
        def mirrored(name: str) -> str:
            return name.replace("left", "\0").replace("right", "left").replace("\0", "right")

        return tuple(self.joint_names.index(mirrored(name)) if mirrored(name) in self.joint_names else index
                     for index, name in enumerate(self.joint_names))

    def index(self, joint_name: str) -> int:
        """Position of ``joint_name`` in this layout's arrays."""
        try:
            return self.joint_names.index(joint_name)
        except ValueError:
            raise KeyError(
                f"layout {self.name!r} has no joint {joint_name!r}; "
                f"its joints are: {', '.join(self.joint_names)}"
            ) from None
