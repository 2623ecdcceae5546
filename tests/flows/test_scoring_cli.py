"""`posegraph scoring fit` and `posegraph score` end to end on the synthetic store: JSON, picture,
scores table, the exercise's source, and the errors people hit."""

import json
import shutil

import cv2
import numpy as np
import pytest

from posegraph.data import SkeletonStore
from posegraph.data.query import run_query
from posegraph.flows.cli import build_parser, main

JSON_FIELDS = {"mean_score", "frame_scores", "joint_scores", "running_score", "worst_joints",
               "exercise", "exercise_source", "reference", "method"}


@pytest.fixture(scope="module")
def store(synthetic_store, tmp_path_factory) -> SkeletonStore:
    """A copy of the session's synthetic store: scores written here touch no other test."""
    copy = tmp_path_factory.mktemp("scoring") / "store"
    shutil.copytree(synthetic_store.root, copy)
    return SkeletonStore(copy, create=False)


@pytest.fixture(scope="module")
def reference(store, tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "squat.json"
    assert main(["scoring", "fit", "--store", str(store.root), "--exercise", "squat", "--split", "train",
                 "--out", str(path)]) == 0
    return path


@pytest.fixture(scope="module")
def coco_reference(store, tmp_path_factory):
    """A squat reference of another layout (coco17)."""
    from posegraph.scoring import FormReference
    from posegraph.skeleton import convert

    squats = [store.read_video(row["video_id"]).joints for row in store.videos().to_pylist()
              if row["label"] == "squat"][:4]
    return FormReference.fit([convert(joints, "blazepose33", "coco17") for joints in squats], layout="coco17",
                             exercise="squat").save(tmp_path_factory.mktemp("coco") / "coco.json")


def held_out(store, label: str) -> dict:
    return next(row for row in store.videos().to_pylist() if row["label"] == label and row["split"] == "test")


def colour_pixels(path) -> tuple[int, int]:
    """Pixels of saturated green and of saturated red in a picture (BGR)."""
    image = cv2.imread(str(path)).astype(int)
    blue, green, red = image[..., 0], image[..., 1], image[..., 2]
    return int(((green > 200) & (red < 90) & (blue < 90)).sum()), int(((red > 200) & (green < 90) & (blue < 90)).sum())


def test_fit_records_the_videos_it_used(reference, store):
    document = json.loads(reference.read_text())
    train_squats = {row["video_id"] for row in store.videos().to_pylist()
                    if row["label"] == "squat" and row["split"] == "train"}
    assert document["exercise"] == "squat" and set(document["videos"]) == train_squats
    assert "score" in build_parser().format_help()


def test_fit_by_video_ids_with_options_prints_a_summary(store, tmp_path, capsys):
    ids = sorted(row["video_id"][:10] for row in store.videos().to_pylist() if row["label"] == "squat")[:3]
    out = tmp_path / "three.json"
    assert main(["scoring", "fit", "--store", str(store.root), "--exercise", "squat", "--videos", *ids,
                 "--set", "max_frames=200", "--set", "mirror=false", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "exercise squat, layout blazepose33, 3 videos" in text and "phases found:" in text
    document = json.loads(out.read_text())
    assert document["parameters"]["max_frames"] == 200 and document["parameters"]["mirror"] is False
    assert document["frames"]["sampled"] == 200


def test_score_a_stored_squat_json_picture_and_scores_table(store, reference, tmp_path, capsys):
    row = held_out(store, "squat")
    picture = tmp_path / "squat.png"
    assert main(["score", row["video_id"][:12], "--reference", str(reference), "--store", str(store.root),
                 "--json", "--out", str(picture)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == JSON_FIELDS
    frames = row["frame_count"]
    assert len(result["frame_scores"]) == len(result["running_score"]) == frames
    assert np.shape(result["joint_scores"]) == (frames, 33) and len(result["worst_joints"]) == 3
    assert result["mean_score"] > 80  # a good squat of an unseen subject
    assert result["exercise"] == "squat" and result["exercise_source"] == "the store's label"
    assert result["reference"] == {"path": str(reference), "name": "squat", "exercise": "squat",
                                   "layout": "blazepose33"}
    assert result["method"] == "phase"
    assert picture.stat().st_size > 0
    green, _ = colour_pixels(picture)
    assert green > 100  # joints drawn green: scored well
    stored = run_query(store, f"SELECT count(*) AS n, count(DISTINCT frame_index) AS frames, "
                              f"any_value(reference) AS reference, any_value(method) AS method, "
                              f"round(avg(frame_score), 1) AS mean FROM scores "
                              f"WHERE video_id = '{row['video_id']}'").to_pylist()[0]
    assert stored["n"] == frames * 33 and stored["frames"] == frames
    assert (stored["reference"], stored["method"]) == ("squat", "phase")
    assert stored["mean"] == pytest.approx(result["mean_score"], abs=0.1)


def test_a_push_up_against_the_squat_reference_scores_low_and_says_so(store, reference, tmp_path, capsys):
    squat, push_up = held_out(store, "squat"), held_out(store, "push_up")
    picture = tmp_path / "push_up.png"
    assert main(["score", squat["video_id"], "--reference", str(reference), "--store", str(store.root),
                 "--method", "joint"]) == 0
    good = capsys.readouterr().out
    assert main(["score", push_up["video_id"], "--reference", str(reference), "--store", str(store.root),
                 "--exercise", "push_up", "--out", str(picture)]) == 0
    captured = capsys.readouterr()
    assert "not to good push_up form" in captured.err
    assert "exercise: push_up (from --exercise); not the reference's exercise (squat)" in captured.out
    assert "worst joints:" in captured.out and f"picture: {picture}" in captured.out
    assert "method joint" in good
    _, red = colour_pixels(picture)
    assert red > 100  # joints drawn red: far from any squat pose
    means = run_query(store, "SELECT exercise, method, avg(frame_score) AS mean FROM scores "
                             "WHERE reference_exercise = 'squat' GROUP BY ALL").to_pylist()
    mean = {(row["exercise"], row["method"]): row["mean"] for row in means}
    assert mean["squat", "phase"] > mean["push_up", "phase"] + 50
    assert ("squat", "joint") in mean  # another method: stored beside, not over, the phase scores


def test_the_exercise_from_a_classifier_checkpoint(store, reference, tmp_path, capsys):
    import torch

    from posegraph.gcn import build_model
    from posegraph.gcn.checkpoint import save_checkpoint
    from posegraph.gcn.config import load_config
    from posegraph.gcn.preprocess import Normalization

    config = load_config(None, [], model="stgcn")
    model = build_model("stgcn", "blazepose33", 2, 3, config.num_persons, **config.model_options())
    state = model.state_dict()
    state["fcn.bias"] = torch.tensor([20.0, -20.0])  # always "lunge", with certainty
    checkpoint = tmp_path / "lunge.pt"
    save_checkpoint(checkpoint, state, model="stgcn", layout="blazepose33", class_names=["lunge", "squat"],
                    config=config.to_dict(), normalization=Normalization().to_dict(),
                    num_persons=config.num_persons, in_channels=3)
    row = held_out(store, "squat")
    assert main(["score", row["video_id"], "--reference", str(reference), "--store", str(store.root),
                 "--checkpoint", str(checkpoint), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["exercise"] == "lunge"
    assert result["exercise_source"] == f"classified by {checkpoint}, 100%"
    assert "the video's exercise is 'lunge'" in captured.err


def test_errors_people_make_exit_2_with_a_message(store, reference, coco_reference, tmp_path, capsys):
    squat = held_out(store, "squat")["video_id"]
    arguments = ["--reference", str(reference), "--store", str(store.root)]
    cases = [
        (["score", squat, "--reference", str(tmp_path / "none.json"), "--store", str(store.root)],
         "no form reference at"),
        (["score", "f" * 12, *arguments], "no video id starts with 'ffffffffffff'"),
        (["score", str(tmp_path / "gone.mp4"), *arguments], "gone.mp4: no such file"),
        (["score", squat, *arguments, "--out", str(tmp_path / "x.jpg")], "choose a picture (.png)"),
        (["score", squat, "--reference", str(reference)], "to use a stored video id, pass --store"),
        (["scoring", "fit", "--store", str(store.root), "--exercise", "deadlift", "--out", str(tmp_path / "d.json")],
         "no ok videos labelled 'deadlift'"),
        (["scoring", "fit", "--store", str(store.root), "--exercise", "squat", "--set", "speed=2",
          "--out", str(tmp_path / "d.json")], "expected KEY=VALUE with KEY one of"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    assert main(["score", squat, "--reference", str(coco_reference), "--store", str(store.root)]) == 2
    assert "stored in layout(s) blazepose33, not in coco17" in capsys.readouterr().err


@pytest.mark.slow
def test_a_video_file_goes_through_blazepose_or_the_store(store, reference, coco_reference, tmp_path, capsys):
    from posegraph.data.records import Skeletons, VideoInfo
    from posegraph.data.synthetic import generate_sequence, make_subjects, render_corpus
    from posegraph.scoring.sources import file_sha256
    from posegraph.skeleton.render import write_video

    sequence = generate_sequence("squat", make_subjects(1)[0], repetitions=1, width=320, height=240)
    render_corpus([sequence], tmp_path)
    video = tmp_path / "squat" / "s01_take0.mp4"
    overlay = tmp_path / "overlay.mp4"
    assert main(["score", str(video), *["--reference", str(reference), "--store", str(store.root)],
                 "--exercise", "squat", "--out", str(overlay)]) == 0
    text = capsys.readouterr().out
    assert "(BlazePose," in text and "not stored:" in text and overlay.stat().st_size > 0
    assert main(["score", str(video), "--reference", str(coco_reference)]) == 2
    assert "a video file is extracted with BlazePose (blazepose33)" in capsys.readouterr().err
    capture = cv2.VideoCapture(str(overlay))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == len(sequence.joints)
    capture.release()
    digest = file_sha256(video)  # the same file extracted into the store: read from there
    store.write_video(VideoInfo(digest, "blazepose33", str(video), label="squat", width=320, height=240),
                      Skeletons.single("blazepose33", sequence.joints, sequence.detected, sequence.timestamps))
    assert main(["score", str(video), "--reference", str(reference), "--store", str(store.root)]) == 0
    assert f"(stored as {digest[:12]}" in capsys.readouterr().out
    blank = write_video((np.full((120, 160, 3), 90, np.uint8) for _ in range(8)), tmp_path / "empty.mp4", 8)
    assert main(["score", str(blank), "--reference", str(reference)]) == 2
    assert "no person detected" in capsys.readouterr().err
