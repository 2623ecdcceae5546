"""Shared fixtures: temporary stores, small synthetic corpora, the shared test data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from posegraph.data import SkeletonStore, Skeletons, VideoInfo

# Prefect's INFO lines at interpreter exit would hit pytest's closed capture streams.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared"


@pytest.fixture
def store(tmp_path: Path) -> SkeletonStore:
    return SkeletonStore(tmp_path / "store")


def make_video(video_id: str, frames: int = 20, layout: str = "blazepose33", joints: int = 33,
               seed: int = 0, people: int = 1, label: str = "squat") -> tuple[VideoInfo, Skeletons]:
    """A random video with known values (NaN on undetected frames)."""
    random = np.random.default_rng(seed)
    values = random.random((people, frames, joints, 4)).astype(np.float32)
    detected = random.random((people, frames)) > 0.1
    detected[:, 0] = True
    values[~detected] = np.nan
    interpolated = random.random((people, frames, joints)) > 0.8
    skeletons = Skeletons(layout, values, detected, np.arange(frames) / 16.0,
                          np.arange(frames, dtype=np.int32), interpolated,
                          np.array(["rest"] * frames, dtype=object))
    return VideoInfo(video_id=video_id, layout=layout, label=label, group="s01"), skeletons


def video_id(prefix: str, number: int = 0) -> str:
    """A 64-hex-digit id starting with ``prefix`` (which picks the bucket)."""
    return (prefix + f"{number:x}").ljust(64, "0")
