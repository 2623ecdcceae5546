"""``posegraph bundle build`` and ``posegraph analyse`` (people exercising, through coaches and apps):
the whole answer per video from one bundle."""

from __future__ import annotations

import argparse
import json
import sys

from .common import add_video_arguments


def command_bundle_build(arguments: argparse.Namespace) -> int:
    from posegraph.app.analysis_bundle import build_bundle

    references = {}
    for pair in arguments.reference:
        if "=" not in pair:
            raise ValueError(f"--reference {pair!r}: expected EXERCISE=FILE")
        exercise, path = pair.split("=", 1)
        references[exercise.strip()] = path
    bundle = build_bundle(arguments.classifier, arguments.store, arguments.out, references,
                          split=None if arguments.split == "all" else arguments.split)
    judged = [name for name, entry in bundle.exercises.items() if entry.reference]
    print(f"bundle {bundle.root}: classifier of {len(bundle.exercises)} exercises, references for "
          f"{len(judged)} ({', '.join(judged) or 'none'}), layout {bundle.layout}")
    return 0


def command_analyse(arguments: argparse.Namespace) -> int:
    """Analyse each video; a video that cannot be read or shows nobody is one line on stderr and
    the others go on (exit status 1 when any failed)."""
    from posegraph.data.errors import StoreError
    from posegraph.app.analysis import Analyser, analysis_text
    from posegraph.skeleton.video import VideoError

    from .common import open_store

    analyser = Analyser.load(arguments.bundle, arguments.runtime)
    store = open_store(arguments.store) if arguments.store else None
    failed = 0
    for video in arguments.video:
        try:
            report = _analyse_one(analyser, video, store, arguments)
        except (ValueError, OSError, StoreError, VideoError) as error:
            failed += 1
            said = str(error)
            print(f"posegraph analyse: error: {said if said.startswith(str(video)) else f'{video}: {said}'}",
                  file=sys.stderr)
            continue
        print(json.dumps(report.to_json()) if arguments.json else analysis_text(report), flush=True)
    if failed and len(arguments.video) > 1:
        print(f"posegraph analyse: {failed} of {len(arguments.video)} videos could not be analysed", file=sys.stderr)
    return 1 if failed else 0


def _analyse_one(analyser, video: str, store, arguments: argparse.Namespace):
    from posegraph.data.sources import resolve_source
    from posegraph.app.analysis import analyse

    source = resolve_source(video, store, landmarks_fps=arguments.fps)
    name = source.video_id if source.how_read == "stored" else str(video)
    report, form = analyse(analyser, source, name, reject=arguments.reject)
    if arguments.out:
        from posegraph.scoring.analysis_html import write_analysis_outputs

        report = report.with_files(write_analysis_outputs(report, arguments.out, name, form, source,
                                                          arguments.video_format))
    return report


def command_analyse_store(arguments: argparse.Namespace) -> int:
    """Extract a folder or manifest first (when given), then analyse every stored video (Prefect flow)."""
    from posegraph.app.analysis_bundle import load_bundle

    from .common import check_before_flow

    load_bundle(arguments.bundle)  # a wrong bundle is one line, before any flow starts
    if arguments.source:
        from posegraph.flows.extraction import run_extraction

        run_extraction(arguments.source, arguments.store, workers=arguments.workers, progress=not arguments.quiet)
    else:
        check_before_flow(arguments.store)
    from posegraph.flows.analysing import run_analysis, summary_text

    result = run_analysis(arguments.store, arguments.bundle, arguments.out, arguments.skip_analysed,
                          progress=not arguments.quiet)
    print(summary_text(result))
    return 1 if result["failed"] else 0


def register(commands: argparse._SubParsersAction) -> None:
    bundle = commands.add_parser("bundle", help="analysis bundles: a classifier, form references and the counter in one folder")
    actions = bundle.add_subparsers(dest="bundle_command", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="build a bundle for `posegraph analyse`",
        description="Copies the classifier in, fits one form reference per exercise it knows from the store's "
                    "ok videos of that label (or takes --reference EXERCISE=FILE) and measures their range of motion.")
    build.add_argument("--classifier", required=True, help="a classifier checkpoint or run folder (its best.pt)")
    build.add_argument("--store", required=True, help="the store whose good executions the references are fitted on")
    build.add_argument("--out", required=True, help="the bundle folder to write")
    build.add_argument("--reference", action="append", default=[], metavar="EXERCISE=FILE",
                       help="a reference fitted already (posegraph scoring fit), instead of fitting one")
    build.add_argument("--split", default="train", help="fit on this split's videos (default train; 'all' for every split)")
    build.set_defaults(run=command_bundle_build)

    analyse = commands.add_parser(
        "analyse", help="the whole answer per video: exercise, muscles, sets and repetitions, form per repetition, cues",
        description="One bundle (posegraph bundle build) answers what was done, how many, how well and what to fix. "
                    "A video file is extracted with BlazePose first.")
    add_video_arguments(analyse, many=True)
    analyse.add_argument("--bundle", required=True, help="an analysis bundle folder")
    analyse.add_argument("--json", action="store_true",
                         help="print each video's analysis document (schema posegraph-analysis/1, see the README)")
    analyse.add_argument("--out", help="folder: per video analysis.json, report.html (opens from disk) and an overlay video")
    analyse.add_argument("--video-format", default="mp4", choices=("mp4", "gif", "none"),
                         help="the overlay video written with --out, captioned with the counter and the cues "
                              "(default mp4; a GIF of a long HD video is large)")
    analyse.add_argument("--no-reject", dest="reject", action="store_false",
                         help="always name the closest exercise, never 'none of these'")
    analyse.add_argument("--runtime", default="torch", choices=("torch", "onnx"),
                         help="onnx: --bundle is a bundle exported with posegraph export --format onnx, run with "
                              "onnxruntime without torch")
    analyse.set_defaults(run=command_analyse)

    batch = commands.add_parser(
        "analyse-store", help="analyse every video of a store (or of a folder or manifest, extracted first) into "
                              "SQL tables (Prefect flow)",
        description="Writes one row per video (view analyses), per repetition (analysis_repetitions) and per set "
                    "(analysis_sets); failed videos are listed with their reason and the others go on.")
    batch.add_argument("--store", required=True, help="the skeleton store to read videos from and write results to")
    batch.add_argument("--bundle", required=True, help="an analysis bundle folder (posegraph bundle build)")
    batch.add_argument("--source", help="a folder, glob or manifest CSV of videos to extract into --store first "
                                        "(videos extracted already are skipped)")
    batch.add_argument("--workers", type=int, default=None, help="extraction processes (with --source)")
    batch.add_argument("--out", help="also write each video's analysis.json and report.html under this folder")
    batch.add_argument("--skip-analysed", action="store_true", help="leave videos analysed with this bundle alone")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.set_defaults(run=command_analyse_store)
