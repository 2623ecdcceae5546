"""``posegraph count``: repetitions of a video file or a stored video, printed, plotted, or live."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posegraph.scoring.counting import OnlineRepetitionCounter, RepetitionCount, count_repetitions


@dataclass
class CountReport:
    video: str
    how_read: str
    result: RepetitionCount
    repetitions: list[dict]
    exercise: str | None
    sets: list[dict] = field(default_factory=list)
    picture: Path | None = None
    saved: str | None = None

    def to_dict(self) -> dict:
        return {"video": self.video, "count": self.result.count, "repetitions": self.repetitions, "sets": self.sets,
                "exercise": self.exercise, "method": self.result.method, "read": self.how_read,
                "fps": self.result.fps}

    def text(self) -> str:
        lines = [f"{self.video}: {self.result.count} repetition(s) ({self.how_read}; {self.result.method})"]
        if len(self.sets) > 1:
            lines += [f"  set {item['set']}: {item['count']} repetition(s), {item['start_s']:.2f}-{item['end_s']:.2f} s"
                      for item in self.sets]
        lines += [f"  {row['repetition']:>3}  frame {row['frame_index']:>6}  {row['time_s']:8.2f} s" +
                  (f"  ({row['start_s']:.2f}-{row['end_s']:.2f} s)" if "start_s" in row else "")
                  for row in self.repetitions]
        if self.picture:
            lines.append(f"plot: {self.picture}")
        if self.saved:
            lines.append(self.saved)
        return "\n".join(lines)


def count_video(target: str, store_path: str | Path | None = None, exercise: str | None = None,
                out: str | Path | None = None, live: bool = False, on_repetition=print,
                save: bool = False, checkpoint: str | Path | None = None) -> CountReport:
    """Count one video's repetitions (see the module docstring); ``live`` reports them as they settle;
    ``save`` writes them to the store's ``repetitions`` table (stored videos only); ``checkpoint``
    counts with a trained phase model instead of the label-free counter."""
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import resolve_source

    store = SkeletonStore(store_path, create=False) if store_path else None
    source = resolve_source(target, store)
    name, how_read = (source.video_id if source.how_read == "stored" else str(target)), source.how_read
    exercise = exercise or source.label
    if live and checkpoint:
        raise ValueError("--live uses the label-free counter; leave out --checkpoint (or --live)")
    if live:
        online = OnlineRepetitionCounter(source.layout, source.fps, exercise)
        for index, frame in enumerate(source.joints):
            for repetition in online.update(frame):
                on_repetition(f"repetition {online.count} at {source.timestamps[repetition]:.2f} s "
                              f"(frame {int(source.frame_indices[repetition])}; said at {source.timestamps[index]:.2f} s)")
        for repetition in online.finish():
            on_repetition(f"repetition {online.count} at {source.timestamps[repetition]:.2f} s "
                          f"(frame {int(source.frame_indices[repetition])}; at the end)")
    result = count_with_checkpoint(source, checkpoint) if checkpoint else \
        count_repetitions(source.joints, source.layout, source.fps, exercise)
    rendered = result.to_dict(source.frame_indices, source.timestamps)  # the stored video's frame numbers and times
    repetitions, sets = rendered["repetitions"], rendered["sets"]
    report = CountReport(name, how_read, result, repetitions, exercise, sets=sets)
    if out is not None:
        report.picture = plot_count(result, source.timestamps, Path(out), name)
    if save:
        report.saved = save_count(store_path, source, result)
    return report


def count_with_checkpoint(source, checkpoint: str | Path) -> RepetitionCount:
    """Count with a phase model (``posegraph train --set task=phases``): a phase per frame, decoded
    with the study's rule (an end counts only after a middle, or a second half after a first)."""
    model, bundle = load_phase_model(checkpoint)
    return count_with_model(model, bundle, source.joints, source.layout, source.timestamps, source.fps,
                            source.width, source.height)


def load_phase_model(checkpoint: str | Path):
    """The model and bundle of a phase checkpoint (a classifier's is refused, saying so)."""
    from posegraph.gcn.inference import load_classifier

    model, bundle = load_classifier(checkpoint)
    config = bundle.config
    if config.task != "phases":
        raise ValueError(f"{checkpoint} is an exercise classifier ({config.model}); --checkpoint takes a phase "
                         f"model, trained with `posegraph train --set task=phases`")
    return model, bundle


def count_with_model(model, bundle, joints: np.ndarray, layout: str, timestamps: np.ndarray, fps: float,
                     width: int | None = None, height: int | None = None) -> RepetitionCount:
    """Count one person's skeleton ``(T, V, 4)`` with a loaded phase model (see :func:`load_phase_model`)."""
    from posegraph.gcn.families import family_of
    from posegraph.gcn.preprocess import PeopleSequence
    from posegraph.scoring.phase_labels import count_from_phases

    config = bundle.config
    sequence = PeopleSequence(np.asarray(joints)[None], layout, np.asarray(timestamps), width, height)
    names, probabilities, sources = family_of(config).frame_phases(model, config, bundle.layout,
                                                                   list(bundle.class_names), sequence)
    return count_from_phases(names, probabilities, list(bundle.class_names), sources, len(joints), fps,
                             config.phase_scheme, f"phases-{config.model}/{config.phase_scheme}")


def save_count(store_path: str | Path | None, source, result: RepetitionCount) -> str:
    """Write the count to the store's ``repetitions`` table; says what happened."""
    from posegraph.data import SkeletonStore
    from posegraph.data.records import RepetitionRows

    if store_path is None or source.video_id is None:
        raise ValueError("--save writes to a store: count a video stored there (`posegraph extract` it first) "
                         "and pass --store STORE")
    rows = RepetitionRows(source.video_id, source.layout, source.frame_indices[result.frames],
                          source.timestamps[result.frames], result.method, source.extracted_at)
    if not SkeletonStore(store_path, create=False).write_repetitions([rows]):
        return "not saved: the video was written again while it was counted; count it again"
    return f"saved {result.count} repetition(s) to the repetitions table of {store_path}"


def plot_count(result: RepetitionCount, timestamps: np.ndarray, out: Path, title: str) -> Path:
    """The counted signal over time with each repetition marked (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if out.suffix.lower() != ".png":
        raise ValueError(f"--out {out}: the plot is a .png picture")
    figure, axis = plt.subplots(figsize=(9, 3.2))
    what = "probability of the counting phase" if result.method.startswith("phases") else "motion signal (torso lengths)"
    axis.plot(timestamps, result.signal, color="#345", linewidth=1.2, label=what)
    if result.thresholds is not None:
        near, far = result.thresholds
        axis.plot(timestamps, near, color="#9ab", linewidth=0.8, linestyle="--", label="hysteresis thresholds")
        axis.plot(timestamps, far, color="#9ab", linewidth=0.8, linestyle="--")
    for index, frame in enumerate(result.frames):
        axis.axvline(timestamps[frame], color="#d62", linewidth=1.0)
        axis.text(timestamps[frame], axis.get_ylim()[1], str(index + 1), color="#d62", ha="center", va="bottom", fontsize=8)
    axis.set_xlabel("time (s)")
    axis.set_title(f"{Path(title).name}: {result.count} repetition(s)", fontsize=10)
    axis.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out
