"""The registry that builds pose extractors by name, and a one-off cleaned extraction of a file.

The contract they keep (:class:`ExtractionResult`, :class:`Extractor`) is in :mod:`.extractor`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .extractor import ExtractionResult, Extractor
from .vocabulary import DEFAULT_FPS

__all__ = ["EXTRACTORS", "ExtractionResult", "Extractor", "build_extractor", "extract_cleaned"]


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


def extract_cleaned(path: str | Path, target_fps: float | None = DEFAULT_FPS,
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
