"""Features of real MediaPipe landmarks (../shared/testdata/form/exercise-correction/core/*/*.csv).

Each file holds a subset of BlazePose's landmarks (columns ``label`` then ``<name>_x, _y, _z, _v``);
the others become NaN. Rows are labelled frames, not a video at a known rate: fps 30 is nominal.
x and y are fractions of the frame, not aspect-correct, so only finiteness and masks are checked.
"""

from pathlib import Path

import numpy as np
import pytest

from posegraph.data.landmark_csv import read_landmark_csv
from posegraph.features import FEATURE_NAMES, FEATURES, build_features
from posegraph.skeleton import get_layout

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"
FORM = SHARED / "form" / "exercise-correction" / "core"
FILES = sorted(FORM.glob("*/*.csv"))
NAMES = get_layout("blazepose33").joint_names


def read_landmarks(path: Path) -> tuple[np.ndarray, set[str]]:
    """``(T, 33, 4)`` blazepose33 joints (NaN for landmarks the file lacks) and the names it has."""
    _, joints = read_landmark_csv(path)
    return joints.astype(np.float64), {NAMES[i] for i in np.flatnonzero(np.isfinite(joints[..., 0]).any(axis=0))}


def test_the_shared_files_are_there():
    if not FORM.is_dir():
        pytest.skip(f"shared test data not found in {FORM} (see shared/testdata/SOURCES.md, 'form/')")
    assert len(FILES) >= 6


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_finite_where_the_joints_are_present_masked_where_not(path, expected_mask):
    joints, present = read_landmarks(path)
    assert np.isfinite(joints[:, [NAMES.index(name) for name in present]]).all()
    features, mask = build_features(joints, "blazepose33", fps=30)
    expected = expected_mask(joints, "blazepose33")
    available = np.array([set(spec.joints) <= present for spec in FEATURES])
    assert (expected[:, ~available]).all()  # a joint the file lacks: missing in every row
    ratio = FEATURE_NAMES.index("knee_hip_bend_ratio")
    bends = {joint: 180 - (features[:, FEATURE_NAMES.index(f"left_{joint}_angle")]
                           + features[:, FEATURE_NAMES.index(f"right_{joint}_angle")]) / 2
             for joint in ("knee", "hip")}
    expected[:, ratio] |= np.hypot(bends["knee"], bends["hip"]) < 5
    assert (mask == expected).all()
    assert np.isfinite(features[~mask]).all() and np.isnan(features[mask]).all()
    assert (~mask[:, available]).mean() > 0.99  # MediaPipe reports every landmark it writes
