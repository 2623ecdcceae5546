"""RepCount pose files with their human boundaries: imported as videos (label, group) and phases."""

import numpy as np
import pytest

from posegraph.data.repcount import import_repcount, read_counts
from posegraph.gcn.phases import stored_phases
from tests.conftest import SHARED


def write_folder(root, rows: list[str], poses: dict[str, np.ndarray]):
    (root / "poses").mkdir(parents=True)
    (root / "counts.csv").write_text("name,exercise,count,subject,boundaries\n" + "".join(row + "\n" for row in rows))
    for name, values in poses.items():
        np.save(root / "poses" / f"{name}.npy", values)
    return root


def pose_rows(frames: int, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).random((frames, 104)).astype(np.float32)
    values[3] = 0  # nobody seen in frame 3
    return values


def test_videos_and_their_repetitions_are_stored_and_bad_ones_fail_alone(store, tmp_path):
    folder = write_folder(tmp_path / "rc", [
        "stu1_1,squat,2,stu1,0 10 10 25",
        "train7,push_up,1,,5 12",
        "stu1_2,squat,1,stu1,0 80",          # beyond its 40 frames: that file fails, named
        "stu1_3,squat,2,stu1,0 10",          # 2 numbers for a count of 2: the row is refused, named by line
        "stu1_4,squat,1,stu1,0 10",          # its pose file is missing
    ], {"stu1_1": pose_rows(30, 1), "train7": pose_rows(20, 2), "stu1_2": pose_rows(40, 3)})
    report = import_repcount(folder, store)
    assert len(report.imported) == 2
    failed = dict(report.failed)
    assert any("counts.csv:5" in where for where in failed) and any("stu1_2.npy" in why for why in failed.values())
    assert any("stu1_4.npy" in where for where in failed)
    rows = {row["label"] + "/" + (row["group"] or ""): row for row in store.videos().to_pylist() if row["status"] == "ok"}
    assert set(rows) == {"squat/stu1", "push_up/train7"}  # no subject: the video is its own group
    squat = rows["squat/stu1"]
    frames = store.read_video(squat["video_id"])
    assert len(frames.frame_indices) == 30
    labels = stored_phases(store, squat["video_id"], "blazepose33", "middle_end")
    assert list(labels).count("middle") > 0 and labels[25] == "end" and labels[26] == "within"


def test_a_folder_without_counts_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="counts.csv is missing"):
        read_counts(tmp_path)


def test_import_repcount_command(tmp_path, capsys):
    from posegraph.flows.cli import main

    folder = write_folder(tmp_path / "rc", ["stu2_1,jump_jack,2,stu2,0 10 10 20"], {"stu2_1": pose_rows(25, 4)})
    assert main(["import", "repcount", str(folder), "--store", str(tmp_path / "store"), "--quiet"]) == 0
    assert "imported 1 videos" in capsys.readouterr().out


@pytest.mark.skipif(not (SHARED / "testdata" / "repcount" / "counts.csv").exists(),
                    reason="../shared/testdata/repcount/ is not here")
def test_the_shared_repcount_folder_reads_whole():
    videos, refused = read_counts(SHARED / "testdata" / "repcount")
    assert not refused and len(videos) >= 70
    assert all(len(video.boundaries) == video.count for video in videos)
