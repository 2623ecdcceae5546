import json
from pathlib import Path

import numpy as np
import pytest

from posegraph.data import SkeletonStore
from posegraph.data.kinetics import import_kinetics, write_kinetics_json

WIDTH, HEIGHT = 340, 256


def person(x_pixels: float, y_pixels: float, confidence: float) -> tuple[list[float], list[float]]:
    """An OpenPose person at a pixel position, normalised by the frame size as in the dataset."""
    pose = []
    for joint in range(18):
        pose += [round((x_pixels + joint) / WIDTH, 3), round((y_pixels + 2 * joint) / HEIGHT, 3)]
    score = [confidence] * 18
    score[17] = 0.0  # a missing joint: OpenPose writes 0, 0 with score 0
    pose[34:36] = [0.0, 0.0]
    return pose, score


@pytest.fixture
def kinetics_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "kinetics_val"
    folder.mkdir()
    crowd = [person(10 * k, 20, 0.1 + 0.15 * k) for k in range(5)]  # five people, k=4 best
    write_kinetics_json(folder / "crowd.json", [crowd, [], crowd[:1]], "squat", 301)
    write_kinetics_json(folder / "single.json", [[person(100, 50, 0.9)]] * 4, "lunge", 200)
    (folder / "broken.json").write_text('{"data": [')
    (folder / "short_pose.json").write_text(json.dumps(
        {"data": [{"frame_index": 1, "skeleton": [{"pose": [0.1, 0.2], "score": [0.5]}]}], "label": "x"}))
    (folder / "not_kinetics.json").write_text(json.dumps({"frames": []}))
    return folder


def test_import_keeps_the_two_most_confident_people(kinetics_dir, tmp_path):
    store = SkeletonStore(tmp_path / "store")
    report = import_kinetics(kinetics_dir, store, split="val")
    assert len(report.imported) == 2
    rows = {Path(row["source_path"]).name: row for row in store.videos().to_pylist()}
    crowd = rows["crowd.json"]
    assert (crowd["label"], crowd["layout"], crowd["split"], crowd["frame_count"]) == ("squat", "openpose18", "val", 3)
    assert (crowd["width"], crowd["height"]) == (340, 256)  # the release's frame size: aspect-correctable
    best = store.read_video(crowd["video_id"], person=0)
    second = store.read_video(crowd["video_id"], person=1)
    np.testing.assert_allclose(best.joints[0, 0, :2], [40 / WIDTH, 20 / HEIGHT], atol=1e-3)  # k=4
    np.testing.assert_allclose(second.joints[0, 0, :2], [30 / WIDTH, 20 / HEIGHT], atol=1e-3)  # k=3
    np.testing.assert_allclose(best.joints[0, 0, 3], 0.7, atol=1e-6)
    np.testing.assert_array_equal(best.joints[0, 17], [0, 0, np.nan, 0])  # kept as OpenPose wrote it
    assert best.detected.tolist() == [True, False, True]  # the empty frame is kept, not detected
    assert second.detected.tolist() == [True, False, False]
    assert crowd["detection_rate"] == pytest.approx(2 / 3)
    np.testing.assert_allclose(best.timestamps, [0, 1 / 30, 2 / 30])


def test_malformed_files_are_reported_and_recorded(kinetics_dir, tmp_path):
    store = SkeletonStore(tmp_path / "store")
    report = import_kinetics(kinetics_dir, store)
    failed = {Path(path).name: reason for path, reason in report.failed}
    assert set(failed) == {"broken.json", "short_pose.json", "not_kinetics.json"}
    assert "not valid JSON" in failed["broken.json"]
    assert "pose should be a list of 36 numbers, got 2" in failed["short_pose.json"]
    assert 'expected a JSON object with a "data" list' in failed["not_kinetics.json"]
    statuses = {Path(row["source_path"]).name: row["status"] for row in store.videos().to_pylist()}
    assert statuses == {"crowd.json": "ok", "single.json": "ok", "broken.json": "failed",
                        "short_pose.json": "failed", "not_kinetics.json": "failed"}


def test_reimport_adds_no_rows(kinetics_dir, tmp_path):
    store = SkeletonStore(tmp_path / "store")
    import_kinetics(kinetics_dir, store)
    import_kinetics(kinetics_dir, store)
    assert store.videos().num_rows == 5


def _file_with_pose(folder: Path, name: str, first_value: str) -> None:
    pose = ", ".join([first_value] + ["0.5"] * 35)
    score = ", ".join(["0.9"] * 18)
    (folder / name).write_text('{"data": [{"frame_index": 1, "skeleton": [{"pose": [%s], "score": [%s]}]}], '
                               '"label": "squat"}' % (pose, score))


def test_hostile_files_fail_alone_and_never_cost_the_good_ones(tmp_path):
    folder = tmp_path / "hostile"
    folder.mkdir()
    write_kinetics_json(folder / "good.json", [[person(100, 50, 0.9)]] * 4, "lunge", 200)
    (folder / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (folder / "huge_index.json").write_text(json.dumps(
        {"data": [{"frame_index": 2**40, "skeleton": [{"pose": [0.5] * 36, "score": [0.9] * 18}]}]}))
    (folder / "bool_index.json").write_text(json.dumps(
        {"data": [{"frame_index": True, "skeleton": [{"pose": [0.5] * 36, "score": [0.9] * 18}]}]}))
    for name, value in [("overflow", "1e400"), ("nan", "NaN"), ("infinity", "Infinity"), ("null", "null"),
                        ("true", "true"), ("string", '"0.5"')]:
        _file_with_pose(folder, f"{name}.json", value)
    store = SkeletonStore(tmp_path / "store")
    report = import_kinetics(folder, store)
    failed = {Path(path).stem: reason for path, reason in report.failed}
    assert len(report.imported) == 1 and set(failed) == {
        "deep", "huge_index", "bool_index", "overflow", "nan", "infinity", "null", "true", "string"}
    assert "nested too deeply" in failed["deep"]
    assert "outside 0..2147483647" in failed["huge_index"]
    assert all("not a number" in failed[name] or "not a finite number" in failed[name]
               for name in ("overflow", "nan", "infinity", "null", "true", "string"))
    videos = store.videos()
    assert sorted(videos["status"].to_pylist()) == ["failed"] * 9 + ["ok"]
    good = [row for row in videos.to_pylist() if row["status"] == "ok"][0]
    assert np.isfinite(store.read_video(good["video_id"]).joints[..., :2]).all()
