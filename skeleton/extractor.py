"""The contract every pose extractor keeps: the result of one video and the extractor protocol.

Its own module so the extractors (:mod:`.blazepose`, :mod:`.hrnet_extractor`) and the registry
that builds them (:mod:`.extraction`) both import it without importing each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # keep `import posegraph.skeleton` free of OpenCV
    from .video import VideoProperties


@dataclass(frozen=True)
class ExtractionResult:
    """One person's skeleton over the sampled frames of a video.

    Shapes:
        joints: ``(T, V, 4)`` float32 — x, y normalised to the frame, z, visibility/confidence;
        NaN where nobody was found. detected: ``(T,)`` bool. timestamps: ``(T,)`` s.
        frame_indices: ``(T,)`` source frame numbers.
    """

    layout: str
    joints: np.ndarray
    detected: np.ndarray
    timestamps: np.ndarray
    frame_indices: np.ndarray
    properties: "VideoProperties"
    decoded_frames: int
    extractor: str
    extractor_version: str
    settings: dict = field(default_factory=dict)

    @property
    def settings_json(self) -> str:
        return json.dumps(self.settings, sort_keys=True)


class Extractor(Protocol):
    """What :func:`build_extractor` returns."""

    name: str
    layout: str
    version: str
    settings: dict

    def extract(self, path: str | Path) -> ExtractionResult: ...
