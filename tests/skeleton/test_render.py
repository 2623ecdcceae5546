import cv2
import numpy as np
import pytest

from posegraph.data.synthetic import generate_sequence, make_subjects, render_corpus
from posegraph.data.rendering import render_stored_video
from posegraph.data.sources import resolve_video_id
from posegraph.skeleton import build_extractor, get_layout
from posegraph.skeleton.metrics import pck
from posegraph.skeleton.render import draw_skeleton, visibility_color
from tests.conftest import make_video, video_id


def test_joints_are_coloured_by_visibility_and_interpolated_ones_ringed():
    assert visibility_color(0.0) == (0, 0, 255) and visibility_color(1.0) == (0, 255, 0)
    joints = np.full((33, 4), np.nan, dtype=np.float32)
    joints[0] = [0.25, 0.5, 0, 1.0]
    joints[1] = [0.75, 0.5, 0, 0.0]
    interpolated = np.zeros(33, bool)
    interpolated[1] = True
    layout = get_layout("blazepose33")
    image = draw_skeleton(np.zeros((100, 100, 3), np.uint8), joints, layout, interpolated)
    plain = draw_skeleton(np.zeros((100, 100, 3), np.uint8), joints, layout)
    assert tuple(image[50, 25]) == (0, 255, 0) and tuple(image[50, 75]) == (0, 0, 255)
    changed = np.argwhere((image != plain).any(axis=2))
    assert len(changed) > 8  # a ring is drawn ...
    assert np.abs(changed - [50, 75]).max() <= 5  # ... around the interpolated joint only
    ring = image[changed[:, 0], changed[:, 1]].astype(int)
    assert (ring.max(axis=1) - ring.min(axis=1)).max() < 60  # grey/white, unlike the joint colours


@pytest.mark.parametrize("suffix", [".png", ".gif", ".mp4"])
def test_render_on_a_blank_canvas_when_the_video_is_gone(store, tmp_path, suffix):
    info, skeletons = make_video(video_id("ab"), frames=12)
    store.write_video(info.replace(source_path=str(tmp_path / "deleted.mp4"), width=160, height=120), skeletons)
    out = render_stored_video(store, "ab", tmp_path / f"overlay{suffix}")
    assert out.exists() and out.stat().st_size > 0
    if suffix == ".png":
        sheet = cv2.imread(str(out))
        assert sheet.shape == (240 + 28, 640, 3)  # 8 frames of 160x120 in two rows of four, the colour key below


def test_render_over_the_source_video(store, tmp_path, short_clips):
    info, skeletons = make_video(video_id("cd"), frames=3)
    store.write_video(info.replace(source_path=str(short_clips["kinetics_tai_chi"]), width=340, height=256),
                      skeletons)
    sheet = cv2.imread(str(render_stored_video(store, video_id("cd"), tmp_path / "sheet.png")))
    assert sheet.shape == (256 + 28, 340 * 4, 3)
    assert sheet[:256, :340].std() > 20  # real footage, not a flat canvas


def test_video_id_prefixes(store):
    store.write_videos([make_video(video_id("ab", 1)), make_video(video_id("ab", 2))])
    with pytest.raises(ValueError, match="matches 2 videos"):
        resolve_video_id(store, "ab")
    assert resolve_video_id(store, video_id("ab", 2)[:3]) == video_id("ab", 2)


@pytest.mark.slow
def test_mediapipe_detects_the_rendered_figure(tmp_path):
    sequence = generate_sequence("lateral_raise", make_subjects(1)[0], repetitions=1, width=320, height=240)
    manifest = render_corpus([sequence], tmp_path)
    result = build_extractor("blazepose").extract(tmp_path / "lateral_raise" / "s01_take0.mp4")
    assert manifest.read_text().splitlines()[1] == "lateral_raise/s01_take0.mp4,lateral_raise,train,s01"
    assert result.detected.mean() > 0.9
    size = np.array([320, 240])
    truth = sequence.clean_joints[result.frame_indices, :, :2] * size
    assert pck(result.joints[:, :, :2] * size, truth, 0.1) > 0.6


def test_pck_counts_joints_within_the_threshold():
    truth = np.zeros((1, 33, 2))
    truth[0, 11:13] = [0, 0]
    truth[0, 23:25] = [0, 10]  # torso size 10 -> threshold 1 pixel
    estimate = truth.copy()
    estimate[0, :11, 0] += 2.0  # 11 of 33 joints off by 2 pixels
    assert pck(estimate, truth, 0.1) == pytest.approx(22 / 33)


def test_render_cuts_scales_and_labels(store, tmp_path, monkeypatch):
    info, skeletons = make_video(video_id("ef"), frames=40)  # 16 fps: 2.5 s
    store.write_video(info.replace(source_path=str(tmp_path / "gone.mp4"), width=320, height=240), skeletons)
    whole = render_stored_video(store, "ef", tmp_path / "whole.gif")
    part = render_stored_video(store, "ef", tmp_path / "part.gif", scale=0.5, start_s=0.5, end_s=1.0)
    from PIL import Image

    with Image.open(part) as gif:
        assert gif.size == (160, 120 + 28) and gif.n_frames == 9  # frames at 0.5 .. 1.0 s, half size, key below
    assert part.stat().st_size < whole.stat().st_size / 4
    with Image.open(render_stored_video(store, "ef", tmp_path / "few.gif", max_frames=5)) as gif:
        assert gif.n_frames == 5
    from posegraph.data import rendering as visualize

    captured = []
    real_overlay = visualize.overlay
    monkeypatch.setattr(visualize, "overlay", lambda *a, captions=None, **k: (captured.extend(captions or []),
                                                                              real_overlay(*a, captions=captions, **k))[1])
    render_stored_video(store, "ef", tmp_path / "sheet.png", start_s=1.0, max_frames=2)
    assert captured == ["frame 16  1.00 s  squat", "frame 17  1.06 s  squat"]
    with pytest.raises(ValueError, match="no stored frames between 5 s"):
        render_stored_video(store, "ef", tmp_path / "x.gif", start_s=5)
    with pytest.raises(ValueError, match="--scale 0"):
        render_stored_video(store, "ef", tmp_path / "x.gif", scale=0)
