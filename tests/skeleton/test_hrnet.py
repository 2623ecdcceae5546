"""HRNet-W32: the official checkpoint format loads strictly; heatmaps decode as the reference."""

import json

import numpy as np
import pytest
import torch

from posegraph.skeleton import build_extractor
from posegraph.skeleton.hrnet import HRNet, load_checkpoint
from posegraph.skeleton.hrnet_extractor import decode_heatmaps
from posegraph.skeleton.person_boxes import Box, BoxTracker
from tests.conftest import SHARED

KEYS_FILE = SHARED / "reference" / "hrnet_w32_256x192_keys.json"


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(0)
    return HRNet(width=32, num_joints=17).eval()


@pytest.fixture(scope="module")
def random_checkpoint(network, tmp_path_factory):
    """Random weights saved exactly like the official file: a bare state_dict."""
    path = tmp_path_factory.mktemp("weights") / "pose_hrnet_w32_256x192.pth"
    torch.save(network.state_dict(), path)
    return path


def test_state_dict_matches_the_official_checkpoint_keys_and_shapes(network):
    if not KEYS_FILE.exists():
        pytest.skip(f"{KEYS_FILE} not found (shared reference facts)")
    official = json.loads(KEYS_FILE.read_text())
    ours = {key: list(value.shape) for key, value in network.state_dict().items()}
    assert ours == official
    assert sum(p.numel() for p in network.parameters()) == 28_536_113


def test_random_weights_load_strictly_and_give_17_heatmaps(random_checkpoint, network):
    loaded = HRNet(width=32, num_joints=17)
    loaded.load_state_dict(load_checkpoint(random_checkpoint), strict=True)
    loaded.eval()
    image = torch.randn(1, 3, 256, 192)
    with torch.no_grad():
        heatmaps = loaded(image)
        assert heatmaps.shape == (1, 17, 64, 48)
        torch.testing.assert_close(heatmaps, network(image))


def test_checkpoint_errors_are_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="--weights"):
        load_checkpoint(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a loadable PyTorch checkpoint"):
        load_checkpoint(tmp_path / "junk.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv1.weight": torch.zeros(1)}, wrong)
    with pytest.raises(RuntimeError, match="Missing key"):
        HRNet().load_state_dict(load_checkpoint(wrong), strict=True)


def test_quarter_pixel_shift_towards_the_higher_neighbour():
    heatmaps = np.zeros((1, 2, 64, 48), dtype=np.float32)
    heatmaps[0, 0, 10, 20] = 1.0
    heatmaps[0, 0, 10, 21] = 0.5  # right neighbour higher -> +0.25 in x
    heatmaps[0, 0, 9, 20] = 0.3  # upper neighbour higher -> -0.25 in y
    heatmaps[0, 1, 0, 0] = 0.7  # on the border: no shift
    points, confidence = decode_heatmaps(heatmaps)
    np.testing.assert_allclose(points[0, 0], [20.25, 9.75])
    np.testing.assert_allclose(points[0, 1], [0.0, 0.0])
    np.testing.assert_allclose(confidence[0], [1.0, 0.7])


def test_boxes_expand_to_three_by_four_and_are_tracked():
    wide = Box(100, 100, 120, 60).expanded_to_model_aspect(padding=1.0)
    assert wide.width / wide.height == pytest.approx(0.75) and wide.width == 120
    tall = Box(100, 100, 30, 200).expanded_to_model_aspect()
    assert tall.width / tall.height == pytest.approx(0.75) and tall.height == pytest.approx(250)
    tracker = BoxTracker(hold_frames=2)
    first = tracker.update([Box(50, 50, 20, 40)])
    assert tracker.update([Box(200, 50, 30, 60), Box(52, 50, 20, 40)]).center_x == pytest.approx(51)
    assert tracker.update([]) is not None and tracker.update([]) is not None
    assert tracker.update([]) is None and first.center_x == 50


def test_hrnet_extractor_on_a_real_clip_with_random_weights(random_checkpoint, short_clips):
    extractor = build_extractor("hrnet", weights=random_checkpoint, target_fps=2)
    result = extractor.extract(short_clips["kinetics_clean_and_jerk"])
    assert result.layout == "coco17" and result.joints.shape == (4, 17, 4)
    assert result.detected.all()  # the person box comes from MediaPipe's bundled detector
    detected = result.joints[result.detected]
    assert np.isfinite(detected[..., :2]).all() and np.isnan(detected[..., 2]).all()
    assert result.extractor_version.startswith("hrnet-w32-256x192/")
