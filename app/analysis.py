"""The whole answer for one video (issue 24): exercise, muscle groups, sets and repetitions, form per
repetition, cues; as a versioned JSON document.

:func:`analyse_source` runs, on one :class:`~posegraph.skeleton.source.SkeletonSource`:

1. the bundle's classifier (calibrated; "none of these" when far from every class it knows) and
   its muscle head when it has one;
2. the label-free counter (:func:`posegraph.scoring.count_repetitions`): sets and repetitions with
   their start, turning point and end;
3. the form reference of the *recognised* exercise (none when rejected or when the bundle has no
   reference for it): per joint and frame, then per repetition (score, worst joints, depth against
   good executions' range of motion, tempo; :mod:`posegraph.scoring.repetition_form`);
4. cues in plain words (:mod:`posegraph.scoring.cues`).

The answer is an :class:`~posegraph.scoring.analysis_report.AnalysisReport`, built here and only
here (:func:`_report`); its JSON (``SCHEMA``, documented in the README) has, at its top level:
``schema``, ``video``, ``duration_s``, ``exercise``, ``muscles``, ``sets``, ``repetitions`` (each
with ``start_s``, ``end_s``, ``score``), ``cues``, ``form`` (mean score, reference, a joint-by-time
heat map) and ``notes`` (what could not be judged, and why; and a count the counters disagreed on).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from posegraph.gcn.classifier import Classifier
from posegraph.scoring.analysis_report import (  # noqa: F401
    SCHEMA,
    AnalysisReport,
    ClassProbability,
    CountedSet,
    ExerciseAnswer,
    FormSummary,
    Heatmap,
    MuscleGroup,
)
from posegraph.scoring.counting import count_repetitions, uncertainty_note
from posegraph.scoring.cues import cues_for
from posegraph.scoring.repetition_form import BODY_NAMES, repetition_forms
from posegraph.skeleton.source import SkeletonSource

from .analysis_bundle import AnalysisBundle, load_bundle

HEATMAP_COLUMNS = 120  # time samples of the joint-by-time heat map


@dataclass
class Analyser:
    """A loaded bundle and its classifier (any :class:`~posegraph.gcn.classifier.Classifier`:
    a checkpoint, an ensemble, an ONNX export), ready for many videos."""

    bundle: AnalysisBundle
    classifier: Classifier

    @classmethod
    def load(cls, path, runtime: str = "torch") -> "Analyser":
        """``runtime="onnx"``: the bundle exported whole (``posegraph export BUNDLE --format onnx``),
        applied with onnxruntime and without torch."""
        from .classifiers import open_classifier

        bundle = load_bundle(path, need_checkpoint=runtime != "onnx")  # first: a folder that is none says how to make one
        return cls(bundle, open_classifier(path if runtime == "onnx" else bundle.classifier, runtime))

    def answer(self, sequence, top_k: int = 3, reject: bool = True):
        """The classifier's :class:`~posegraph.gcn.answers.Answer` for one video's ``SkeletonSource``."""
        return self.classifier.answer(sequence, top_k, reject)

    def reference(self, exercise: str):
        """The bundle's form reference of ``exercise`` (None: it has none), read once."""
        cache = self.__dict__.setdefault("_references", {})
        if exercise not in cache:
            cache[exercise] = self.bundle.reference(exercise)
        return cache[exercise]


def analyse_source(analyser: Analyser, source: SkeletonSource, name: str, reject: bool = True) -> AnalysisReport:
    """The analysis of one video (module docstring). Raises ``ValueError`` naming the video when
    nobody is seen in it."""
    return analyse(analyser, source, name, reject)[0]


def analyse(analyser: Analyser, source: SkeletonSource, name: str, reject: bool = True):
    """:func:`analyse_source`'s :class:`~posegraph.scoring.analysis_report.AnalysisReport`, and the
    video's :class:`~posegraph.scoring.FormScore` (None where form was not judged) for drawing it."""

    if not source.has_person:
        raise ValueError(f"{name}: no person detected in any frame; nothing to analyse")
    notes: list[str] = []
    answer = analyser.answer(source, top_k=3, reject=reject)
    exercise = None if answer.rejected else answer.answer
    count = count_repetitions(source.joints, source.layout, source.fps, exercise)
    if note := uncertainty_note(count):
        notes.append(note)
    reference, rom, reference_name = form_judge(analyser, exercise, source.layout, notes)
    form = None if reference is None else reference.score(source.joints, source.frame_size,
                                                          timestamps=source.timestamps)
    forms = repetition_forms(count, form, source.joints, source.layout, source.timestamps, rom, source.frame_size)
    counted = count.to_dict(timestamps=source.timestamps)
    return _report(source, name, answer, count, counted, forms, exercise, form, reference_name, notes), form


def form_judge(analyser: Analyser, exercise: str | None, layout: str, notes: list[str] | None = None):
    """``(reference, range_of_motion, reference_name)`` that judge ``exercise`` in ``layout``; the
    reference is None (with the reason appended to ``notes``) where form cannot be judged."""
    notes = [] if notes is None else notes
    if exercise is None:
        notes.append("form not judged: the exercise is none of those the bundle knows")
        return None, None, None
    entry = analyser.bundle.exercises.get(exercise)
    rom = entry.range_of_motion if entry else None
    reference = analyser.reference(exercise)
    if reference is None:
        notes.append(f"form not judged: the bundle has no reference for {exercise}")
        return None, rom, None
    if reference.layout != layout:
        notes.append(f"form not judged: the bundle's {exercise} reference is in layout {reference.layout}, "
                     f"the video in {layout}; build the bundle from a store in {layout}")
        return None, None, None
    return reference, rom, entry.reference


def _report(source, name, answer, count, counted, forms, exercise, form, reference_name, notes) -> AnalysisReport:
    """The one place an :class:`AnalysisReport` is built."""
    return AnalysisReport(
        video=name, how_read=source.how_read,
        duration_s=round(float(source.timestamps[-1] - source.timestamps[0]), 3) if len(source.timestamps) else 0.0,
        exercise=ExerciseAnswer(answer.answer, answer.rejected, answer.threshold,
                                tuple(ClassProbability(label, round(p, 4)) for label, p in answer.ranking)),
        muscles=tuple(MuscleGroup(group, round(p, 4), group in answer.muscles_worked) for group, p in answer.muscles),
        count=count.count, count_agreement=counted["agreement"],
        sets=tuple(CountedSet(**item) for item in counted["sets"]), repetitions=tuple(forms),
        cues=tuple(cues_for(forms, exercise)), form=_form_summary(form, reference_name, source.timestamps),
        notes=tuple(notes))


def _form_summary(form, reference: str | None, timestamps: np.ndarray) -> FormSummary | None:
    """Mean score, the reference, and the body joints' scores over time (a heat map of at most
    :data:`HEATMAP_COLUMNS` samples; None where a joint was not scored)."""
    if form is None:
        return None
    body = [position for position, joint in enumerate(form.joint_names) if joint in BODY_NAMES]
    samples = np.unique(np.linspace(0, len(timestamps) - 1, min(HEATMAP_COLUMNS, len(timestamps))).astype(int))
    scores = form.joint_scores[samples][:, body].T
    return FormSummary(None if not np.isfinite(form.mean_score) else round(float(form.mean_score), 1), reference,
                       Heatmap(tuple(form.joint_names[position] for position in body),
                               tuple(round(float(timestamps[index]), 3) for index in samples),
                               tuple(tuple(None if not np.isfinite(v) else round(float(v), 1) for v in row)
                                     for row in scores)))


def analysis_rows(report: AnalysisReport, source: SkeletonSource, bundle: str):
    """The store rows of one stored video's analysis (:meth:`SkeletonStore.write_analyses`)."""
    import json

    from posegraph.data.records import AnalysisRows

    exercise = report.exercise
    top = exercise.closest.probability if exercise.closest else 0.0
    repetitions = tuple({**rep.to_dict(), "worst_joint": rep.worst_joints[0]["joint"] if rep.worst_joints else None}
                        for rep in report.repetitions)
    return AnalysisRows(source.video_id, source.layout, bundle, exercise.answer, bool(exercise.rejected),
                        float(top), int(report.count), report.mean_score,
                        tuple(cue.text for cue in report.cues), repetitions, json.dumps(report.to_json()),
                        source.extracted_at)


def analysis_text(report: AnalysisReport) -> str:
    """The analysis in a few lines for a terminal."""
    exercise = report.exercise
    top = exercise.closest or ClassProbability("?", 0.0)
    head = (f"none of these (closest: {top.name} {top.probability:.0%})" if exercise.rejected
            else f"{exercise.answer} ({top.probability:.0%})")
    lines = [f"{report.video}: {head}"]
    if report.worked:
        lines.append("muscles worked: " + ", ".join(report.worked))
    sets = report.sets
    lines.append(f"{report.count} repetitions" + (f" in {len(sets)} set(s): " + ", ".join(
        f"{item.count} at {item.start_s:.1f}-{item.end_s:.1f} s" for item in sets) if sets else ""))
    for rep in report.repetitions:
        score = "-" if rep.score is None else f"{rep.score:.0f}"
        depth = "" if rep.depth is None else f", depth {rep.depth:.0%}"
        lines.append(f"  rep {rep.repetition}: {rep.start_s:.2f}-{rep.end_s:.2f} s, score {score}{depth}, "
                     f"{rep.there_s:.1f} s there / {rep.back_s:.1f} s back")
    if report.form:
        lines.append(f"form: {report.form.mean_score} of 100 against {report.form.reference}")
    lines += [f"cue: {cue.text}" for cue in report.cues]
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
