"""Skeleton layouts as plain data: joint names, edges and centre joints."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

CENTRE = -1  # a parent index meaning "the midpoint of the layout's centre joints"


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
    def bone_tree(self) -> tuple[tuple[int, int], ...]:
        """``(parent, child)`` pairs covering every joint but the centre ones, parents before
        children: breadth-first from the centre joints along the edges; a part with no edge to them
        (BlazePose's face) hangs from the centre joints' midpoint (parent :data:`CENTRE`). The one
        tree bone augmentations and the bone input stream use."""
        neighbours: dict[int, list[int]] = {joint: [] for joint in range(self.num_joints)}
        for first, second in self.edges:
            neighbours[first].append(second)
            neighbours[second].append(first)
        reached, order = set(self.center), []

        def walk(queue: deque) -> None:
            while queue:
                parent = queue.popleft()
                for child in neighbours[parent]:
                    if child not in reached:
                        reached.add(child)
                        order.append((parent, child))
                        queue.append(child)

        walk(deque(self.center))
        for joint in range(self.num_joints):
            if joint not in reached:
                reached.add(joint)
                order.append((CENTRE, joint))
                walk(deque([joint]))
        return tuple(order)

    @property
    def bone_parents(self) -> tuple[int, ...]:
        """Each joint's parent in :attr:`bone_tree` (:data:`CENTRE` for the centre joints)."""
        parents = [CENTRE] * self.num_joints
        for parent, child in self.bone_tree:
            parents[child] = parent
        return tuple(parents)

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
