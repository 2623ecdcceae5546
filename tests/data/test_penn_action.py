import shutil
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from scipy.io import loadmat, savemat

from posegraph.data import SkeletonStore
from posegraph.data.penn_action import (import_penn_action, penn_action_files, read_penn_file,
                                        stratified_validation_split)
from posegraph.data.schema import VIDEOS_SCHEMA

PENN = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "penn_action" / "train"
REAL_FILES = ("0002.mat", "0329.mat", "0693.mat", "1103.mat", "1535.mat", "1956.mat")  # six actions


def write_penn(path: Path, action: str = "squat", view: str = "front", frames: int = 6,
               width: int = 640, height: int = 480, **changes: object) -> Path:
    """A synthetic Penn Action file (random pixels, every joint visible); ``None`` drops a key."""
    random = np.random.default_rng(zlib.crc32(path.name.encode()))
    content = {
        "action": np.array([action]), "pose": np.array([view]),
        "x": random.uniform(0, width, (frames, 13)), "y": random.uniform(0, height, (frames, 13)),
        "visibility": np.ones((frames, 13), np.uint8), "bbox": np.zeros((frames, 4)),
        "dimensions": np.array([[height, width, frames]], np.uint16),
        "nframes": np.array([[frames]], np.uint8), "train": np.array([[1]], np.int32),
    }
    content.update(changes)
    savemat(path, {key: value for key, value in content.items() if value is not None})
    return path


@pytest.fixture
def real_penn(tmp_path: Path) -> Path:
    """Six real files plus a truncated copy and a text file named .mat, in tmp_path."""
    if not all((PENN / name).exists() for name in REAL_FILES):
        pytest.skip(f"Penn Action files not found in {PENN} (see shared/testdata/SOURCES.md)")
    folder = tmp_path / "penn"
    folder.mkdir()
    for name in REAL_FILES:
        shutil.copy(PENN / name, folder / name)
    raw = (PENN / REAL_FILES[0]).read_bytes()
    (folder / "9001_truncated.mat").write_bytes(raw[: len(raw) // 2])
    (folder / "9002_text.mat").write_text("frame,x,y\n1,20,30\n")
    return folder


def test_real_files_are_stored_as_penn13_fractions_of_the_frame(real_penn, tmp_path):
    store = SkeletonStore(tmp_path / "store")
    report = import_penn_action(real_penn, store)
    assert len(report.imported) == 6
    failed = {Path(path).name: reason for path, reason in report.failed}
    assert set(failed) == {"9001_truncated.mat", "9002_text.mat"}
    assert "truncated: the variable at byte" in failed["9001_truncated.mat"]
    assert "not a MATLAB 5.0 file: it starts with b'frame,x,y" in failed["9002_text.mat"]
    rows = {Path(row["source_path"]).name: row for row in store.videos().to_pylist()}
    assert rows["9001_truncated.mat"]["status"] == "failed"
    assert rows["9001_truncated.mat"]["reason"] == failed["9001_truncated.mat"]
    assert rows["9002_text.mat"]["split"] is None
    labels = set()
    for name in REAL_FILES:
        mat, row = loadmat(PENN / name), rows[name]
        height, width, frames = (int(value) for value in mat["dimensions"].ravel())
        assert Path(row["source_path"]).is_absolute()
        assert (row["status"], row["layout"], row["label"], row["view"]) == (
            "ok", "penn13", str(mat["action"][0]), str(mat["pose"][0]))
        assert (row["width"], row["height"], row["frame_count"]) == (width, height, frames)
        assert row["source_fps"] == row["sampled_fps"] == 30.0
        assert row["split"] in ("train", "val")
        assert row["extractor"] == "penn-action-annotation"
        stored = store.read_video(row["video_id"])
        assert stored.joints.shape == (frames, 13, 4)
        np.testing.assert_allclose(stored.joints[..., 0], mat["x"] / width, rtol=1e-6)
        np.testing.assert_allclose(stored.joints[..., 1], mat["y"] / height, rtol=1e-6)
        assert ((stored.joints[..., :2] >= 0) & (stored.joints[..., :2] <= 1)).all()
        assert np.isnan(stored.joints[..., 2]).all()
        np.testing.assert_array_equal(stored.joints[..., 3], mat["visibility"])
        np.testing.assert_array_equal(stored.detected, mat["visibility"].any(axis=1))
        np.testing.assert_allclose(stored.timestamps, np.arange(frames) / 30.0)
        labels.add(row["label"])
    assert len(labels) == 6


def test_reimport_adds_no_rows_and_keeps_the_split(real_penn, tmp_path):
    store = SkeletonStore(tmp_path / "store")
    import_penn_action(real_penn, store, val_fraction=0.5)
    first = {row["video_id"]: row["split"] for row in store.videos().to_pylist()}
    import_penn_action(real_penn, store, val_fraction=0.5)
    assert {row["video_id"]: row["split"] for row in store.videos().to_pylist()} == first
    assert len(first) == 8


@pytest.mark.parametrize("changes, reason", [
    ({"visibility": None, "nframes": None},
     "missing visibility, nframes (variables found: action, bbox"),
    ({"y": np.zeros((5, 13))},
     "x, y and visibility should have the same shape, got x (6, 13), y (5, 13)"),
    ({"x": np.zeros((6, 12))},
     "x should be a frames x 13 matrix of numbers, got float64 array of shape (6, 12)"),
    ({"nframes": np.array([[7]])},
     "frame counts disagree: nframes 7, dimensions 6, x/y/visibility 6 rows"),
    ({"dimensions": np.array([[480, 640, 9]])}, "frame counts disagree: nframes 6, dimensions 9"),
    ({"dimensions": np.array([[480, 0, 6]])}, "dimensions should be 3 positive whole number(s)"),
    ({"x": np.where(np.eye(6, 13) > 0, np.nan, 1.0)},
     "x or y hold 6 non-finite values (first: frame 0, head)"),
    ({"visibility": np.full((6, 13), 2, np.uint8)}, "visibility should hold only 0 and 1, found 2"),
    ({"pose": np.array(["top"])},
     "pose (the view) is 'top', expected one of front, back, left, right"),
    ({"action": np.array([[1.0]])}, "action should be one non-empty string, got float64"),
])
def test_format_errors_name_the_problem(tmp_path, changes, reason):
    path = write_penn(tmp_path / "clip.mat", **changes)
    info, skeletons, problem = read_penn_file(path)
    assert skeletons is None and info.status == "failed"
    assert problem is not None and problem.startswith("not in the Penn Action format: ")
    assert reason in problem
    assert info.reason == problem


def test_a_clip_with_no_visible_joint_is_rejected_but_stored(tmp_path):
    folder = tmp_path / "penn"
    folder.mkdir()
    write_penn(folder / "hidden.mat", visibility=np.zeros((6, 13), np.uint8))
    write_penn(folder / "one_frame_hidden.mat",
               visibility=np.vstack([np.zeros((1, 13)), np.ones((5, 13))]).astype(np.uint8))
    store = SkeletonStore(tmp_path / "store")
    report = import_penn_action(folder, store)
    assert report.failed == [] and len(report.imported) == 2
    rows = {Path(row["source_path"]).name: row for row in store.videos().to_pylist()}
    hidden, partly = rows["hidden.mat"], rows["one_frame_hidden.mat"]
    assert (hidden["status"], hidden["split"]) == ("rejected", None)
    assert hidden["reason"] == "no visible joint in any frame"
    assert store.read_video(hidden["video_id"]).joints.shape == (6, 13, 4)
    assert partly["status"] == "ok" and partly["detection_rate"] == pytest.approx(5 / 6)
    assert store.read_video(partly["video_id"]).detected.tolist() == [False] + [True] * 5


def test_bad_files_do_not_stop_the_import(tmp_path):
    folder = tmp_path / "penn"
    (folder / "nested").mkdir(parents=True)
    write_penn(folder / "a.mat", action="squat")
    write_penn(folder / "nested" / "b.mat", action="pushup", view="left")
    write_penn(folder / "c.mat", y=np.zeros((4, 13)))
    (folder / "d.mat").write_bytes(b"")
    (folder / "notes.txt").write_text("not a clip")
    seen = []
    report = import_penn_action(folder, SkeletonStore(tmp_path / "store"),
                                on_file=lambda path, problem: seen.append((path.name, problem is None)))
    assert sorted(seen) == [("a.mat", True), ("b.mat", True), ("c.mat", False), ("d.mat", False)]
    rows = SkeletonStore(tmp_path / "store").videos().to_pylist()
    assert sorted((Path(row["source_path"]).name, row["status"]) for row in rows) == [
        ("a.mat", "ok"), ("b.mat", "ok"), ("c.mat", "failed"), ("d.mat", "failed")]
    assert {row["view"] for row in rows} == {"front", "left", None}
    assert len(report.failed) == 2


def test_stratified_validation_split_is_seeded_and_per_label():
    sizes = {f"action{number:02d}": 17 + 9 * number for number in range(15)}
    labels = [label for label, size in sizes.items() for _ in range(size)]
    labels = [labels[index] for index in np.random.default_rng(1).permutation(len(labels))]
    split = stratified_validation_split(labels, 0.1, seed=3)
    assert split == stratified_validation_split(labels, 0.1, seed=3)
    assert split != stratified_validation_split(labels, 0.1, seed=4)
    val = Counter(label for label, name in zip(labels, split) if name == "val")
    assert val == {label: int(np.floor(0.1 * size + 0.5)) for label, size in sizes.items()}
    assert set(split) == {"train", "val"}
    # a label's split does not depend on the other labels
    alone = [label for label in labels if label == "action03"]
    assert stratified_validation_split(alone, 0.1, seed=3) == [
        name for label, name in zip(labels, split) if label == "action03"]
    assert stratified_validation_split(labels, 0.0) == ["train"] * len(labels)
    with pytest.raises(ValueError, match="val_fraction must lie in 0..1, got 1.5"):
        stratified_validation_split(labels, 1.5)


def test_import_split_is_seeded_and_ignores_file_names(tmp_path):
    folder, renamed = tmp_path / "penn", tmp_path / "renamed"
    folder.mkdir()
    renamed.mkdir()
    for number in range(40):
        path = write_penn(folder / f"{number:04d}.mat", action=("squat", "pushup")[number % 2])
        shutil.copy(path, renamed / f"x{999 - number}.mat")

    def splits(source: Path, name: str, seed: int) -> dict[str, str]:
        store = SkeletonStore(tmp_path / name)
        import_penn_action(source, store, val_fraction=0.25, seed=seed)
        return {row["video_id"]: (row["label"], row["split"]) for row in store.videos().to_pylist()}

    first = splits(folder, "one", seed=0)
    assert splits(renamed, "two", seed=0) == first
    assert splits(folder, "three", seed=1) != first
    assert Counter(first.values()) == {("squat", "val"): 5, ("squat", "train"): 15,
                                       ("pushup", "val"): 5, ("pushup", "train"): 15}


def test_penn_action_files_explain_a_wrong_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither a folder nor a Penn Action .mat file"):
        penn_action_files(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no .mat files under"):
        penn_action_files(tmp_path)
    single = write_penn(tmp_path / "one.mat")
    assert penn_action_files(single) == [single]


def test_stores_written_before_the_view_column_still_read(tmp_path):
    store = SkeletonStore(tmp_path / "store")
    old_schema = pa.schema([field for field in VIDEOS_SCHEMA if field.name != "view"],
                           metadata=VIDEOS_SCHEMA.metadata)
    old_row = {"video_id": "ab" + "0" * 62, "layout": "penn13", "status": "ok"}
    old_rows = pa.Table.from_pylist([old_row], schema=old_schema)
    store.tables["videos"].replace(old_rows.append_column("bucket", pa.array(["ab"])), None, {})
    folder = tmp_path / "penn"
    folder.mkdir()
    write_penn(folder / "a.mat", view="back")
    import_penn_action(folder, store)
    # by the whole id: a new id's hash starts with "ab" one time in 256
    views = sorted((row["video_id"] == old_row["video_id"], row["view"]) for row in store.videos().to_pylist())
    assert views == [(False, "back"), (True, None)]
