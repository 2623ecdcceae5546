"""``posegraph count``, ``posegraph scoring fit`` and ``posegraph score`` (coaches and app developers):
count repetitions, fit a form reference, score a video against it."""

from __future__ import annotations

import argparse
import json
import sys

from .common import add_video_arguments


def command_scoring_fit(arguments: argparse.Namespace) -> int:
    from posegraph.scoring.score_report import fit_reference, fit_summary, parse_fit_options

    if arguments.videos and arguments.label:
        raise ValueError("pass --videos or --label, not both")
    options = parse_fit_options(arguments.set)
    reference = fit_reference(arguments.store, arguments.exercise, arguments.out, label=arguments.label,
                              video_ids=arguments.videos, layout=arguments.layout, split=arguments.split,
                              options=options)
    print(fit_summary(reference, arguments.out))
    return 0


def command_score(arguments: argparse.Namespace) -> int:
    from posegraph.app.video_commands import score_video

    report = score_video(arguments.video, arguments.reference, store_path=arguments.store,
                         exercise=arguments.exercise, checkpoint=arguments.checkpoint, method=arguments.method,
                         out=arguments.out, name=arguments.name, landmarks_fps=arguments.fps)
    for line in report.warnings:
        print(line, file=sys.stderr)
    if arguments.json:
        if report.store_note:
            print(report.store_note, file=sys.stderr)
        print(json.dumps(report.to_dict()))
    else:
        print(report.text())
    return 0


def command_count(arguments: argparse.Namespace) -> int:
    from posegraph.app.video_commands import count_video

    report = count_video(arguments.video, arguments.store, arguments.exercise, arguments.out, arguments.live,
                         on_repetition=lambda line: print(line, flush=True), save=arguments.save,
                         checkpoint=arguments.checkpoint, landmarks_fps=arguments.fps)
    print(json.dumps(report.to_dict()) if arguments.json else report.text())
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    count = commands.add_parser(
        "count", help="count repetitions in a video file or a stored video (no training, no labels)",
        description="Label-free counter: finds where the movement repeats (the sets: lead-in, rests and "
                    "lead-out add nothing), then counts each repetition with its start and end. A video file is extracted with BlazePose first (or read "
                    "from --store when it is stored there).")
    add_video_arguments(count)
    count.add_argument("--exercise", help="the exercise, as a hint (the counter works without it)")
    count.add_argument("--json", action="store_true", help='print {"count": N, "repetitions": [{..., "start_s", "end_s"}], "sets": [...], ...}')
    count.add_argument("--checkpoint", help="count with a trained phase model (posegraph train --set task=phases; "
                                            "a phase per frame, decoded) instead of the label-free counter")
    count.add_argument("--live", action="store_true", help="print each repetition as it settles, frame by frame")
    count.add_argument("--out", help="FILE.png: the counted signal with the repetitions marked")
    count.add_argument("--save", action="store_true",
                       help="write the repetitions to the store's repetitions table (a stored video; SQL view "
                            "`repetitions`: video_id, layout, repetition, frame_index, time_s)")
    count.set_defaults(run=command_count)

    scoring = commands.add_parser("scoring", help="form references: fit one from good executions in a store")
    actions = scoring.add_subparsers(dest="scoring_command", required=True, metavar="ACTION")
    fit = actions.add_parser(
        "fit", help="fit a form reference (HDBSCAN pose clusters) on stored good executions of one exercise",
        description="Fits on person 0 of the chosen ok videos: --videos, else the videos labelled --label, "
                    "else those labelled with the exercise. Both clusterings are fitted (phase, the "
                    "default for scoring, and the per-joint baseline).")
    fit.add_argument("--store", required=True, help="skeleton store folder")
    fit.add_argument("--exercise", required=True, help="the exercise the reference judges, e.g. squat")
    fit.add_argument("--videos", nargs="+", metavar="ID", help="these video ids (or unique prefixes)")
    fit.add_argument("--label", help="the videos with this label (default: the exercise)")
    fit.add_argument("--split", help="only videos of this split, e.g. train")
    fit.add_argument("--layout", help="the layout, when the videos are stored in several")
    fit.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="a fit option: mirror, min_visibility, max_frames, seed, min_cluster_size, "
                          "min_samples, min_spread")
    fit.add_argument("--out", required=True, help="the reference file to write (JSON)")
    fit.set_defaults(run=command_scoring_fit)

    score = commands.add_parser(
        "score", help="score a video's form against a reference, 0-100 per joint and frame",
        description="Scores a video file (BlazePose first) or a stored video id. With --store, a stored "
                    "video's scores go into the store's scores table (replacing earlier ones of the "
                    "same reference name and method).")
    add_video_arguments(score, store_help="skeleton store: where a video id is read from and scores are written")
    score.add_argument("--reference", required=True, help="a reference file from `posegraph scoring fit`")
    which = score.add_mutually_exclusive_group()
    which.add_argument("--exercise", help="the video's exercise (default: the store's label, else the reference's)")
    which.add_argument("--checkpoint", help="find the exercise with this classifier checkpoint (top class)")
    score.add_argument("--method", default="phase", choices=("phase", "joint"),
                       help="phase (default: pose clusters) or joint (the per-joint baseline)")
    score.add_argument("--name", help="the reference name scores are stored under (default: its file name)")
    score.add_argument("--json", action="store_true", help="print the scores as JSON")
    score.add_argument("--out", help="FILE.png: a picture of the skeleton, joints red to green by score; "
                                     "FILE.mp4 or .gif: an overlay video")
    score.set_defaults(run=command_score)
