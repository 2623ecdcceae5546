"""The analysis of one video as typed records: :class:`AnalysisReport` (schema ``posegraph-analysis/1``).

Built in one place (:func:`posegraph.app.analysis.analyse`), read by the HTML report, the terminal
text, the live events and page, and the store's analysis tables, through fields, never raw keys.
It lives here, below everything that renders it. ``to_json`` gives the documented JSON (the README's
"analysis.json"); ``from_json`` reads it back, so a report written by ``analyse --out`` and read again
is the same record.

Repetitions are :class:`~.repetition_form.RepetitionForm` and cues :class:`~.cues.Cue`, the records
the form and cue services already make.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from .cues import Cue
from .repetition_form import RepetitionForm

SCHEMA = "posegraph-analysis/1"


@dataclass(frozen=True)
class ClassProbability:
    """One class of the classifier's ranking (JSON: ``{"class", "probability"}``)."""

    name: str
    probability: float


@dataclass(frozen=True)
class ExerciseAnswer:
    """Which exercise: the answer (None for "none of these"), whether it was rejected, the calibrated
    threshold it was held to, and the top classes."""

    answer: str | None
    rejected: bool
    threshold: float | None
    top: tuple[ClassProbability, ...]

    @property
    def closest(self) -> ClassProbability | None:
        return self.top[0] if self.top else None

    def to_json(self) -> dict:
        return {"answer": self.answer, "rejected": self.rejected, "threshold": self.threshold,
                "top": [{"class": item.name, "probability": item.probability} for item in self.top]}

    @classmethod
    def from_json(cls, content: dict) -> "ExerciseAnswer":
        return cls(content["answer"], bool(content["rejected"]), content.get("threshold"),
                   tuple(ClassProbability(item["class"], float(item["probability"])) for item in content["top"]))


@dataclass(frozen=True)
class MuscleGroup:
    """A muscle group the classifier's muscle head scored."""

    group: str
    probability: float
    worked: bool


@dataclass(frozen=True)
class CountedSet:
    """A set the counter found: frames and seconds of its start and end, its count and period."""

    set: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    count: int
    period_s: float


@dataclass(frozen=True)
class Heatmap:
    """The body joints' form scores over time: ``scores[j][t]`` for joint ``joints[j]`` at ``times_s[t]``
    (0-100, None where not scored)."""

    joints: tuple[str, ...]
    times_s: tuple[float, ...]
    scores: tuple[tuple[float | None, ...], ...]


@dataclass(frozen=True)
class FormSummary:
    """The video's form: its mean score (0-100), the reference it was judged against, the heat map."""

    mean_score: float | None
    reference: str | None
    heatmap: Heatmap

    def to_json(self) -> dict:
        return {"mean_score": self.mean_score, "reference": self.reference,
                "heatmap": {"joints": list(self.heatmap.joints), "times_s": list(self.heatmap.times_s),
                            "scores": [list(row) for row in self.heatmap.scores]}}

    @classmethod
    def from_json(cls, content: dict) -> "FormSummary":
        heatmap = content["heatmap"]
        return cls(content.get("mean_score"), content.get("reference"),
                   Heatmap(tuple(heatmap["joints"]), tuple(heatmap["times_s"]),
                           tuple(tuple(row) for row in heatmap["scores"])))


@dataclass(frozen=True)
class Announcement:
    """When a live session announced a repetition: ``late_s`` from its end; ``announced`` is
    ``live`` or ``at the end`` (only the whole session showed it)."""

    repetition: int
    end_s: float
    announced_s: float
    late_s: float
    announced: str


@dataclass(frozen=True)
class LiveSection:
    """What a live session saw: frames with a person, read, dropped, why it ended, the repetitions
    announced live and when, the time per frame (``processing``), and on the live page's server the
    frames refused at the door and abandoned as too slow."""

    frames: int
    frames_read: int | None
    frames_dropped: int
    ended: str
    announced_live: int
    repetitions: tuple[Announcement, ...] = ()
    processing: dict | None = None
    frames_refused: int | None = None
    frames_abandoned: int | None = None

    def to_json(self) -> dict:
        content = {"frames": self.frames, "frames_read": self.frames_read, "frames_dropped": self.frames_dropped,
                   "ended": self.ended, "announced_live": self.announced_live,
                   "repetitions": [asdict(item) for item in self.repetitions]}
        for name in ("processing", "frames_refused", "frames_abandoned"):
            if getattr(self, name) is not None:
                content[name] = getattr(self, name)
        return content

    @classmethod
    def from_json(cls, content: dict) -> "LiveSection":
        return cls(int(content["frames"]), content.get("frames_read"), int(content["frames_dropped"]),
                   str(content["ended"]), int(content["announced_live"]),
                   tuple(Announcement(**item) for item in content.get("repetitions", ())), content.get("processing"),
                   content.get("frames_refused"), content.get("frames_abandoned"))


@dataclass(frozen=True)
class AnalysisReport:
    """The whole answer for one video (module docstring); seconds from the video's first frame."""

    video: str
    how_read: str
    duration_s: float
    exercise: ExerciseAnswer
    muscles: tuple[MuscleGroup, ...]
    count: int
    count_agreement: float | None
    sets: tuple[CountedSet, ...]
    repetitions: tuple[RepetitionForm, ...]
    cues: tuple[Cue, ...]
    form: FormSummary | None
    notes: tuple[str, ...]
    live: LiveSection | None = None
    files: dict[str, str] | None = field(default=None, compare=False)
    schema: str = SCHEMA

    @property
    def worked(self) -> list[str]:
        """The muscle groups the head says were worked."""
        return [item.group for item in self.muscles if item.worked]

    @property
    def mean_score(self) -> float | None:
        return self.form.mean_score if self.form is not None else None

    def with_live(self, live: LiveSection) -> "AnalysisReport":
        return replace(self, live=live)

    def with_files(self, files: dict[str, str]) -> "AnalysisReport":
        return replace(self, files=dict(files))

    def to_json(self) -> dict:
        """The documented JSON (schema ``posegraph-analysis/1``)."""
        content = {"schema": self.schema, "video": self.video, "how_read": self.how_read,
                   "duration_s": self.duration_s, "exercise": self.exercise.to_json(),
                   "muscles": [asdict(item) for item in self.muscles], "count": self.count,
                   "count_agreement": self.count_agreement, "sets": [asdict(item) for item in self.sets],
                   "repetitions": [item.to_dict() for item in self.repetitions],
                   "cues": [item.to_dict() for item in self.cues],
                   "form": self.form.to_json() if self.form is not None else None, "notes": list(self.notes)}
        if self.live is not None:
            content["live"] = self.live.to_json()
        if self.files is not None:
            content["files"] = dict(self.files)
        return content

    @classmethod
    def from_json(cls, content: dict) -> "AnalysisReport":
        """A report from its JSON; raises ``ValueError`` for another schema."""
        if not isinstance(content, dict) or content.get("schema") != SCHEMA:
            found = content.get("schema") if isinstance(content, dict) else type(content).__name__
            raise ValueError(f"an analysis of schema {found!r}; this posegraph reads {SCHEMA}")
        return cls(str(content["video"]), str(content.get("how_read", "")), float(content["duration_s"]),
                   ExerciseAnswer.from_json(content["exercise"]),
                   tuple(MuscleGroup(**item) for item in content["muscles"]), int(content["count"]),
                   content.get("count_agreement"), tuple(CountedSet(**item) for item in content["sets"]),
                   tuple(RepetitionForm(**item) for item in content["repetitions"]),
                   tuple(Cue(**item) for item in content["cues"]),
                   FormSummary.from_json(content["form"]) if content.get("form") else None,
                   tuple(content["notes"]),
                   LiveSection.from_json(content["live"]) if content.get("live") else None, content.get("files"))


__all__ = ["SCHEMA", "AnalysisReport", "Announcement", "ClassProbability", "CountedSet", "ExerciseAnswer",
           "FormSummary", "Heatmap", "LiveSection", "MuscleGroup"]
