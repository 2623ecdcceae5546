"""Live analysis (issue 25): the services of ``posegraph analyse``, fed one frame at a time.

A :class:`LiveSession` takes each frame's landmarks as they come (:meth:`LiveSession.update`) and
returns events, each a dict with a ``type`` and the source time ``t_s``:

- ``exercise``: the bundle's classifier over the last ``classify_window_s`` seconds, every
  ``classify_every_s``; a change is announced once ``stable_answers`` answers in a row agree
  (``exercise`` is null for "none of these", and while nobody is seen);
- ``repetition``: each repetition once the online counter
  (:class:`~posegraph.scoring.OnlineRepetitionCounter`) settles it, with its start, turning point,
  end, form score, worst joint and depth, judged on the recent frames as ``analyse`` judges a video;
- ``cue``: the cues (:mod:`posegraph.scoring.cues`) about the repetition just done;
- ``status``: every ``status_every_s``: frames, the exercise, the count, the running form score
  (the mean of the repetitions' scores so far) and the last repetition's worst joint.

Every event has ``lag_ms``: from the frame being read (``read_at``) to the event being made.
:meth:`LiveSession.finish` analyses everything seen exactly as ``analyse`` analyses a video
(same cleaning, counter and classifier over the whole session), so the report's exercise and
count are the offline ones, and adds ``live``: frames, drops, why it ended, and how late each
repetition was announced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
from posegraph.scoring.analysis_report import AnalysisReport, Announcement, LiveSection
from posegraph.scoring.counting import (
    MIN_REPETITION_S,
    OnlineRepetitionCounter,
    RepetitionCount,
)
from posegraph.scoring.cues import cues_for
from posegraph.scoring.repetition_form import RepetitionForm, repetition_forms
from posegraph.skeleton.cleaning import CleaningSettings, clean
from posegraph.skeleton.frame_input import FrameClock
from posegraph.skeleton.layouts import BLAZEPOSE33
from posegraph.skeleton.source import SkeletonSource
from posegraph.skeleton.vocabulary import DEFAULT_FPS

from .analysis import Analyser, analyse, form_judge

EVENT_TYPES = ("exercise", "repetition", "cue", "status")


@dataclass(frozen=True)
class LiveSettings:
    """How often and over how much the live services look (seconds of source time)."""

    fps: float = DEFAULT_FPS  # frames sampled per second: the extraction's, so the report equals analyse's
    classify_every_s: float = 1.0
    classify_window_s: float = 4.0
    stable_answers: int = 2  # answers in a row before the exercise changes: one odd window says nothing
    status_every_s: float = 1.0
    form_window_s: float = 30.0  # recent frames a repetition is judged on (the online counter's window)
    # A turning point this far back is settled, and the counter recounts its window this often:
    # on repcount/ replayed at 16 fps (benchmarks/live.py), 1.0 s / 0.25 s announced a repetition a
    # median 0.50 s after its true end, 0.75 s / 0.5 s 0.33 s at half the recounting cost
    # (0.5 s / 0.5 s: 0.13 s); the final count is the offline one in every case.
    announce_delay_s: float = 0.75
    recount_every_s: float = 0.5
    # A gap in time is filled with unseen frames to keep the counter's clock, but at most this
    # long: the work and memory of one frame stay bounded whatever gap a source claims (a stall
    # ends a session after 5 s by default, so real gaps are shorter).
    max_gap_fill_s: float = 10.0


@dataclass(frozen=True)
class LiveResult:
    """What a session saw: the analysis (None when nobody was ever seen, ``error`` says why), with
    its ``live`` section; the whole session's form score for drawing, and its skeleton."""

    report: AnalysisReport | None
    form: object | None
    source: SkeletonSource | None
    error: str | None = None


class LiveSession:
    """One person's live session (module docstring). ``frame_size`` is ``(width, height)`` in pixels."""

    def __init__(self, analyser: Analyser, name: str, settings: LiveSettings = LiveSettings(),
                 reject: bool = True, frame_size: tuple[int, int] | None = None,
                 source_path: str | None = None) -> None:
        self.analyser, self.name, self.settings, self.reject = analyser, name, settings, reject
        self.frame_size, self.source_path = frame_size, source_path
        self.layout = BLAZEPOSE33.name
        self.fps = settings.fps
        self.raw: list[np.ndarray] = []
        self.found: list[bool] = []
        self.timestamps: list[float] = []
        self.frame_indices: list[int] = []
        self.counter = OnlineRepetitionCounter(self.layout, self.fps, delay_s=settings.announce_delay_s,
                                               step_s=settings.recount_every_s, window_s=settings.form_window_s)
        self.exercise: str | None = None
        self.exercise_known = False  # no answer announced yet
        self.answers: list[str | None] = []
        self.forms: list[RepetitionForm] = []
        self.announced: list[tuple[float, float]] = []  # (turning point s, announced at s)
        self.cues_said: set[str] = set()
        self.last_cue: str | None = None
        self.last_landmarks: np.ndarray | None = None
        self._next_classify = settings.classify_window_s / 2
        self._next_status = 0.0
        self._visibility = CleaningSettings().visibility_threshold
        # no limit ahead here: the door (the server, the live loop) holds MAX_AHEAD_S; this guards the state
        self._clock = FrameClock(max_ahead_s=float("inf"), origin_s=-float("inf"))

    @property
    def count(self) -> int:
        return len(self.forms)

    @property
    def score(self) -> float | None:
        """The running form score: the mean of the repetitions' scores so far."""
        scores = [form.score for form in self.forms if form.score is not None]
        return round(float(np.mean(scores)), 1) if scores else None

    @property
    def worst_joint(self) -> str | None:
        for form in reversed(self.forms):
            if form.worst_joints:
                return form.worst_joints[0]["joint"]
        return None

    def state(self) -> dict:
        """What a screen shows now: exercise, count, running score, worst joint, last cue."""
        return {"exercise": self.exercise, "count": self.count, "score": self.score,
                "worst_joint": self.worst_joint, "cue": self.last_cue}

    def update(self, landmarks: np.ndarray | None, t_s: float, frame_index: int = -1,
               read_at: float | None = None) -> list[dict]:
        """Add one frame: ``landmarks (33, 4)`` x, y (fractions of the frame), z, visibility, or
        None when nobody was seen; ``t_s`` its source time. Returns the events it makes, in order.

        A gap in time (frames dropped, or lost by the source) is filled with unseen frames, so the
        counter's clock stays the source's; at most ``max_gap_fill_s`` of them. ``t_s`` must pass
        the frame-time rule (:class:`~posegraph.skeleton.frame_input.FrameClock`): a time that is
        not finite or goes back raises :class:`~posegraph.skeleton.frame_input.FrameTimeError`."""
        read_at = time.monotonic() if read_at is None else read_at
        t_s = self._clock.check(t_s)
        events: list[dict] = []
        gap_frames = (t_s - self.timestamps[-1]) * self.fps if self.timestamps else 0.0
        missing = min(int(round(gap_frames)) - 1, int(self.settings.max_gap_fill_s * self.fps))
        for _ in range(missing):
            self._add(None, self.timestamps[-1] + 1.0 / self.fps, self.frame_indices[-1])
            for frame in self.counter.update(self.raw[-1]):
                events += self._repetition(frame, t_s)
        self._add(landmarks, t_s, frame_index)
        self._clock.accept(t_s)
        self.last_landmarks = landmarks
        for frame in self.counter.update(self._counted(landmarks)):
            events += self._repetition(frame, t_s)
        if t_s >= self._next_classify:
            self._next_classify = t_s + self.settings.classify_every_s
            events += self._classify(t_s)
        if t_s >= self._next_status:
            self._next_status = t_s + self.settings.status_every_s
            events.append({"type": "status", "t_s": round(t_s, 3), "frames": len(self.raw), **self.state()})
        lag_ms = round((time.monotonic() - read_at) * 1000.0, 1)
        return [{**event, "lag_ms": lag_ms} for event in events]

    def _add(self, landmarks: np.ndarray | None, t_s: float, frame_index: int) -> None:
        self.raw.append(np.full((BLAZEPOSE33.num_joints, 4), np.nan, np.float32) if landmarks is None
                        else np.asarray(landmarks, np.float32))
        self.found.append(landmarks is not None)
        self.timestamps.append(float(t_s))
        self.frame_indices.append(int(frame_index))

    def _counted(self, landmarks: np.ndarray | None) -> np.ndarray:
        """The frame as the extraction's cleaning keeps it: unseen under the visibility threshold."""
        if landmarks is None or not np.nanmean(landmarks[:, 3]) >= self._visibility:
            return np.full((BLAZEPOSE33.num_joints, 4), np.nan, np.float32)
        return np.asarray(landmarks, np.float32)

    def _recent(self, seconds: float) -> tuple[int, np.ndarray, np.ndarray]:
        """``(first frame, cleaned joints (T, V, 4), timestamps (T,))`` of the last ``seconds``."""
        start = max(0, len(self.raw) - int(round(seconds * self.fps)))
        joints = clean(np.stack(self.raw[start:]), np.array(self.found[start:])).joints
        return start, joints, np.array(self.timestamps[start:])

    def _repetition(self, frame: int, now: float) -> list[dict]:
        """The repetition whose turning point is ``frame`` (from the counter's latest recount),
        judged on its own frames, and its cues."""
        number = self.count + 1
        at = round(float(self.timestamps[frame]), 3)
        form = RepetitionForm(number, 1, at, at, at, None, [], None, {}, 0.0, 0.0)  # unless the recount has it
        start, recount = self.counter.recent if self.counter.recent is not None else (0, None)
        if recount is not None and recount.count:
            position = int(np.argmin(np.abs(start + recount.frames - frame)))
            if start + int(recount.frames[position]) == frame:
                form = replace(self._judged(start, recount, position), repetition=number, set=1)
        self.forms.append(form)
        self.announced.append((form.turn_s, now))
        events = [{"type": "repetition", "t_s": round(now, 3), "repetition": number, "count": number,
                   "start_s": form.start_s, "turn_s": form.turn_s, "end_s": form.end_s, "score": form.score,
                   "worst_joint": form.worst_joints[0]["joint"] if form.worst_joints else None,
                   "depth": form.depth}]
        for cue in cues_for(self.forms, self.exercise):
            if number in cue.repetitions and cue.text not in self.cues_said:
                self.cues_said.add(cue.text)
                self.last_cue = cue.text
                events.append({"type": "cue", "t_s": round(now, 3), **cue.to_dict()})
        return events

    def _judged(self, start: int, recount: RepetitionCount, position: int) -> RepetitionForm:
        """One repetition of a recount (whose window begins at frame ``start``) judged on its own
        frames only, as ``analyse`` judges each repetition: a few milliseconds, whatever the window."""
        starts, ends = recount.boundaries()
        first, last = int(starts[position]), int(ends[position])
        joints = clean(np.stack(self.raw[start + first:start + last + 1]),
                       np.array(self.found[start + first:start + last + 1])).joints
        timestamps = np.array(self.timestamps[start + first:start + last + 1])
        one = RepetitionCount(1, np.array([int(recount.frames[position]) - first]),
                              recount.signal[first:last + 1], recount.amplitude, self.fps,
                              starts=np.array([0]), ends=np.array([last - first]))
        reference, rom, _ = form_judge(self.analyser, self.exercise, self.layout)
        form = None if reference is None else reference.score(joints, self.frame_size, timestamps=timestamps)
        return repetition_forms(one, form, joints, self.layout, timestamps, rom, self.frame_size)[0]

    def _classify(self, now: float) -> list[dict]:
        """The classifier over the recent window; an ``exercise`` event when the answer has changed
        and held for ``stable_answers`` windows."""
        from posegraph.skeleton.source import SkeletonSource

        _, joints, timestamps = self._recent(self.settings.classify_window_s)
        answer = None
        if np.isfinite(joints[..., :2]).all(axis=-1).any(axis=-1).sum() >= self.fps / 2:  # half a second seen
            window = SkeletonSource(joints, self.layout, timestamps, np.arange(len(joints)), *self._size(), None,
                                    self.fps, "file", "BlazePose (live)")
            answer = self.analyser.answer(window, top_k=3, reject=self.reject)
        label = None if answer is None or answer.rejected else answer.answer
        self.answers = (self.answers + [label])[-self.settings.stable_answers:]
        settled = len(self.answers) == self.settings.stable_answers and len(set(self.answers)) == 1
        if not settled or (self.exercise_known and label == self.exercise):
            return []
        previous, self.exercise, self.exercise_known = self.exercise, label, True
        closest = answer.ranking[0] if answer is not None and answer.ranking else (None, 0.0)
        return [{"type": "exercise", "t_s": round(now, 3), "exercise": label, "previous": previous,
                 "none_of_these": label is None, "closest": closest[0], "probability": round(float(closest[1]), 4),
                 "nobody_seen": answer is None}]

    def _size(self) -> tuple[int | None, int | None]:
        return self.frame_size if self.frame_size else (None, None)

    def finish(self, ended: str, dropped: int = 0, read: int | None = None) -> LiveResult:
        """Everything seen, analysed as ``analyse`` analyses a video, with the ``live`` section:
        ``frames``, ``frames_read``, ``frames_dropped``, ``ended``, and per repetition when it was
        announced (``late_s``: from its end to its announcement; ``announced`` ``live`` or, for a
        repetition only the whole session showed, ``at the end``)."""
        if not any(self.found):
            return LiveResult(None, None, None, f"{self.name}: no person seen in {len(self.raw)} frames ({ended})")
        cleaned = clean(np.stack(self.raw), np.array(self.found)).joints
        source = SkeletonSource(cleaned, self.layout, np.array(self.timestamps), np.array(self.frame_indices),
                                *self._size(), self.source_path, self.fps, "file", "BlazePose (live)")
        try:
            report, form = analyse(self.analyser, source, self.name, self.reject)
        except ValueError as error:
            return LiveResult(None, None, source, str(error))
        live = LiveSection(int(sum(self.found)), read, int(dropped), ended, self.count,
                           announcement_delays(report.repetitions, self.announced, self.timestamps[-1]))
        return LiveResult(report.with_live(live), form, source)


def announcement_delays(repetitions, announced: list[tuple[float, float]], end_s: float) -> tuple[Announcement, ...]:
    """Each final repetition's announcement: the unused live one whose turning point lies in the
    repetition (or within :data:`~posegraph.scoring.counting.MIN_REPETITION_S` of its own turning
    point), nearest that turning point first; else the session's end. ``late_s`` is from the
    repetition's end to its announcement.

    ``repetitions``: the report's :class:`~posegraph.scoring.repetition_form.RepetitionForm`;
    ``announced``: ``(turning point s, announced at s)`` pairs."""
    unused = list(announced)
    rows = []
    for rep in repetitions:
        near = [pair for pair in unused if rep.start_s <= pair[0] <= rep.end_s
                or abs(pair[0] - rep.turn_s) <= MIN_REPETITION_S]
        match = min(near, key=lambda pair: abs(pair[0] - rep.turn_s), default=None)
        if match is not None:
            unused.remove(match)
            at, how = match[1], "live"
        else:
            at, how = end_s, "at the end"
        rows.append(Announcement(rep.repetition, rep.end_s, round(float(at), 3), round(float(at - rep.end_s), 3), how))
    return tuple(rows)
