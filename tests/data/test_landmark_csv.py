"""Labelled landmark CSVs: columns to joints, absent landmarks NaN, runs of consecutive rows."""

import numpy as np
import pytest

from posegraph.data.landmark_csv import consecutive_runs, read_landmark_csv, runs_by_label, split_in_file_order
from posegraph.skeleton import get_layout

NAMES = get_layout("blazepose33").joint_names


def test_columns_become_joints_and_missing_landmarks_nan(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("label,nose_x,nose_y,nose_z,nose_v,left_knee_x,left_knee_y,left_knee_z,left_knee_v\n"
                    "C,0.1,0.2,0.3,0.9,0.5,0.6,0.7,0.8\nL,1,2,3,0.5,4,5,6,0.25\n")
    labels, joints = read_landmark_csv(path)
    assert labels.tolist() == ["C", "L"] and joints.shape == (2, 33, 4)
    np.testing.assert_allclose(joints[1, NAMES.index("left_knee")], [4, 5, 6, 0.25])
    np.testing.assert_allclose(joints[0, NAMES.index("nose")], [0.1, 0.2, 0.3, 0.9])
    others = [i for i, name in enumerate(NAMES) if name not in ("nose", "left_knee")]
    assert np.isnan(joints[:, others]).all()


def test_unknown_columns_are_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("label,tail_x\nC,1\n")
    with pytest.raises(ValueError, match="tail_x"):
        read_landmark_csv(path)


def test_runs_end_where_the_label_changes_or_the_pose_jumps():
    joints = np.zeros((8, 33, 4))
    joints[:, :, 0] = np.arange(8)[:, None] * 0.01     # slow, steady movement
    joints[5:, :, 0] += 0.5                             # a jump before row 5
    labels = np.array(["C", "C", "C", "L", "L", "L", "L", "L"], dtype=object)
    assert consecutive_runs(joints, labels).tolist() == [0, 0, 0, 1, 1, 2, 2, 2]


def test_runs_by_label_in_file_order_and_the_file_order_split(tmp_path):
    rows = ["C,0.00,0.5", "C,0.01,0.5", "L,0.02,0.5", "L,0.03,0.5", "C,0.04,0.5", "C,0.05,0.5", "C,0.06,0.5"]
    path = tmp_path / "rows.csv"
    path.write_text("label,nose_x,nose_y\n" + "\n".join(rows) + "\n")
    runs = runs_by_label(path)
    assert sorted(runs) == ["C", "L"] and [len(run) for run in runs["C"]] == [2, 3]
    np.testing.assert_allclose(runs["C"][1][:, NAMES.index("nose"), 0], [0.04, 0.05, 0.06])
    first, rest = split_in_file_order([np.zeros((2, 1)), np.zeros((3, 1)), np.zeros((5, 1))])
    assert [len(run) for run in first] == [2, 3] and [len(run) for run in rest] == [5]  # 5 of 10 frames
