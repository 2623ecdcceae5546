"""Weighted ensembles of trained classifiers: a weighted average of their logits.

As in the source study (X3D + SlowFast), ``V = sum_i w_i * logits_i`` with weights summing to 1,
for the exercise logits and the muscle-group logits alike. Members may differ in family (ST-GCN,
MS-G3D, BiLSTM), layout or input; their columns are matched by class and group *name*, so they
must know the same classes (and, for muscles, the same groups), in any order.

A saved ensemble is plain YAML (members, weights, how the weights were chosen)::

    format: posegraph-ensemble/1
    members: [runs/stgcn/best.pt, runs/bilstm/best.pt]   # relative to this file's folder
    weights: [0.25, 0.75]
    chosen_by: searched on split val of demo_output/store (exercise accuracy, then log loss)
    class_names: [biceps_curl, ...]
    muscle_groups: [abs, ...]
    rejection: {temperature: 0.8, threshold: 0.41, coverage: 0.95, ...}   # calibrated "none of these"

**"None of these"** (:func:`fit_ensemble_rejection`): the ensemble's averaged logits get their own
temperature and probability threshold, fitted on the validation videos that chose the weights
(:func:`posegraph.gcn.rejection.fit_rejection`, 95% of them answered); and a video every member
with a distance rule finds far from all of its classes (each member's calibrated Mahalanobis
rule) is unfamiliar to the ensemble too. Unanimity, because one member's embedding may be far
for a reason the others do not share (a BiLSTM's features against a graph model's joints).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import yaml

from posegraph.features.muscles import MuscleTable

from .bundle import ModelBundle
from .evaluation import MUSCLE_THRESHOLD, sigmoid, softmax
from .heads import Heads

if TYPE_CHECKING:
    from .answers import Answer

FORMAT = "posegraph-ensemble/1"


class EnsembleError(ValueError):
    """Members that cannot be combined, or an ensemble file that cannot be used."""


@dataclass(frozen=True)
class Ensemble:
    """Members (checkpoint paths), their weights (summing to 1) and what they predict."""

    members: tuple[str, ...]
    weights: tuple[float, ...]
    class_names: tuple[str, ...]
    muscle_groups: tuple[str, ...] = ()
    chosen_by: str = "given"
    muscle_table: dict | None = field(default=None, hash=False, compare=False)
    rejection: dict | None = field(default=None, hash=False, compare=False)  # Rejection.to_dict()

    def to_dict(self, relative_to: Path | None = None) -> dict:
        def shown(path: str) -> str:
            if relative_to is None:
                return path
            try:
                return str(Path(path).resolve().relative_to(relative_to.resolve()))
            except ValueError:
                return str(Path(path).resolve())

        content = {"format": FORMAT, "members": [shown(path) for path in self.members],
                   "weights": [round(float(weight), 6) for weight in self.weights], "chosen_by": self.chosen_by,
                   "class_names": list(self.class_names), "muscle_groups": list(self.muscle_groups)}
        if self.muscle_table:
            content["muscle_table"] = self.muscle_table
        if self.rejection:
            content["rejection"] = self.rejection
        return content


def is_ensemble_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".yaml", ".yml")


def save_ensemble(ensemble: Ensemble, path: str | Path) -> Path:
    """Write the ensemble as YAML; member paths are kept relative to the file's folder where they can be."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(ensemble.to_dict(relative_to=path.parent), sort_keys=False))
    return path


def load_ensemble(path: str | Path) -> Ensemble:
    """An ensemble saved by :func:`save_ensemble`, its member paths resolved against the file's folder."""
    from posegraph.data.documents import read_document

    path = Path(path)
    content = read_document(path, FORMAT, "a posegraph ensemble", "write one with `posegraph ensemble ... --out FILE`",
                            EnsembleError)
    missing = [key for key in ("members", "weights", "class_names") if key not in content]
    if missing:
        raise EnsembleError(f"ensemble {path} lacks {', '.join(missing)}")
    members = tuple(str(member if Path(member).is_absolute() else path.parent / member) for member in content["members"])
    weights = check_weights([float(weight) for weight in content["weights"]], len(members), source=str(path))
    return Ensemble(members, weights, tuple(content["class_names"]), tuple(content.get("muscle_groups") or ()),
                    str(content.get("chosen_by", "given")), content.get("muscle_table"), content.get("rejection"))


def check_weights(weights: list[float], members: int, source: str = "--weights") -> tuple[float, ...]:
    """Weights as given, one per member, none negative, scaled to sum to 1."""
    if len(weights) != members:
        raise EnsembleError(f"{source}: {len(weights)} weights for {members} members; give one per member")
    if any(not np.isfinite(weight) or weight < 0 for weight in weights) or sum(weights) <= 0:
        raise EnsembleError(f"{source}: weights must be non-negative numbers with a positive sum (got {weights})")
    total = sum(weights)
    return tuple(weight / total for weight in weights)


# --- matching members by name ---------------------------------------------------------------

def agreed_names(bundles: list, paths: list[str]) -> tuple[tuple[str, ...], tuple[str, ...], dict | None]:
    """The ensemble's class names and muscle groups: every member with an exercise head must know
    the same classes, every member with a muscle head the same groups (order may differ)."""
    if len(bundles) < 2:
        raise EnsembleError("an ensemble needs at least two checkpoints")
    class_names: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    table, first_class, first_group = None, None, None
    for bundle, path in zip(bundles, paths):
        heads = bundle.heads
        if bundle.config.task == "phases":
            raise EnsembleError(f"{path} predicts repetition phases; ensembles combine exercise classifiers")
        if heads.exercise_count:
            if class_names is None:
                class_names, first_class = heads.class_names, path
            elif set(heads.class_names) != set(class_names):
                raise EnsembleError(_mismatch("classes", first_class, class_names, path, heads.class_names))
        if heads.groups:
            if groups is None:
                groups, first_group, table = heads.groups, path, heads.table.to_dict()
            elif set(heads.groups) != set(groups):
                raise EnsembleError(_mismatch("muscle groups", first_group, groups, path, heads.groups))
    if class_names is None:  # muscles-only members: their training classes, for labels
        class_names = tuple(sorted({name for bundle in bundles for name in bundle.class_names}))
    return class_names, groups or (), table


def _mismatch(what: str, first: str, first_names, other: str, other_names) -> str:
    only_first = sorted(set(first_names) - set(other_names))
    only_other = sorted(set(other_names) - set(first_names))
    return (f"members disagree on their {what}: {first} alone has {', '.join(only_first) or 'none'}; "
            f"{other} alone has {', '.join(only_other) or 'none'}. Ensembles match {what} by name: "
            f"combine models trained on the same {what} (--set labels=[...] when training)")


def aligned(heads, logits: np.ndarray, class_names: tuple[str, ...],
            groups: tuple[str, ...]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A member's ``(N, outputs)`` logits (from a model with ``heads``) as ``(exercise (N, K) | None,
    muscles (N, G) | None)`` in the ensemble's class and group order."""
    exercise = None
    if heads.exercise_count:
        position = {name: index for index, name in enumerate(heads.class_names)}
        exercise = heads.exercise(logits)[..., [position[name] for name in class_names]]
    muscles = None
    if heads.groups and groups:
        position = {name: index for index, name in enumerate(heads.groups)}
        muscles = heads.muscles(logits)[..., [position[name] for name in groups]]
    return exercise, muscles


def combine(parts: list[np.ndarray | None], weights: tuple[float, ...] | list[float]) -> np.ndarray | None:
    """``sum_i w_i * parts_i`` over the members that have this part, weights rescaled to sum to 1 over them."""
    present = [(part, weight) for part, weight in zip(parts, weights) if part is not None]
    total = sum(weight for _, weight in present)
    if not present:
        return None
    if total <= 0:  # every member with this part has weight 0: they count equally
        return sum(part for part, _ in present) / len(present)
    return sum(part * (weight / total) for part, weight in present)


# --- choosing the weights -------------------------------------------------------------------

def weight_grid(members: int, step: float = 0.05) -> list[tuple[float, ...]]:
    """Every weighting on a grid of ``step`` that sums to 1: for two members 0/100, 5/95, ..., 100/0
    (25/75, 50/50 and 75/25 included); for more, the same grid over the simplex (step 0.1 at least)."""
    if members < 2:
        raise EnsembleError("an ensemble needs at least two members")
    step = step if members == 2 else max(step, 0.1)
    parts = int(round(1 / step))
    grid = [tuple(count / parts for count in counts) for counts in itertools.product(range(parts + 1), repeat=members)
            if sum(counts) == parts]
    return grid


def _score(exercise: np.ndarray | None, muscles: np.ndarray | None, labels: np.ndarray,
           targets: np.ndarray | None) -> tuple[float, float]:
    """(higher is better, lower is better): exercise accuracy and log loss; without an exercise
    head, label-wise muscle accuracy and binary cross-entropy."""
    if exercise is not None:
        probabilities = softmax(exercise)
        accuracy = float((probabilities.argmax(1) == labels).mean())
        log_loss = float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, None)).mean())
        return accuracy, log_loss
    probabilities = np.clip(sigmoid(muscles), 1e-12, 1 - 1e-12)
    accuracy = float(((probabilities >= MUSCLE_THRESHOLD) == targets.astype(bool)).mean())
    cross_entropy = float(-(targets * np.log(probabilities) + (1 - targets) * np.log(1 - probabilities)).mean())
    return accuracy, cross_entropy


def search_weights(exercise_parts: list[np.ndarray | None], muscle_parts: list[np.ndarray | None],
                   labels: np.ndarray, targets: np.ndarray | None = None,
                   grid: list[tuple[float, ...]] | None = None) -> tuple[tuple[float, ...], list[dict]]:
    """The grid point with the best validation score: the highest exercise accuracy, ties broken by
    the lower log loss, then by the more even weighting (muscle accuracy and cross-entropy when no
    member has an exercise head). Returns the weights and every point's scores.

    Shapes: parts ``(N, K)`` / ``(N, G)`` per member (``None`` where a member lacks that head),
    labels ``(N,)``, targets ``(N, G)``.
    """
    grid = grid or weight_grid(len(exercise_parts))
    use_exercise = any(part is not None for part in exercise_parts)
    scored = []
    for weights in grid:
        accuracy, loss = _score(combine(exercise_parts, weights) if use_exercise else None,
                                None if use_exercise else combine(muscle_parts, weights), labels, targets)
        unevenness = float(np.ptp(weights))
        scored.append({"weights": [round(weight, 4) for weight in weights], "accuracy": accuracy, "loss": loss,
                       "_key": (-accuracy, round(loss, 9), unevenness)})
    best = min(scored, key=lambda row: row["_key"])
    for row in scored:
        row.pop("_key")
    return tuple(best["weights"]), scored


def fit_ensemble_rejection(exercise_parts: list[np.ndarray | None], labels: np.ndarray,
                           weights: tuple[float, ...]) -> dict | None:
    """The ensemble's calibrated "none of these" from its members' validation logits (module
    docstring), as plain data; None when no member has an exercise head.

    Shapes: parts ``(N, K)`` per member (``None`` without an exercise head), labels ``(N,)``."""
    from .rejection import fit_rejection

    exercise = combine(exercise_parts, weights)
    if exercise is None or not len(labels):
        return None
    return fit_rejection(exercise, labels).to_dict()


# --- applying an ensemble -------------------------------------------------------------------

@dataclass
class LoadedMembers:
    """The members' models and checkpoints, and what the ensemble predicts."""

    paths: list[str]
    models: list[torch.nn.Module]
    bundles: list[ModelBundle]
    class_names: tuple[str, ...]
    muscle_groups: tuple[str, ...]
    muscle_table: dict | None

    @property
    def heads(self) -> Heads:
        """The ensemble's outputs: its class names and, when the members have them, muscle groups."""
        if not self.muscle_groups:
            return Heads(tuple(self.class_names))
        mode = "joint" if any(bundle.config.muscles != "only" for bundle in self.bundles) else "only"
        return Heads(tuple(self.class_names), mode, MuscleTable.from_dict(self.muscle_table))

    @property
    def num_persons(self) -> int:
        """The most people any member reads."""
        return max(int(bundle.num_persons or 1) for bundle in self.bundles)

    def video_logits(self, sequence, weights: tuple[float, ...]) -> np.ndarray:
        """``(outputs,)`` logits of one video: exercise columns then muscle columns, each the weighted average."""
        return self._outputs(sequence, weights)[0]

    def _outputs(self, sequence, weights: tuple[float, ...]) -> tuple[np.ndarray, bool]:
        """The logits of :meth:`video_logits`, and whether every member with a distance rule finds
        the video far from all of its classes."""
        from .families import head_inputs
        from .inference import video_logits

        parts, verdicts = [], []
        for model, bundle in zip(self.models, self.bundles):
            with head_inputs(model) as captured:
                logits = video_logits(model, bundle, sequence)
            parts.append(aligned(bundle.heads, logits, self.class_names, self.muscle_groups))
            rule = bundle.rejection
            if rule is not None and rule.distance is not None and captured:
                embedding = torch.cat(captured).mean(dim=0, keepdim=True).numpy()
                verdicts.append(bool(rule.distance(embedding)[0] > rule.distance_threshold))
        return joined(parts, weights), bool(verdicts) and all(verdicts)

    def answer(self, sequence, weights: tuple[float, ...], top_k: int = 5, rejection: dict | None = None) -> Answer:
        """The ensemble's answer for one sequence; with ``rejection`` (the ensemble's calibration,
        :func:`fit_ensemble_rejection`), "none of these" below its calibrated threshold or where
        every member with a distance rule finds the video unfamiliar."""
        from .answers import answer_from_logits
        from .rejection import NONE_OF_THESE
        from .rejection import Rejection

        logits, unfamiliar = self._outputs(sequence, weights)
        rule = Rejection.from_dict(rejection) if rejection else None
        answer = answer_from_logits(self.heads, logits, top_k, rule)
        if rule is not None and unfamiliar and answer.answer and not answer.rejected:
            return dataclasses.replace(answer, answer=NONE_OF_THESE, rejected=True)
        return answer


def joined(parts: list[tuple[np.ndarray | None, np.ndarray | None]], weights) -> np.ndarray:
    exercise = combine([part[0] for part in parts], weights)
    muscles = combine([part[1] for part in parts], weights)
    return np.concatenate([array for array in (exercise, muscles) if array is not None], axis=-1)


def load_members(paths: list[str | Path], device: str = "auto") -> LoadedMembers:
    """Load each member (a checkpoint, or a run folder meaning its ``best.pt``) and check they combine."""
    from .checkpoint import checkpoint_file
    from .inference import load_classifier

    resolved = [str(checkpoint_file(path)) for path in paths]
    loaded = [load_classifier(path, device) for path in resolved]
    models, bundles = [model for model, _ in loaded], [bundle for _, bundle in loaded]
    class_names, groups, table = agreed_names(bundles, resolved)
    return LoadedMembers(resolved, models, bundles, class_names, groups, table)


def member_outputs(members: LoadedMembers, store, split: str) -> tuple[list, np.ndarray, np.ndarray | None, str]:
    """Every member's aligned logits on the store's videos of ``split`` (classes matched by name),
    the labels ``(N,)`` in the ensemble's class order, the muscle targets ``(N, G)`` and a line
    saying which videos were used."""
    from .inference import evaluation_items

    items, note = evaluation_items(store, list(members.class_names), split)
    return (*items_outputs(members, store, items), note)


def items_outputs(members: LoadedMembers, store, items: list) -> tuple[list, np.ndarray, np.ndarray | None]:
    """Every member's aligned logits on ``items`` (labels counted in the ensemble's class order),
    the labels ``(N,)`` and the muscle targets ``(N, G)`` (None without a muscle head)."""

    from .families import family_of

    parts, labels = [], np.array([item.label for item in items])
    for model, bundle in zip(members.models, members.bundles):
        family = family_of(bundle.config)
        dataset = family.eval_set(store, items, bundle.layout, bundle.config, bundle.extra)
        logits, _ = family.video_logits(model, dataset, bundle.config, next(model.parameters()).device,
                                        heads=bundle.heads)
        parts.append(aligned(bundle.heads, logits, members.class_names, members.muscle_groups))
    targets = MuscleTable.from_dict(members.muscle_table).membership(list(members.class_names))[labels] \
        if members.muscle_groups else None
    return parts, labels, targets


def load_saved(path: str | Path) -> tuple[Ensemble, LoadedMembers]:
    """The saved ensemble at ``path`` and its members, loaded and checked to combine."""
    ensemble = load_ensemble(path)
    return ensemble, load_members(list(ensemble.members))


def outputs_metrics(exercise: np.ndarray | None, muscles: np.ndarray | None, labels: np.ndarray,
                    targets: np.ndarray | None, class_names, groups) -> dict:
    """Exercise metrics (when there is an exercise part) and muscle metrics under ``muscles``."""
    from .evaluation import classification_metrics, muscle_metrics

    metrics = classification_metrics(exercise, labels, list(class_names)) if exercise is not None \
        else {"samples": int(len(labels))}
    if muscles is not None:
        metrics["muscles"] = muscle_metrics(muscles, targets, groups)
    return metrics


def evaluate_ensemble(paths: list[str | Path], store_path: str | Path, split: str = "test",
                      weights: list[float] | None = None, search_split: str = "val",
                      log=print) -> tuple[Ensemble, dict]:
    """The ensemble of ``paths`` (weights given, or searched on ``search_split``) and its report:
    its metrics on ``split`` beside each member's, and the searched grid."""
    from posegraph.data import SkeletonStore

    store = SkeletonStore(store_path, create=False)
    members = load_members(paths)
    search: list[dict] = []
    try:
        val_parts, val_labels, val_targets, val_note = member_outputs(members, store, search_split)
    except ValueError as error:
        if weights is None:
            raise EnsembleError(f"cannot search the weights on split {search_split!r}: {error}. "
                                "Give --weights, or a store with a validation split") from None
        val_parts, val_labels, val_note = None, None, f"no split {search_split!r}: {error}"
    if weights is None:
        chosen, search = search_weights([part[0] for part in val_parts], [part[1] for part in val_parts],
                                        val_labels, val_targets)
        criterion = "exercise accuracy, then log loss" if any(part[0] is not None for part in val_parts) \
            else "muscle label-wise accuracy, then cross-entropy"
        chosen_by = f"searched on split {search_split} of {store.root} ({criterion}; {val_note})"
        log(f"weights {', '.join(f'{w:.2f}' for w in chosen)}: {chosen_by}")
    else:
        chosen, chosen_by = check_weights(list(weights), len(members.paths)), "given"
    rejection = fit_ensemble_rejection([part[0] for part in val_parts], val_labels, chosen) if val_parts else None
    if rejection is not None:
        log(f"'none of these' calibrated on split {search_split} ({rejection['validation_videos']} videos): "
            f"temperature {rejection['temperature']:.2f}, threshold {rejection['threshold']:.2f}")
    else:
        log(f"'none of these' not calibrated ({val_note}): every video gets one of the classes")
    ensemble = Ensemble(tuple(members.paths), tuple(chosen), members.class_names, members.muscle_groups,
                        chosen_by, members.muscle_table, rejection)
    report = report_on(members, ensemble, store, split, search)
    if rejection is not None:
        report["rejection"] = {key: rejection[key] for key in ("temperature", "threshold", "coverage",
                                                                 "validation_videos")}
    return ensemble, report


def report_on(members: LoadedMembers, ensemble: Ensemble, store, split: str, search: list[dict] | None = None) -> dict:
    """The ensemble's metrics on ``split`` beside each member's (alone, on the same videos)."""
    parts, labels, targets, note = member_outputs(members, store, split)
    exercise = combine([part[0] for part in parts], ensemble.weights)
    muscles = combine([part[1] for part in parts], ensemble.weights)
    report = {"evaluated_on": note, "weights": list(ensemble.weights), "chosen_by": ensemble.chosen_by,
              "members": {}, "ensemble": outputs_metrics(exercise, muscles, labels, targets, ensemble.class_names,
                                                         ensemble.muscle_groups)}
    for path, part in zip(members.paths, parts):
        report["members"][path] = outputs_metrics(part[0], part[1], labels, targets, ensemble.class_names,
                                                  ensemble.muscle_groups)
    if search:
        report["weight_search"] = search
    return report


def evaluate_saved(path: str | Path, store_path: str | Path, split: str = "test") -> dict:
    """The report of a saved ensemble on ``split`` of any store."""
    from posegraph.data import SkeletonStore

    ensemble, members = load_saved(path)
    return report_on(members, ensemble, SkeletonStore(store_path, create=False), split)
