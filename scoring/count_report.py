"""What ``posegraph count`` says about one video: the count, each repetition and set, a plot, the
store's ``repetitions`` rows; and the label-free count of a :class:`~posegraph.skeleton.source.SkeletonSource`
(offline, or live: each repetition reported as it settles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posegraph.skeleton.source import SkeletonSource

from .counting import OnlineRepetitionCounter, RepetitionCount, count_repetitions


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
                "fps": self.result.fps, "agreement": self.result.agreement}

    def text(self) -> str:
        agreement = "" if self.result.agreement is None else f"; {self.result.agreement:.0%} of the counters agree"
        lines = [f"{self.video}: {self.result.count} repetition(s) ({self.how_read}; {self.result.method}{agreement})"]
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


def count_source(source: SkeletonSource, exercise: str | None = None, live: bool = False,
                 on_repetition: Callable[[str], None] = print) -> RepetitionCount:
    """The label-free count of ``source``; with ``live``, each repetition is also said (``on_repetition``)
    as the online counter settles it, frame by frame, and the final count is the offline one."""
    if live:
        online = OnlineRepetitionCounter(source.layout, source.fps, exercise)
        for index, frame in enumerate(source.joints):
            for repetition in online.update(frame):
                on_repetition(f"repetition {online.count} at {source.timestamps[repetition]:.2f} s "
                              f"(frame {int(source.frame_indices[repetition])}; said at {source.timestamps[index]:.2f} s)")
        for repetition in online.finish():
            on_repetition(f"repetition {online.count} at {source.timestamps[repetition]:.2f} s "
                          f"(frame {int(source.frame_indices[repetition])}; at the end)")
    return count_repetitions(source.joints, source.layout, source.fps, exercise)


def report_of(source: SkeletonSource, result: RepetitionCount, name: str, exercise: str | None) -> CountReport:
    """The report of a count of ``source`` (repetitions and sets in the video's frame numbers and times)."""
    rendered = result.to_dict(source.frame_indices, source.timestamps)
    return CountReport(name, source.how_read, result, rendered["repetitions"], exercise, sets=rendered["sets"])


def save_count(store_path: str | Path | None, source: SkeletonSource, result: RepetitionCount) -> str:
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
