"""``posegraph live`` (issue 25): its cost beyond BlazePose, its lag, its drops, and how soon it
announces a repetition.

Run:  .venv/bin/python benchmarks/live.py [--bundle B] [--only replay|video|drops|agree]

- **video**: a real clip through :func:`posegraph.app.live_loop.run_live` as fast as possible:
  per frame, BlazePose's own time and the time of everything after it (the session's services),
  and their ratio (target: at most 0.20); the lag from a frame being read to each event being made
  (target: median under 100 ms).
- **long**: the session's own cost per frame where the counter's 30 s window is full: the three
  longest ``repcount/`` videos (landmarks, 16 fps) through a ``LiveSession`` with the bundle.
- **drops**: the clip's 300 frames re-encoded at 30 and at 60 fps (10 s and 5 s), read at its own rate (``--realtime``),
  every frame analysed (no sampling): the share of frames dropped because processing fell behind.
- **replay**: ``../shared/testdata/repcount/`` landmarks (30 fps) sampled at the live rate (16 fps)
  and fed frame by frame to the online counter with the live settings (what a
  :class:`~posegraph.app.live.LiveSession` announces as ``repetition`` events); for each true
  repetition (human boundaries in ``counts.csv``) the first announcement whose turning point lies
  inside it: lag from the repetition's end (target: median within 0.5 s); and the final count
  against the offline count of the same frames.
- **agree**: every shared real clip (``reps/``) through ``live`` and through ``analyse``: the
  exercise and the count of both (target: the same on all).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED = REPOSITORY.parent / "shared" / "testdata"
CLIP = SHARED / "reps" / "workoutdetector" / "example_videos" / "4-YmQKoHYmw.mp4"
REPCOUNT_FPS = 30.0


def report_replay(delay_s: float | None = None, step_s: float | None = None) -> None:
    from posegraph.app.live import LiveSettings
    from posegraph.scoring import OnlineRepetitionCounter, count_repetitions
    from posegraph.skeleton.video import SamplingClock

    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    from repcount import load_videos

    settings = LiveSettings()
    delay_s = settings.announce_delay_s if delay_s is None else delay_s
    step_s = settings.recount_every_s if step_s is None else step_s
    fps = settings.fps
    lags, same, announced, total, started = [], 0, 0, 0, time.perf_counter()
    shown, offline_counts, truths = [], [], []
    for video in load_videos():
        clock = SamplingClock(fps, 0.5 / REPCOUNT_FPS)
        kept = np.array([index for index in range(len(video["joints"])) if clock.keep(index / REPCOUNT_FPS)])
        joints = video["joints"][kept]
        counter = OnlineRepetitionCounter("blazepose33", fps, delay_s=delay_s, step_s=step_s,
                                          window_s=settings.form_window_s)
        announced_at = {}
        for index, frame in enumerate(joints):
            for turn in counter.update(frame):
                announced_at[turn] = index
        shown.append(counter.count)  # what the screen shows as the stream ends, before finish()
        counter.finish()
        offline_counts.append(count_repetitions(joints, "blazepose33", fps).count)
        truths.append(video["true"])
        same += counter.count == offline_counts[-1]
        turns = np.array(sorted(announced_at), dtype=np.int64)
        turn_s = kept[turns] / REPCOUNT_FPS if len(turns) else np.zeros(0)
        for start, end in video["bounds"]:
            total += 1
            inside = (turn_s >= start / REPCOUNT_FPS) & (turn_s <= end / REPCOUNT_FPS)
            if inside.any():
                announced += 1
                first = min(announced_at[int(turn)] for turn in turns[inside])
                lags.append(kept[first] / REPCOUNT_FPS - end / REPCOUNT_FPS)
    lags = np.array(lags)
    print(f"replay (repcount/, 75 videos at {fps:g} fps; announce delay {delay_s} s, recount every {step_s} s; "
          f"{time.perf_counter() - started:.0f} s): {announced} of {total} true repetitions announced live inside "
          f"their human boundaries; lag from the true end: median {np.median(lags):.2f} s, 90th percentile "
          f"{np.percentile(lags, 90):.2f} s, max {lags.max():.2f} s; final count = offline count on {same} of 75")
    shown, offline_counts, truths = map(np.asarray, (shown, offline_counts, truths))
    positive = truths > 0
    for name, counts in (("announced live (before the session's end)", shown), ("offline (the report)", offline_counts)):
        mae = np.mean(np.abs(counts[positive] - truths[positive]) / truths[positive])
        print(f"  {name}: MAE {mae:.3f}, OBO {np.mean(np.abs(counts - truths) <= 1):.3f} against the true counts")
    print(f"  live = offline before the end on {np.sum(shown == offline_counts)} of 75 videos, within one on "
          f"{np.sum(np.abs(shown - offline_counts) <= 1)}")


def report_long(bundle: Path) -> None:
    """The session's own cost per frame on long sessions, where the counter's window is full: the
    three longest repcount/ videos (landmarks at 16 fps) through a LiveSession with the bundle."""
    from posegraph.app.analysis import Analyser
    from posegraph.app.live import LiveSession, LiveSettings
    from posegraph.skeleton.video import SamplingClock

    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    from repcount import load_videos

    analyser = Analyser.load(bundle)
    for video in sorted(load_videos(), key=lambda item: -len(item["joints"]))[:3]:
        clock = SamplingClock(16.0, 0.5 / REPCOUNT_FPS)
        kept = [index for index in range(len(video["joints"])) if clock.keep(index / REPCOUNT_FPS)]
        session = LiveSession(analyser, video["name"], LiveSettings(fps=16.0))
        costs = []
        for index in kept:
            frame = video["joints"][index]
            began = time.perf_counter()
            session.update(frame if np.isfinite(frame[:, :2]).any() else None, index / REPCOUNT_FPS)
            costs.append(time.perf_counter() - began)
        costs = np.array(costs) * 1000
        print(f"long session {video['name']} ({len(kept) / 16:.0f} s, {len(kept)} frames at 16 fps): the session's "
              f"services {costs.mean():.2f} ms/frame on average (median {np.median(costs):.2f}, 99th percentile "
              f"{np.percentile(costs, 99):.1f}, max {costs.max():.1f}); {session.count} repetitions announced, "
              f"true {video['true']}")


def live_document(bundle: Path, video: Path, *options: str) -> tuple[dict, list[dict]]:
    """``posegraph live`` on ``video``: its report and its JSON lines."""
    with tempfile.TemporaryDirectory() as out:
        lines = subprocess.run([str(REPOSITORY / ".venv" / "bin" / "posegraph"), "live", "--bundle", str(bundle),
                                "--source", str(video), "--out", out, *options],
                               capture_output=True, text=True, check=True).stdout.splitlines()
        events = [json.loads(line) for line in lines]
        end = events[-1]
        document = json.loads(Path(end["files"]["json"]).read_text())
    return document, events


def report_video(bundle: Path) -> None:
    document, events = live_document(bundle, CLIP)
    processing = document["live"]["processing"]
    lags = np.array([event["lag_ms"] for event in events if "lag_ms" in event][1:])  # the first frame warms up
    print(f"video ({CLIP.name}, {processing['frames']} frames, as fast as possible): BlazePose median "
          f"{processing['pose_ms_median']} ms/frame; the rest median {processing['analysis_ms_median']} ms, max "
          f"{processing['analysis_ms_max']} ms; rest / BlazePose (ratio of means) {processing['analysis_over_pose']:.3f}; "
          f"event lag (frame read -> event made) median {np.median(lags):.1f} ms, 90th percentile "
          f"{np.percentile(lags, 90):.1f} ms, over {len(lags)} events")


def report_drops(bundle: Path) -> None:
    sys.path.insert(0, str(REPOSITORY / "tests"))
    from conftest import write_clip

    with tempfile.TemporaryDirectory() as folder:
        for fps in (30.0, 60.0):
            clip = write_clip(CLIP, Path(folder) / f"clip{fps:g}.mp4", 10.0, fps=fps, size=(640, 360))
            document, events = live_document(bundle, clip, "--realtime", "--fps", str(fps))
            live = document["live"]
            read = live["frames_read"] or 1
            lags = np.array([event["lag_ms"] for event in events if "lag_ms" in event][1:])
            print(f"drops at a {fps:g} fps source (every frame analysed, read at its own rate): "
                  f"{live['frames_dropped']} of {read} frames dropped ({live['frames_dropped'] / read:.1%}); "
                  f"event lag median {np.median(lags):.1f} ms")


def report_agree(bundle: Path) -> None:
    import csv

    rows = list(csv.DictReader(open(SHARED / "reps" / "counts.csv")))
    same_exercise = same_count = 0
    lates = []
    for row in rows:
        video = SHARED / row["video"]
        live, _ = live_document(bundle, video)
        offline = json.loads(subprocess.run([str(REPOSITORY / ".venv" / "bin" / "posegraph"), "analyse", str(video),
                                             "--bundle", str(bundle), "--json"], capture_output=True, text=True,
                                            check=True).stdout)
        same_exercise += live["exercise"]["answer"] == offline["exercise"]["answer"]
        same_count += live["count"] == offline["count"]
        lates += [rep["late_s"] for rep in live["live"]["repetitions"]]
        print(f"  {video.name}: live {live['exercise']['answer']} {live['count']}, analyse "
              f"{offline['exercise']['answer']} {offline['count']}, true {row['count']}")
    print(f"agree ({len(rows)} shared clips): same exercise {same_exercise}, same count {same_count}; "
          f"announcement late_s median {np.median(lates):.2f} s (short clips: a repetition near the end is "
          f"announced when the clip ends)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=REPOSITORY / "demo_output" / "bundle",
                        help="an analysis bundle (default: the demo's, from make demo)")
    parser.add_argument("--only", choices=("replay", "video", "long", "drops", "agree"))
    parser.add_argument("--delay", type=float, help="replay: announce delay (s), default the live setting")
    parser.add_argument("--step", type=float, help="replay: recount step (s), default the live setting")
    arguments = parser.parse_args()
    if arguments.only in (None, "replay"):
        report_replay(arguments.delay, arguments.step)
    if arguments.only != "replay" and not (arguments.bundle / "bundle.yaml").exists():
        raise SystemExit(f"{arguments.bundle}: no bundle; run make demo or pass --bundle")
    for section, report in (("video", report_video), ("long", report_long), ("drops", report_drops),
                            ("agree", report_agree)):
        if arguments.only in (None, section):
            report(arguments.bundle)


if __name__ == "__main__":
    main()
