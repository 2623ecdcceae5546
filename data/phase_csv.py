"""Phase labels from CSV into the store's ``phases`` table.

One row per labelled frame range::

    video,first_frame,last_frame,phase[,scheme]
    squat_01.mp4,12,40,repetition
    3fa2c1d0,41,44,end

``video`` is a video id, a unique prefix of one (6 characters or more), a stored
``source_path`` or a unique file name of one. Frames are the video's source frame indices,
inclusive. Phases per scheme (the source study's three, and whole repetitions, from which all
three are derived for training):

- ``repetitions``: ``repetition`` (one row per repetition: its first and last frame);
- ``end``: ``within``, ``end``;  ``middle_end``: ``within``, ``middle``, ``end``;
- ``halves``: ``first``, ``second``, ``none``.

Without a ``scheme`` column (or ``--scheme``) a video's scheme is read off the phases it uses.
A bad row is reported with its file and line and skipped; the other rows are imported.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .records import PhaseRows
from .schema import PHASE_SCHEMES
from .store import SkeletonStore

SCHEME_PHASES = {"repetitions": {"repetition"}, "end": {"within", "end"},
                 "middle_end": {"within", "middle", "end"}, "halves": {"first", "second", "none"}}
REQUIRED = ("video", "first_frame", "last_frame", "phase")


@dataclass
class PhaseImportReport:
    """Videos whose labels were stored (per scheme) and rows that were not, with reasons."""

    stored: list[tuple[str, str]] = field(default_factory=list)  # (video id, scheme)
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # "FILE:LINE: why"


def scheme_of(phases: set[str]) -> str | None:
    """The scheme whose vocabulary holds ``phases`` (the smallest such), or None."""
    for scheme in ("repetitions", "end", "middle_end", "halves"):
        if phases <= SCHEME_PHASES[scheme]:
            return scheme
    return None


class VideoResolver:
    """Finds a stored video by id, id prefix, source path or file name."""

    def __init__(self, store: SkeletonStore) -> None:
        rows = store.videos().select(["video_id", "source_path"]).to_pylist()
        self.ids = sorted({row["video_id"] for row in rows})
        self.by_path: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            if row["source_path"]:
                self.by_path[row["source_path"]].add(row["video_id"])
                self.by_path[Path(row["source_path"]).name].add(row["video_id"])

    def find(self, name: str) -> str:
        """The video id ``name`` means; ValueError saying why when none or several match."""
        name = name.strip()
        if name in self.by_path:
            matches = sorted(self.by_path[name])
        else:
            matches = [video for video in self.ids if video.startswith(name.lower())] if len(name) >= 6 else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ValueError(f"no stored video is called {name!r} (give a video id, a prefix of 6 or more "
                             f"characters, a source path or a file name)")
        raise ValueError(f"{name!r} matches {len(matches)} stored videos ({', '.join(m[:12] for m in matches[:3])}...)")


def read_phase_csv(path: Path, resolver: VideoResolver, scheme: str | None,
                   report: PhaseImportReport) -> dict[tuple[str, str | None], list[tuple[int, int, str]]]:
    """Ranges per (video id, scheme or None when it is to be inferred); problems go to ``report``."""
    ranges: dict[tuple[str, str | None], list[tuple[int, int, str]]] = defaultdict(list)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as error:
        report.problems.append(f"{path}: cannot read it as UTF-8 CSV ({error})")
        return ranges
    if not lines or any(column not in [name.strip() for name in lines[0]] for column in REQUIRED):
        report.problems.append(f"{path}:1: expected a header with {', '.join(REQUIRED)} (and optionally scheme)")
        return ranges
    header = [name.strip() for name in lines[0]]
    for number, values in enumerate(lines[1:], start=2):
        if not any(value.strip() for value in values):
            continue
        report.rows += 1
        if len(values) != len(header):
            report.problems.append(f"{path}:{number}: {len(values)} fields, the header has {len(header)}")
            continue
        row = dict(zip(header, (value.strip() for value in values)))
        try:
            video_id = resolver.find(row["video"])
            first, last = int(row["first_frame"]), int(row["last_frame"])
            if not 0 <= first <= last:
                raise ValueError(f"frames {first}-{last} are not a range of frames")
            row_scheme = row.get("scheme") or scheme
            if row_scheme is not None and row_scheme not in PHASE_SCHEMES:
                raise ValueError(f"unknown scheme {row_scheme!r}; choose from {', '.join(PHASE_SCHEMES)}")
            if row_scheme is not None and row["phase"] not in SCHEME_PHASES[row_scheme]:
                raise ValueError(f"phase {row['phase']!r} is not one of scheme {row_scheme}'s "
                                 f"({', '.join(sorted(SCHEME_PHASES[row_scheme]))})")
        except ValueError as error:
            report.problems.append(f"{path}:{number}: {error}")
            continue
        ranges[video_id, row_scheme].append((first, last, row["phase"]))
    return ranges


def import_phases(store: SkeletonStore, files: list[Path], scheme: str | None = None) -> PhaseImportReport:
    """Read phase-label CSV files and store their labels (one commit); see the module docstring."""
    report = PhaseImportReport()
    resolver = VideoResolver(store)
    gathered: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for path in files:
        for (video_id, row_scheme), ranges in read_phase_csv(Path(path), resolver, scheme, report).items():
            found = row_scheme or scheme_of({phase for _, _, phase in ranges})
            if found is None:
                report.problems.append(f"{path}: video {video_id[:12]}: phases "
                                       f"{', '.join(sorted({p for _, _, p in ranges}))} fit no one scheme; "
                                       f"add a scheme column")
                continue
            gathered[video_id, found] += ranges
    rows = [PhaseRows(video_id, found, sorted(ranges), source=", ".join(sorted({Path(f).name for f in files})))
            for (video_id, found), ranges in sorted(gathered.items())]
    store.write_phases(rows)
    report.stored = [(rows.video_id, rows.scheme) for rows in rows]
    return report


__all__ = ["PhaseImportReport", "SCHEME_PHASES", "VideoResolver", "import_phases", "read_phase_csv", "scheme_of"]
