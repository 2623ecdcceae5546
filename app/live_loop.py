"""The live loop: a source's frames through BlazePose (tracking) into a :class:`~.live.LiveSession`.

:func:`run_live` is what ``posegraph live`` runs; :func:`annotate` draws a frame's skeleton and the
session's state for the optional window and recording. Per frame it measures BlazePose's time and
the rest (the session's services, drawing excluded), reported in the report's
``live.processing`` (``benchmarks/live.py`` prints their ratio).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from collections.abc import Callable

import cv2
import numpy as np

from posegraph.skeleton.frame_input import FrameClock, FrameTimeError
from posegraph.skeleton.stream import FrameStream, LiveFrame
from posegraph.skeleton.video import probe

from .analysis import Analyser
from .live import LiveResult, LiveSession, LiveSettings


def session_fps(stream: FrameStream, target_fps: float) -> float:
    """The session's frame rate: the target, or the source's own where slower (sampling never adds frames)."""
    return min(target_fps, stream.native_fps) if stream.native_fps else target_fps


class LiveFeed:
    """One source's frames into one :class:`~.live.LiveSession`, the single frame loop of ``live``
    (:func:`run_live`) and of the live page's server: the frame-time rule's clock, BlazePose
    (tracking: each frame starts from the last one's pose), the session, and per frame the time
    of BlazePose and of the rest. The session starts with the first frame fed."""

    def __init__(self, analyser: Analyser, name: str, settings: LiveSettings, reject: bool = True,
                 source_path: str | None = None, clock: FrameClock | None = None) -> None:
        from posegraph.skeleton.blazepose import BlazePoseExtractor

        self.analyser, self.name, self.settings, self.reject, self.source_path = (analyser, name, settings, reject,
                                                                                   source_path)
        self.clock = clock or FrameClock()
        self.landmarker = BlazePoseExtractor(target_fps=settings.fps).landmarker()
        self.detect = None
        self.session: LiveSession | None = None
        self.pose_s: list[float] = []
        self.rest_s: list[float] = []

    def feed(self, image: np.ndarray, t_s: float, index: int, read_at: float,
             frame_size: tuple[int, int] | None = None,
             settings: LiveSettings | None = None) -> tuple[np.ndarray | None, list[dict]]:
        """One BGR frame ``(H, W, 3)`` at source time ``t_s``: ``(landmarks (33, 4) or None, events)``.
        ``t_s`` must pass the clock (:class:`~posegraph.skeleton.frame_input.FrameTimeError`
        otherwise, nothing changed); ``frame_size`` and ``settings`` matter for the first frame only."""
        t_s = self.clock.check(t_s)
        if self.session is None:
            self.detect = self.landmarker.__enter__()
            size = frame_size or (image.shape[1], image.shape[0])
            self.session = LiveSession(self.analyser, self.name, settings or self.settings, self.reject, size,
                                       self.source_path)
        began = time.perf_counter()
        landmarks = self.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), t_s)
        posed = time.perf_counter()
        events = self.session.update(landmarks, self.clock.accept(t_s), index, read_at)
        self.pose_s.append(posed - began)
        self.rest_s.append(time.perf_counter() - posed)
        return landmarks, events

    def close(self) -> None:
        """Let BlazePose go (the session stays, for :meth:`finish`)."""
        if self.detect is not None:
            self.landmarker.__exit__(None, None, None)
            self.detect = None

    def finish(self, ended: str, dropped: int = 0, read: int | None = None, release: bool = True) -> LiveResult:
        """The session analysed whole (:meth:`~.live.LiveSession.finish`), with BlazePose's and the
        rest's time per frame in ``live.processing``. ``release=False`` leaves BlazePose be (a frame
        still running on another thread holds it)."""
        if release:
            self.close()
        if self.session is None:
            return LiveResult(None, None, None, ended)
        result = self.session.finish(ended, dropped, read)
        if result.report is not None:
            live = replace(result.report.live, processing=processing_times(self.pose_s, self.rest_s))
            result = replace(result, report=result.report.with_live(live))
        return result


def run_live(analyser: Analyser, source: str, emit: Callable[[dict], None], settings: LiveSettings = LiveSettings(),
             realtime: bool = False, reject: bool = True, stall_s: float = 5.0, open_s: float = 20.0,
             on_frame: Callable[[LiveFrame, np.ndarray | None, LiveSession], None] | None = None,
             stop: threading.Event | None = None) -> LiveResult:
    """Analyse ``source`` (a camera number, a URL or a file) live until it ends, stalls, ``stop``
    is set or Ctrl-C; ``emit`` gets each event (``status`` events also carry ``dropped``, the
    frames dropped so far because processing fell behind). A frame whose time breaks the
    frame-time rule (:class:`~posegraph.skeleton.frame_input.FrameClock`) is dropped with an
    ``error`` event, as the live page's server drops it. Returns the session's
    :class:`~.live.LiveResult` (its ``error`` says why there is no report)."""
    stream = FrameStream(source, settings.fps, realtime=realtime, stall_s=stall_s, open_s=open_s)
    if stream.kind == "file":
        stream.native_fps = probe(source).frames_per_second
    live = LiveFeed(analyser, source, settings, reject, source if stream.kind == "file" else None)
    ended = None
    try:
        for frame in stream:
            first = live.session is None
            session_settings = LiveSettings(**{**settings.__dict__, "fps": session_fps(stream, settings.fps)}) \
                if first else None
            try:
                landmarks, events = live.feed(frame.image, frame.t_s, frame.index, frame.read_at,
                                              stream.frame_size if first else None, session_settings)
            except FrameTimeError as error:
                emit({"type": "error", "t_s": None, "error": f"{source}: {error}", "frames_refused": live.clock.refused})
                continue
            for event in events:
                emit({**event, "dropped": stream.dropped} if event["type"] == "status" else event)
            if on_frame is not None:
                on_frame(frame, landmarks, live.session)
            if stop is not None and stop.is_set():
                ended = f"{source}: stopped"
                break
    except KeyboardInterrupt:
        ended = f"{source}: stopped (Ctrl-C)"
    finally:
        stream.close()
        live.close()
    ended = ended or stream.ended or f"{source}: ended"
    return live.finish(ended, stream.dropped, stream.read or None)


def processing_times(pose_s: list[float], rest_s: list[float]) -> dict:
    """Per frame medians (ms) of BlazePose and of everything after it, and the ratio of their means."""
    pose, rest = np.array(pose_s), np.array(rest_s)
    return {"frames": len(pose), "pose_ms_median": round(float(np.median(pose)) * 1000, 2),
            "analysis_ms_median": round(float(np.median(rest)) * 1000, 2),
            "analysis_ms_max": round(float(rest.max()) * 1000, 2),
            "analysis_over_pose": round(float(rest.mean() / pose.mean()), 4) if pose.mean() > 0 else None}


def annotate(image: np.ndarray, landmarks: np.ndarray | None, session: LiveSession) -> np.ndarray:
    """The frame with the skeleton drawn and a caption: exercise, count, running score, last cue."""
    from posegraph.skeleton.layouts import BLAZEPOSE33
    from posegraph.skeleton.render import caption, draw_skeleton

    image = image.copy()
    if landmarks is not None:
        draw_skeleton(image, landmarks, BLAZEPOSE33)
    state = session.state()
    exercise = state["exercise"] or ("none of these" if session.exercise_known else "...")
    score = "" if state["score"] is None else f"  form {state['score']:.0f}"
    cue = f"  {state['cue'][:48]}" if state["cue"] else ""
    return caption(image, f"{exercise}  reps {state['count']}{score}{cue}")
