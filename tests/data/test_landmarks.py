"""posegraph import landmarks: .npy, MediaPipe-style JSON and CSV; zero rows undetected; bad files fail alone."""

import json

import numpy as np

from posegraph.data.landmarks import import_landmarks
from posegraph.flows.cli import main


def test_every_format_imports_with_zero_rows_as_not_detected(store, tmp_path):
    folder = tmp_path / "squat"
    folder.mkdir()
    values = np.random.default_rng(0).random((12, 33, 4)).astype(np.float32)
    values[3] = 0.0  # nobody in frame 3
    np.save(folder / "a.npy", values)
    np.save(folder / "b.npy", values[..., :2].reshape(12, 66))  # (T, V*C), C = 2
    frames = [[{"x": float(x), "y": float(y), "z": float(z), "visibility": float(v)} for x, y, z, v in frame]
              for frame in values[:8]]
    frames[2] = []
    (folder / "c.json").write_text(json.dumps(frames))
    rows = "\n".join(",".join(f"{v:.6f}" for v in frame[:, :3].reshape(-1)) for frame in values[:5])
    (folder / "d.csv").write_text("header," * 98 + "h\n" + rows + "\n")
    report = import_landmarks(folder, store, fps=25.0)
    assert len(report.imported) == 4 and not report.failed
    by_path = {row["source_path"].rsplit("/", 1)[-1]: row for row in store.videos().to_pylist()}
    assert {row["label"] for row in by_path.values()} == {"squat"} and by_path["a.npy"]["sampled_fps"] == 25.0
    stored = store.read_video(by_path["a.npy"]["video_id"])
    assert not stored.detected[3] and np.isnan(stored.joints[3]).all()
    np.testing.assert_allclose(stored.joints[5], values[5], rtol=1e-6)
    two = store.read_video(by_path["b.npy"]["video_id"]).joints
    assert np.isnan(two[..., 2]).all() and (two[np.isfinite(two[..., 3]), 3] == 1).all()
    assert not store.read_video(by_path["c.json"]["video_id"]).detected[2]
    np.testing.assert_allclose(store.read_video(by_path["d.csv"]["video_id"]).joints[1, :, :3], values[1, :, :3], atol=1e-5)


def test_bad_files_are_recorded_as_failed_by_name_and_the_rest_import(tmp_path, capsys):
    folder = tmp_path / "lunge"
    folder.mkdir()
    np.save(folder / "good.npy", np.random.default_rng(1).random((6, 17, 3)))
    np.save(folder / "wrong.npy", np.zeros((6, 5, 3)))
    (folder / "broken.json").write_text("[{")
    (folder / "words.csv").write_text("1,2,3\nfour,five,six\n")
    store = tmp_path / "store"
    assert main(["import", "landmarks", str(folder), "--store", str(store), "--layout", "coco17", "--quiet"]) == 1
    out = capsys.readouterr()
    assert "imported 1 videos" in out.out and "3 malformed" in out.out
    for name in ("wrong.npy", "broken.json", "words.csv"):
        assert name in out.err
    from posegraph.data import SkeletonStore

    rows = SkeletonStore(store).videos().to_pylist()
    failed = {row["source_path"].rsplit("/", 1)[-1]: row["reason"] for row in rows if row["status"] == "failed"}
    assert set(failed) == {"wrong.npy", "broken.json", "words.csv"}
    assert all(name in reason for name, reason in failed.items())
