"""One video's skeleton as every command reads it, whatever it came from.

A video file (through BlazePose), a video in a skeleton store (by id or id prefix) or a landmarks
file all become one :class:`SkeletonSource`; :func:`posegraph.data.sources.resolve_source` is the
one resolver that makes it. Classify, score, count, render and the analysis read this type.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .vocabulary import DEFAULT_FPS

ORIGINS = ("file", "store", "landmarks", "memory")  # memory: made in code (generated, sliced, a live window)


@dataclass(frozen=True, repr=False)
class SkeletonSource:
    """Person 0 of one video (and the next people, when asked for), with what every use needs.

    Shapes: ``joints (T, V, 4)`` x, y (fractions of the frame), z, visibility, NaN where the
    person was not seen; ``others (M - 1, T, V, 4)`` the next people (None: only person 0 was
    read); ``timestamps (T,)`` seconds; ``frame_indices (T,)`` the video's frame numbers.
    ``origin`` is ``file``, ``store`` or ``landmarks``; ``how_read`` says it in words ("BlazePose",
    "stored", "stored as 3fa2c1..."). ``video_id`` is set when the skeleton came from a store.
    """

    joints: np.ndarray
    layout: str
    timestamps: np.ndarray
    frame_indices: np.ndarray
    width: int | None
    height: int | None
    source_path: str | None
    fps: float = DEFAULT_FPS
    origin: str = "file"
    how_read: str = ""
    video_id: str | None = None
    label: str | None = None
    extracted_at: datetime | None = None
    others: np.ndarray | None = None

    @classmethod
    def from_people(cls, people: np.ndarray, layout: str, timestamps: np.ndarray, width: int | None = None,
                    height: int | None = None, fps: float = DEFAULT_FPS, how_read: str = "in memory") -> "SkeletonSource":
        """A source made in code from ``people (M, T, V, 4)`` (person 0 first) and ``timestamps (T,)`` s."""
        people = np.asarray(people)
        return cls(people[0], layout, np.asarray(timestamps), np.arange(people.shape[1]), width, height, None,
                   float(fps), "memory", how_read, others=people[1:] if len(people) > 1 else None)

    def __repr__(self) -> str:
        return (f"SkeletonSource(origin={self.origin!r}, video_id={self.video_id!r}, "
                f"source_path={self.source_path!r}, layout={self.layout!r}, frames={len(self.joints)})")

    @property
    def people(self) -> np.ndarray:
        """``(M, T, V, 4)``: person 0, then the others read."""
        return self.joints[None] if self.others is None else np.concatenate([self.joints[None], self.others])

    @property
    def seen(self) -> np.ndarray:
        """``(T,)`` bool: frames where person 0 has at least one joint."""
        return np.isfinite(self.joints[..., :2]).all(axis=-1).any(axis=-1)

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None

    @property
    def has_person(self) -> bool:
        return bool(self.seen.any())
