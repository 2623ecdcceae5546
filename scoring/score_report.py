"""Form scoring for one video and one corpus, as the command line says it: fit a reference from a
store (``posegraph scoring fit``), read a saved one, and the report of one video's scores
(``posegraph score``). The work is :class:`~posegraph.scoring.FormReference`; this module names,
loads and reports it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .reference import FitOptions, FormReference
from .result import FormScore


PICTURE_SUFFIXES = (".png", ".mp4", ".gif")


def parse_fit_options(pairs: list[str]) -> dict[str, object]:
    """``["max_frames=5000", "mirror=false"]`` -> typed :class:`FitOptions` fields."""
    types = {item.name: item.type for item in dataclasses.fields(FitOptions)}
    options: dict[str, object] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        key = key.strip()
        if not separator or key not in types:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE with KEY one of {', '.join(types)}")
        kind = types[key] if isinstance(types[key], str) else types[key].__name__
        try:
            if kind == "bool":
                if text.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                options[key] = text.strip().lower() in ("true", "1", "yes")
            else:
                options[key] = int(text) if kind == "int" else float(text)
        except ValueError:
            raise ValueError(f"--set {pair!r}: {key} must be a {kind}") from None
    return options


def reference_name(path: str | Path) -> str:
    """The name scores are stored under: the file name without ``.json`` / ``.reference``."""
    name = Path(path).name
    for suffix in (".json", ".reference"):
        name = name.removesuffix(suffix)
    return name


def load_reference(path: str | Path) -> FormReference:
    """A saved reference; a missing file is a ``FileNotFoundError`` that says how to make one."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no form reference at {path}; fit one with `posegraph scoring fit "
                                f"--store STORE --exercise EXERCISE --out {path}`")
    return FormReference.load(path)


def fit_reference(store_path: str | Path, exercise: str, out: str | Path, label: str | None = None,
                  video_ids: list[str] | None = None, layout: str | None = None,
                  split: str | None = None, options: dict[str, object] | None = None) -> FormReference:
    """Fit a reference on stored videos (ids may be unique prefixes) and save it to ``out``."""
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import resolve_video_id
    from posegraph.scoring.sources import fit_from_store

    store = SkeletonStore(store_path, create=False)
    ids = [resolve_video_id(store, video) for video in video_ids] if video_ids else None
    reference = fit_from_store(store, exercise, label, ids, layout, split, **(options or {}))
    reference.save(out)
    return reference


def fit_summary(reference: FormReference, out: str | Path) -> str:
    """What ``posegraph scoring fit`` prints."""
    frames = reference.info["frames"]
    videos = reference.info.get("videos") or []
    return (f"reference {out}: exercise {reference.exercise}, layout {reference.layout}, "
            f"{len(videos)} videos\n"
            f"frames: {frames['given']} given, {frames['used']} used ({frames['too_little_seen']} showing "
            f"too little of a body, {frames['given'] - frames['too_little_seen'] - frames['sampled']} "
            f"left out by the max_frames subsample, {frames['fitting_no_phase']} fitting no phase)\n"
            f"phases found: {len(reference.phases.sizes)} (pose clusters of "
            f"{int(reference.phases.sizes.min())}-{int(reference.phases.sizes.max())} frames)")


@dataclass
class ScoreReport:
    """Everything ``posegraph score`` says about one video."""

    video: str  # the video id (stored) or the file path
    source: object  # a posegraph.skeleton.source.SkeletonSource
    how_read: str
    exercise: str
    exercise_source: str
    reference_path: Path
    reference: FormReference
    result: FormScore
    stored_frames: int | None = None  # frames written to the scores table; None: not stored
    store_note: str | None = None
    picture: Path | None = None
    warnings: list[str] = field(default_factory=list)  # for stderr: the exercise differs from the reference's

    def to_dict(self) -> dict[str, object]:
        """The JSON of ``--json``: the FormScore fields plus exercise, its source, the reference, the method."""
        return {**self.result.to_dict(), "exercise": self.exercise, "exercise_source": self.exercise_source,
                "reference": {"path": str(self.reference_path), "name": reference_name(self.reference_path),
                              "exercise": self.reference.exercise, "layout": self.reference.layout},
                "method": self.result.method}

    def text(self) -> str:
        """The plain-text summary."""
        result = self.result
        frames = len(result.frame_scores)
        scored = int(np.isfinite(result.frame_scores).sum())
        other = (f"; not the reference's exercise ({self.reference.exercise})"
                 if self.exercise != self.reference.exercise else "")
        lines = [f"video: {self.video} ({self.how_read}, {frames} frames, {scored} with a score)",
                 f"exercise: {self.exercise} ({self.exercise_source}){other}",
                 f"reference: {self.reference_path} ({self.reference.exercise}, {self.reference.layout}), "
                 f"method {result.method}",
                 f"form score: {_score(result.mean_score)} / 100; running score at the end "
                 f"{_score(_last(result.running_score))}",
                 "worst joints:"]
        for worst in result.worst_joints:
            when = f"{worst.time:.2f} s, " if worst.time is not None else ""
            lines.append(f"  {worst.joint:<16} {worst.mean_score:5.1f}  lowest at {when}frame {worst.frame_index}")
        if self.stored_frames is not None:
            lines.append(f"stored: {self.stored_frames} frames in the scores table (reference "
                         f"{reference_name(self.reference_path)!r}, method {result.method})")
        if self.store_note:
            lines.append(self.store_note)
        if self.picture:
            lines.append(f"picture: {self.picture}")
        return "\n".join(lines)


def _score(value: float) -> str:
    return f"{value:.1f}" if np.isfinite(value) else "none"


def _last(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite[-1]) if len(finite) else float("nan")
