"""The analysis report opens in a real browser from disk, without a network: headless Chromium
(Debian's ``chromium`` package) renders it; its DOM holds the counter and the charts and its
screenshot shows the score bars' colours."""

import shutil
import subprocess

import numpy as np
import pytest

from posegraph.scoring.analysis_html import _colour, write_analysis_html
from posegraph.scoring.analysis_report import AnalysisReport

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",  # any fetch fails
         "--window-size=900,1200", "--hide-scrollbars"]


def document() -> dict:
    repetitions = [{"repetition": n, "set": 1, "start_s": 2.0 * n - 2, "turn_s": 2.0 * n - 1, "end_s": 2.0 * n,
                    "score": 95.0, "worst_joints": [], "depth": 1.0, "swing_deg": {}, "there_s": 1.0, "back_s": 1.0}
                   for n in (1, 2, 3)]
    return {"schema": "posegraph-analysis/1", "video": "squat.mp4", "how_read": "BlazePose", "duration_s": 6.0,
            "exercise": {"answer": "squat", "rejected": False, "threshold": 0.5,
                         "top": [{"class": "squat", "probability": 0.97}]},
            "muscles": [], "count": 3,
            "sets": [{"set": 1, "start_frame": 0, "end_frame": 96, "start_s": 0.0, "end_s": 6.0, "count": 3,
                      "period_s": 2.0}],
            "repetitions": repetitions,
            "cues": [{"text": "rep 2: left knee furthest from good form", "kind": "joint", "repetitions": [2],
                      "joints": ["left_knee"]}],
            "form": {"mean_score": 95.0, "reference": "references/squat.json",
                     "heatmap": {"joints": ["left_knee", "right_knee"], "times_s": [0.0, 3.0, 6.0],
                                 "scores": [[95.0, 90.0, None], [99.0, 98.0, 97.0]]}},
            "notes": []}


def test_the_report_renders_in_headless_chromium_with_the_counter_and_the_charts(tmp_path):
    page = write_analysis_html(AnalysisReport.from_json(document()), tmp_path / "report.html")
    dom = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    assert "3 repetitions" in dom and 'id="counter"' in dom
    assert 'id="timeline"' in dom and 'id="scores"' in dom and 'id="heatmap"' in dom
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    import cv2

    image = cv2.imread(str(shot))
    assert image is not None and image.shape[0] >= 1000
    colour = _colour(95.0)  # the score bars' and the timeline's colour for a score of 95
    bar = np.array([int(colour[5:7], 16), int(colour[3:5], 16), int(colour[1:3], 16)])  # as BGR
    assert (np.abs(image.astype(int) - bar).sum(axis=-1) < 30).sum() > 500
    assert (image.sum(axis=-1) < 100).sum() > 500  # dark text: the counter's large digits among it
