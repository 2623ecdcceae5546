"""Counting repetitions with a trained phase model (``posegraph train --set task=phases``).

The model gives every frame a phase; the phases are decoded into repetitions with the study's rule
(:func:`posegraph.scoring.phase_labels.count_from_phases`: an end counts only after a middle, or a
second half after a first). ``posegraph count --checkpoint`` and the benchmarks use these.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from posegraph.gcn.bundle import ModelBundle
from posegraph.gcn.families import family_of
from posegraph.gcn.inference import load_classifier
from posegraph.scoring.counting import RepetitionCount
from posegraph.scoring.phase_labels import count_from_phases
from posegraph.skeleton.source import SkeletonSource


def count_with_checkpoint(source: SkeletonSource, checkpoint: str | Path) -> RepetitionCount:
    """Count with a phase model (``posegraph train --set task=phases``): a phase per frame, decoded
    with the study's rule (an end counts only after a middle, or a second half after a first)."""
    model, bundle = load_phase_model(checkpoint)
    return count_with_model(model, bundle, source.joints, source.layout, source.timestamps, source.fps,
                            source.width, source.height)


def load_phase_model(checkpoint: str | Path) -> tuple:
    """The model and bundle of a phase checkpoint (a classifier's is refused, saying so)."""
    model, bundle = load_classifier(checkpoint)
    config = bundle.config
    if config.task != "phases":
        raise ValueError(f"{checkpoint} is an exercise classifier ({config.model}); --checkpoint takes a phase "
                         f"model, trained with `posegraph train --set task=phases`")
    return model, bundle


def count_with_model(model, bundle: ModelBundle, joints: np.ndarray, layout: str, timestamps: np.ndarray, fps: float,
                     width: int | None = None, height: int | None = None) -> RepetitionCount:
    """Count one person's skeleton ``(T, V, 4)`` with a loaded phase model (see :func:`load_phase_model`)."""
    config = bundle.config
    sequence = SkeletonSource.from_people(np.asarray(joints)[None], layout, np.asarray(timestamps), width, height)
    names, probabilities, sources = family_of(config).frame_phases(model, config, bundle.layout,
                                                                   list(bundle.class_names), sequence)
    return count_from_phases(names, probabilities, list(bundle.class_names), sources, len(joints), fps,
                             config.phase_scheme, f"phases-{config.model}/{config.phase_scheme}")
