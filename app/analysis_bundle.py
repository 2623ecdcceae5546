"""An analysis bundle: one versioned folder with everything ``posegraph analyse`` needs.

::

    BUNDLE/
      bundle.yaml            format, the classifier, one entry per exercise, the counter
      classifier.pt          the classifier checkpoint (calibrated "none of these", muscle head if trained),
                             or classifier.yaml and members/ for a saved ensemble
      references/squat.json  one form reference per exercise (posegraph scoring fit's format)

``bundle.yaml`` (plain data, ``format: posegraph-analysis-bundle/1``)::

    classifier: classifier.pt
    classifier_from: runs/stgcn-.../best.pt
    layout: blazepose33            # the references' layout: videos are scored in it
    exercises:
      squat: {reference: references/squat.json, fitted_from: "12 videos of split train of corpus",
              range_of_motion: {travel: 2.96, swing_deg: {left_knee_angle: 92.1, ...}, repetitions: 36}}
    counter: {method: periodic-sets/3}

The reference used for a video is the one of the exercise the classifier recognised, never
picked by hand; an exercise without good executions in the store has no reference (its form is
not judged, and the bundle says so).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from posegraph.scoring import FormReference
from posegraph.scoring.counting import METHOD as COUNTER_METHOD
from posegraph.scoring.repetition_form import RangeOfMotion, angle_swings, fit_range_of_motion, travels

FORMAT = "posegraph-analysis-bundle/1"


@dataclass(frozen=True)
class ExerciseEntry:
    """What the bundle knows of one exercise: its reference file (relative to the bundle) and the
    good executions' range of motion (None when the store had none)."""

    reference: str | None
    range_of_motion: RangeOfMotion | None
    fitted_from: str


@dataclass(frozen=True)
class AnalysisBundle:
    """A loaded bundle (see the module docstring)."""

    root: Path
    classifier: Path
    layout: str
    exercises: dict[str, ExerciseEntry]
    counter: dict
    created: str

    def reference(self, exercise: str) -> FormReference | None:
        """The form reference of ``exercise`` (None: the bundle has none for it)."""
        entry = self.exercises.get(exercise)
        if entry is None or entry.reference is None:
            return None
        return FormReference.load(self.root / entry.reference)


def is_bundle(path: str | Path) -> bool:
    """Whether ``path`` is an analysis bundle's folder (it holds ``bundle.yaml``)."""
    return (Path(path) / "bundle.yaml").is_file()


def load_bundle(path: str | Path, need_checkpoint: bool = True) -> AnalysisBundle:
    """Read ``path/bundle.yaml``; errors say what is wrong and how to build one. An exported
    bundle used with ``--runtime onnx`` (``need_checkpoint=False``) may leave its PyTorch checkpoint out."""
    from posegraph.data.documents import read_document

    root = Path(path)
    manifest = root / "bundle.yaml"
    if not manifest.is_file():
        raise FileNotFoundError(f"{root} is not an analysis bundle (no bundle.yaml); build one with "
                                "`posegraph bundle build --classifier RUN --store STORE --out DIR`")
    content = read_document(manifest, FORMAT, "an analysis bundle", "build the bundle again with this version")
    exercises = {}
    for name, entry in (content.get("exercises") or {}).items():
        rom = entry.get("range_of_motion")
        exercises[str(name)] = ExerciseEntry(entry.get("reference"), RangeOfMotion.from_dict(rom) if rom else None,
                                             str(entry.get("fitted_from", "")))
    classifier = root / content["classifier"]
    if need_checkpoint and not classifier.is_file():
        raise FileNotFoundError(f"{manifest} names {classifier}, which is missing: build the bundle again")
    return AnalysisBundle(root, classifier, str(content["layout"]), exercises, dict(content.get("counter") or {}),
                          str(content.get("created", "")))


def build_bundle(classifier: str | Path, store_path: str | Path, out: str | Path,
                 references: dict[str, str | Path] | None = None, split: str | None = "train",
                 log=print) -> AnalysisBundle:
    """Build a bundle: the classifier (a checkpoint, a run folder, or a saved ensemble with its
    members) copied in, and per class it knows
    a reference (given in ``references``, else fitted on the store's ``ok`` videos of that label
    in ``split``) with the range of motion of those videos' counted repetitions."""
    from posegraph.data import SkeletonStore

    store = SkeletonStore(store_path, create=False)
    root = Path(out)
    (root / "references").mkdir(parents=True, exist_ok=True)
    kept, source, class_names, layout = _copy_classifier(classifier, root, log)
    exercises, layouts = {}, set()
    for exercise in class_names:
        entry, fitted = _exercise_entry(store, exercise, root, (references or {}).get(exercise), split, log)
        exercises[exercise] = entry
        layouts |= {fitted} if fitted else set()
    if len(layouts) > 1:
        raise ValueError(f"the references are in layouts {sorted(layouts)}; fit them all in one layout")
    content = {"format": FORMAT, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "classifier": kept, "classifier_from": str(source),
               "layout": layouts.pop() if layouts else layout,
               "exercises": {name: {"reference": entry.reference, "fitted_from": entry.fitted_from,
                                    "range_of_motion": entry.range_of_motion.to_dict() if entry.range_of_motion else None}
                             for name, entry in exercises.items()},
               "counter": {"method": COUNTER_METHOD}}
    (root / "bundle.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    return load_bundle(root)


def _copy_classifier(classifier: str | Path, root: Path, log) -> tuple[str, Path, tuple[str, ...], str]:
    """Copy the classifier into the bundle: ``(its name there, where it came from, the classes it
    knows, its layout)``. An ensemble is copied with its members (``members/``)."""
    from dataclasses import replace

    from posegraph.gcn.checkpoint import checkpoint_file, load_checkpoint
    from posegraph.gcn.ensemble import is_ensemble_file, load_ensemble, save_ensemble

    if is_ensemble_file(classifier):
        ensemble = load_ensemble(classifier)
        (root / "members").mkdir(parents=True, exist_ok=True)
        copied = []
        for number, member in enumerate(ensemble.members):
            target = root / "members" / f"{number}-{Path(member).name if Path(member).suffix else 'best.pt'}"
            shutil.copy2(checkpoint_file(member), target)
            copied.append(str(target))
        save_ensemble(replace(ensemble, members=tuple(copied)), root / "classifier.yaml")
        if ensemble.rejection is None:
            log(f"note: {classifier} has no calibrated 'none of these'; save it again with a validation split")
        return "classifier.yaml", Path(classifier), ensemble.class_names, load_checkpoint(copied[0]).layout
    source = checkpoint_file(classifier)
    bundle = load_checkpoint(source)
    if bundle.config.task == "phases" or not bundle.class_names:
        raise ValueError(f"{source} does not recognise exercises; give an exercise classifier's run")
    if bundle.rejection is None:
        log(f"note: {source} has no calibrated 'none of these'; `posegraph calibrate` it for one")
    shutil.copy2(source, root / "classifier.pt")
    return "classifier.pt", source, tuple(bundle.class_names), bundle.layout


def _exercise_entry(store, exercise: str, root: Path, given: str | Path | None, split: str | None,
                    log) -> tuple[ExerciseEntry, str | None]:
    """The entry of one exercise, its reference written under ``root/references``, and its layout."""
    from posegraph.data.sources import stored_source
    from posegraph.scoring.counting import count_repetitions
    from posegraph.scoring.sources import fit_on_videos, reference_videos

    target = root / "references" / f"{exercise}.json"
    try:
        rows = reference_videos(store, exercise, split=split)
    except ValueError as error:
        rows = []
        if given is None:
            log(f"{exercise}: no reference ({error}); its form will not be judged")
            return ExerciseEntry(None, None, "no good executions in the store"), None
    if given is not None:
        reference = FormReference.load(given)
        shutil.copy2(given, target)
        fitted_from = f"given: {given}"
        sources = [stored_source(store, row["video_id"], row["layout"]) for row in rows]
    else:
        reference, sources = fit_on_videos(store, rows, exercise)
        reference.save(target)
        fitted_from = f"{len(rows)} videos{f' of split {split}' if split else ''} of {store.root}"
    swings, travel = [], []
    for source in sources:
        count = count_repetitions(source.joints, source.layout, source.fps)
        starts, ends = count.boundaries()
        if len(starts):
            swings.append(angle_swings(source.joints, source.layout, source.fps, starts, ends, source.frame_size))
            travel.append(travels(count, source.joints, source.layout))
    rom = fit_range_of_motion(swings, travel) if swings else None
    log(f"{exercise}: reference from {fitted_from}; range of motion from "
        f"{rom.repetitions if rom else 0} repetitions")
    return ExerciseEntry(f"references/{exercise}.json", rom, fitted_from), reference.layout
