"""``posegraph import ...`` and ``posegraph synth``: fill a store without videos (dataset imports, synthetic data)."""

from __future__ import annotations

import argparse

from posegraph.skeleton.vocabulary import UNTIMED_FPS
import sys
from pathlib import Path

from .common import open_store as _store


def _run_import(arguments: argparse.Namespace, files: list[Path], run) -> int:
    """A progress bar over ``files``, problems named as they come, a summary; exit 1 if any failed."""
    from tqdm import tqdm

    store = _store(arguments.store, create=True)
    with tqdm(total=len(files), unit="file", desc="import", disable=arguments.quiet) as bar:
        def on_file(path: Path, problem: str | None) -> None:
            bar.update()
            if problem:
                tqdm.write(f"skipped {path}: {problem}", file=sys.stderr)

        report = run(store, on_file)
    print(f"imported {len(report.imported)} videos into {store.root}; "
          f"{len(report.failed)} malformed file(s) skipped and recorded as failed")
    return 1 if report.failed else 0


def command_import_kinetics(arguments: argparse.Namespace) -> int:
    from posegraph.data.kinetics import import_kinetics, kinetics_files

    return _run_import(arguments, kinetics_files(Path(arguments.source)), lambda store, on_file: import_kinetics(
        arguments.source, store, split=arguments.split, fps=arguments.fps, max_people=arguments.max_people,
        on_file=on_file))


def command_import_penn_action(arguments: argparse.Namespace) -> int:
    from posegraph.data.penn_action import import_penn_action, penn_action_files

    if not 0 <= arguments.val_fraction < 1:
        raise ValueError(f"--val-fraction must be in [0, 1), got {arguments.val_fraction}")
    return _run_import(arguments, penn_action_files(Path(arguments.source)), lambda store, on_file: import_penn_action(
        arguments.source, store, val_fraction=arguments.val_fraction, seed=arguments.seed, fps=arguments.fps,
        on_file=on_file))


def command_import_landmarks(arguments: argparse.Namespace) -> int:
    from posegraph.data.landmarks import import_landmarks, landmark_files

    return _run_import(arguments, landmark_files(Path(arguments.source)), lambda store, on_file: import_landmarks(
        arguments.source, store, layout=arguments.layout, fps=arguments.fps, label=arguments.label,
        split=arguments.split, on_file=on_file))


def command_import_repcount(arguments: argparse.Namespace) -> int:
    from posegraph.data.repcount import import_repcount, read_counts

    videos, refused = read_counts(arguments.source)
    for where, why in refused:
        print(f"skipped {where}: {why}", file=sys.stderr)
    return _run_import(arguments, [video.path for video in videos], lambda store, on_file: import_repcount(
        arguments.source, store, fps=arguments.fps, on_file=on_file))


def command_import_phases(arguments: argparse.Namespace) -> int:
    from posegraph.data.phase_csv import import_phases

    store = _store(arguments.store)
    report = import_phases(store, [Path(path) for path in arguments.csv], arguments.scheme)
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    schemes = sorted({scheme for _, scheme in report.stored})
    print(f"stored phase labels of {len({video for video, _ in report.stored})} videos "
          f"({', '.join(schemes) or 'no scheme'}) into {store.root}; {len(report.problems)} problem(s) in "
          f"{report.rows} rows")
    return 1 if report.problems else 0


def command_synth(arguments: argparse.Namespace) -> int:
    from posegraph.flows.synthesis import synthesize_corpus

    synthesize_corpus(arguments.store, arguments.subjects, arguments.takes, arguments.seed)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    importer = commands.add_parser("import", help="import skeletons from other datasets")
    sources = importer.add_subparsers(dest="source_kind", required=True, metavar="KIND")
    kinetics = sources.add_parser("kinetics", help="Kinetics-Skeleton JSON files (openpose18)")
    kinetics.add_argument("source", help="folder of .json files (searched recursively) or one file")
    kinetics.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    kinetics.add_argument("--split", help="split to record, e.g. train or val")
    kinetics.add_argument("--fps", type=float, default=UNTIMED_FPS, help="frame rate of the files (default 30)")
    kinetics.add_argument("--max-people", type=int, default=2, help="most confident people kept")
    kinetics.add_argument("--quiet", action="store_true", help="no progress bar")
    kinetics.set_defaults(run=command_import_kinetics)

    penn = sources.add_parser("penn-action", help="Penn Action label files (.mat, 13 annotated joints: penn13)")
    penn.add_argument("source", help="folder of .mat files (searched recursively) or one file")
    penn.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    penn.add_argument("--val-fraction", type=float, default=0.1,
                      help="share of each action's clips in a seeded validation split (default 0.1)")
    penn.add_argument("--seed", type=int, default=0, help="seed of the validation split")
    penn.add_argument("--fps", type=float, default=UNTIMED_FPS, help="frame rate of the clips (not stated; default 30)")
    penn.add_argument("--quiet", action="store_true", help="no progress bar")
    penn.set_defaults(run=command_import_penn_action)

    landmarks = sources.add_parser(
        "landmarks", help="landmarks extracted elsewhere: .npy (T, V, C), MediaPipe-style JSON, CSV (a row per frame)")
    landmarks.add_argument("source", help="a landmark file, or a folder of them (searched recursively)")
    landmarks.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    landmarks.add_argument("--layout", default="blazepose33", help="the files' skeleton layout (default blazepose33)")
    landmarks.add_argument("--fps", type=float, default=UNTIMED_FPS, help="frame rate of the files (default 30)")
    landmarks.add_argument("--label", help="the label of every file (default: its folder's name)")
    landmarks.add_argument("--split", help="split to record, e.g. train")
    landmarks.add_argument("--quiet", action="store_true", help="no progress bar")
    landmarks.set_defaults(run=command_import_landmarks)

    repcount = sources.add_parser(
        "repcount", help="RepCount-A pose files (counts.csv + poses/<name>.npy) with each repetition's start and "
                         "end as phase labels, to train the phase counter on real boundaries")
    repcount.add_argument("source", help="a folder holding counts.csv and poses/")
    repcount.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    repcount.add_argument("--fps", type=float, default=UNTIMED_FPS, help="frame rate of the pose rows (default 30)")
    repcount.add_argument("--quiet", action="store_true", help="no progress bar")
    repcount.set_defaults(run=command_import_repcount)

    phases = sources.add_parser(
        "phases", help="phase labels from CSV (video,first_frame,last_frame,phase[,scheme]) into the phases table")
    phases.add_argument("csv", nargs="+", help="one or more CSV files")
    phases.add_argument("--store", required=True, help="the store that holds the videos")
    phases.add_argument("--scheme", choices=("repetitions", "end", "middle_end", "halves"),
                        help="the scheme of every row (default: a scheme column, else read off the phases)")
    phases.set_defaults(run=command_import_phases)

    synth = commands.add_parser("synth", help="generate a labelled synthetic corpus (Prefect flow)")
    synth.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    synth.add_argument("--subjects", type=int, default=6, help="synthetic subjects (default 6)")
    synth.add_argument("--takes", type=int, default=2, help="sequences per subject and exercise")
    synth.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same corpus")
    synth.set_defaults(run=command_synth)
