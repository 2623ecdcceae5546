"""The contract every pose extractor keeps, and the registry that builds them."""

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


EXTRACTORS = ("blazepose", "hrnet")


def build_extractor(name: str = "blazepose", **options: object) -> Extractor:
    """An extractor by name: ``blazepose`` (default) or ``hrnet`` (needs ``weights=FILE``).

    Example:
        >>> result = build_extractor("blazepose", target_fps=16).extract("squat.mp4")
        >>> result.joints.shape   # (T, 33, 4)
    """
    if name == "blazepose":
        from .blazepose import BlazePoseExtractor

        return BlazePoseExtractor(**options)
    if name == "hrnet":
        from .hrnet_extractor import HRNetExtractor

        return HRNetExtractor(**options)
    raise ValueError(f"unknown extractor {name!r}; choose from {', '.join(EXTRACTORS)}")


def extract_cleaned(path: str | Path, target_fps: float | None = 16.0,  # video.DEFAULT_FPS (no OpenCV here)
                    ) -> tuple[ExtractionResult, np.ndarray]:
    """One video file through BlazePose, cleaned with the extraction defaults (visibility
    threshold, short gaps interpolated): the raw result and the cleaned ``joints (T, V, 4)``.

    For one-off use (``classify``, ``score`` of a file); corpora go through the extraction flow.
    Raises ``ValueError`` naming the file when nobody is detected in any sampled frame.
    """
    from .cleaning import clean

    result = build_extractor("blazepose", target_fps=target_fps).extract(path)
    cleaned = clean(result.joints, result.detected)
    if not cleaned.detected.any():
        raise ValueError(f"{path}: no person detected in any of its {len(result.joints)} sampled frames")
    return result, cleaned.joints
