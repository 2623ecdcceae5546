"""The ``posegraph`` command line. Heavy libraries are imported inside the commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _store(path: str, create: bool = False):
    from posegraph.data import SkeletonStore

    return SkeletonStore(path, create=create)


def command_query(arguments: argparse.Namespace) -> int:
    from posegraph.data.export import write_result
    from posegraph.data.query import run_query

    result = run_query(_store(arguments.store), arguments.sql)
    write_result(result, arguments.format, Path(arguments.out) if arguments.out else None)
    if arguments.out:
        print(f"{result.num_rows} rows written to {arguments.out}", file=sys.stderr)
    return 0


def command_schema(arguments: argparse.Namespace) -> int:
    from posegraph.data.query import describe_views

    for view, columns in describe_views(_store(arguments.store)).items():
        print(view)
        for name, kind in columns:
            print(f"  {name:<20} {kind}")
    return 0


def command_layouts(arguments: argparse.Namespace) -> int:
    from posegraph.skeleton import LAYOUTS, conversions

    for layout in LAYOUTS.values():
        center = ", ".join(layout.joint_names[i] for i in layout.center)
        print(f"{layout.name}: {layout.num_joints} joints, {len(layout.edges)} edges, centre {center}")
        if arguments.joints:
            for index, name in enumerate(layout.joint_names):
                print(f"  {index:>2} {name}")
    print("conversions: " + ", ".join(f"{s} -> {t}" for s, t in conversions()))
    return 0


def command_import_kinetics(arguments: argparse.Namespace) -> int:
    from tqdm import tqdm

    from posegraph.data.kinetics import import_kinetics, kinetics_files

    store = _store(arguments.store, create=True)
    total = len(kinetics_files(Path(arguments.source)))
    with tqdm(total=total, unit="file", desc="import", disable=arguments.quiet) as bar:
        def on_file(path: Path, problem: str | None) -> None:
            bar.update()
            if problem:
                tqdm.write(f"skipped {path}: {problem}", file=sys.stderr)

        report = import_kinetics(arguments.source, store, split=arguments.split,
                                 fps=arguments.fps, max_people=arguments.max_people, on_file=on_file)
    print(f"imported {len(report.imported)} videos into {store.root}; "
          f"{len(report.failed)} malformed file(s) skipped and recorded as failed")
    return 1 if report.failed else 0


def command_synth(arguments: argparse.Namespace) -> int:
    from posegraph.flows.synthesis import synthesize_corpus

    synthesize_corpus(arguments.store, arguments.subjects, arguments.takes, arguments.seed)
    return 0


def _extraction_options(arguments: argparse.Namespace):
    from posegraph.flows.extraction import ExtractionOptions

    if arguments.extractor == "hrnet" and not arguments.weights:
        raise ValueError("--extractor hrnet needs --weights FILE: the HRNet-W32 checkpoint "
                         "(pose_hrnet_w32_256x192.pth, official state_dict format); it cannot be downloaded here")
    fps = None if str(arguments.fps).lower() == "none" else float(arguments.fps)
    return ExtractionOptions(extractor=arguments.extractor, target_fps=fps, weights=arguments.weights,
                             model_asset=arguments.model_asset,
                             visibility_threshold=arguments.visibility_threshold,
                             max_gap=arguments.max_gap, min_detection_rate=arguments.min_detection_rate)


def command_extract(arguments: argparse.Namespace) -> int:
    options = _extraction_options(arguments)
    from posegraph.flows.extraction import run_extraction

    summary = run_extraction(arguments.source, arguments.store, options, workers=arguments.workers,
                             dask_address=arguments.dask_address, force=arguments.force,
                             retry_failed=arguments.retry_failed, progress=not arguments.quiet)
    failed = [o for o in summary["outcomes"] if o["status"] == "failed"]
    for outcome in failed:
        print(f"failed: {outcome['reason']}", file=sys.stderr)
    return 1 if failed else 0


def command_serve(arguments: argparse.Namespace) -> int:
    options = _extraction_options(arguments)
    from posegraph.flows.scheduling import serve_extraction

    serve_extraction(arguments.source, arguments.store, options, cron=arguments.cron,
                     name=arguments.name, workers=arguments.workers, dask_address=arguments.dask_address)
    return 0


def command_render(arguments: argparse.Namespace) -> int:
    from posegraph.flows.visualize import render_stored_video

    out = render_stored_video(_store(arguments.store), arguments.video_id, arguments.out,
                              layout=arguments.layout, person=arguments.person)
    print(f"rendered {out}")
    return 0


def _print_metrics(metrics: dict, paths: dict) -> None:
    from posegraph.gcn.evaluation import format_headline

    print(format_headline(metrics))
    print("per-class F1: " + ", ".join(f"{name} {score:.2f}" for name, score in metrics["per_class_f1"].items()))
    for name, path in paths.items():
        print(f"{name}: {path}")


def command_train(arguments: argparse.Namespace) -> int:
    import os

    from posegraph.gcn.config import load_config

    if arguments.resume:
        from posegraph.gcn.config import TrainConfig
        from posegraph.gcn.checkpoint import load_checkpoint

        config = TrainConfig(**load_checkpoint(Path(arguments.resume) / "last.pt")["config"])
        run_dir = arguments.resume
    else:
        config = load_config(arguments.config, arguments.set, model=arguments.model, init=arguments.init,
                             finetune=arguments.finetune)
        from posegraph.flows.training import default_run_dir

        run_dir = arguments.run_dir or default_run_dir(config)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under torchrun: plain training, no Prefect server per process
        from posegraph.gcn.training import train

        train(config, arguments.store, run_dir, resume=bool(arguments.resume), progress=False)
        return 0
    from posegraph.flows.training import train_and_evaluate

    result = train_and_evaluate(config, arguments.store, run_dir, resume=bool(arguments.resume),
                                progress=not arguments.quiet, split=arguments.split)
    print(f"run {result['run_dir']}: best validation accuracy {result['best_val_accuracy']:.3f} "
          f"at epoch {result['best_epoch']}")
    _print_metrics(result["metrics"], result["paths"])
    return 0


def command_evaluate(arguments: argparse.Namespace) -> int:
    from posegraph.flows.training import evaluate_flow

    result = evaluate_flow(arguments.run_dir, arguments.store, arguments.split)
    _print_metrics(result["metrics"], result["paths"])
    return 0


def command_classify(arguments: argparse.Namespace) -> int:
    import json

    import numpy as np

    from posegraph.gcn.inference import classify_people, classify_video_file, load_classifier

    model, content = load_classifier(arguments.checkpoint)
    target = Path(arguments.video)
    if target.is_file():
        ranking = classify_video_file(target, model, content, arguments.top_k)
    else:
        if not arguments.store:
            raise ValueError(f"{target} is not a file; to classify a stored video id, pass --store STORE")
        from posegraph.flows.visualize import resolve_video_id
        from posegraph.gcn.dataset import load_people

        store = _store(arguments.store)
        video_id = resolve_video_id(store, arguments.video)
        layout = store.video_rows(video_id)[0]["layout"]
        people = load_people(store, video_id, layout, content["num_persons"])
        ranking = classify_people(model, content, np.asarray(people), layout, arguments.top_k)
    if arguments.json:
        print(json.dumps({"video": arguments.video, "predictions": [
            {"class": name, "probability": round(p, 6)} for name, p in ranking]}))
    else:
        for name, probability in ranking:
            print(f"{probability:7.2%}  {name}")
    return 0


def command_demo(arguments: argparse.Namespace) -> int:
    from posegraph.flows.demo import run_demo

    return run_demo(Path(arguments.out), subjects=arguments.subjects, workers=arguments.workers)


def _add_extraction_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="skeleton store folder (created if missing)")
    parser.add_argument("--extractor", default="blazepose", choices=("blazepose", "hrnet"))
    parser.add_argument("--weights", help="HRNet checkpoint (.pth, official state_dict format)")
    parser.add_argument("--model-asset", help="a MediaPipe Tasks pose landmarker file (.task) to use instead "
                                              "of the bundled BlazePose full model")
    parser.add_argument("--fps", default="16", help="sampling rate (default 16); 'none' keeps the native rate")
    parser.add_argument("--workers", type=int, help="parallel processes (default: one per core)")
    parser.add_argument("--dask-address", help="run the tasks on an existing Dask cluster, e.g. tcp://host:8786")
    parser.add_argument("--visibility-threshold", type=float, default=0.6,
                        help="mean joint visibility below which a frame counts as not detected")
    parser.add_argument("--max-gap", type=int, default=8, help="longest gap (frames) filled by interpolation")
    parser.add_argument("--min-detection-rate", type=float, default=0.3,
                        help="videos detected in fewer frames are stored as rejected")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posegraph",
        description="Exercise videos -> skeletons -> Parquet tables -> skeleton-graph models.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    query = commands.add_parser("query", help="run read-only SQL (DuckDB) over a skeleton store")
    query.add_argument("sql", help="a SELECT over the views videos, frames, joints")
    query.add_argument("--store", required=True, help="skeleton store folder")
    query.add_argument("--format", default="table", choices=("table", "csv", "json", "parquet"))
    query.add_argument("--out", help="write the result to this file instead of the terminal")
    query.set_defaults(run=command_query)

    schema = commands.add_parser("schema", help="list the SQL views of a store and their columns")
    schema.add_argument("--store", required=True)
    schema.set_defaults(run=command_schema)

    layouts = commands.add_parser("layouts", help="list skeleton layouts and conversions")
    layouts.add_argument("--joints", action="store_true", help="also list every joint")
    layouts.set_defaults(run=command_layouts)

    importer = commands.add_parser("import", help="import skeletons from other datasets")
    sources = importer.add_subparsers(dest="source_kind", required=True, metavar="KIND")
    kinetics = sources.add_parser("kinetics", help="Kinetics-Skeleton JSON files (openpose18)")
    kinetics.add_argument("source", help="folder of .json files (searched recursively) or one file")
    kinetics.add_argument("--store", required=True)
    kinetics.add_argument("--split", help="split to record, e.g. train or val")
    kinetics.add_argument("--fps", type=float, default=30.0, help="frame rate of the files (default 30)")
    kinetics.add_argument("--max-people", type=int, default=2, help="most confident people kept")
    kinetics.add_argument("--quiet", action="store_true", help="no progress bar")
    kinetics.set_defaults(run=command_import_kinetics)

    synth = commands.add_parser("synth", help="generate a labelled synthetic corpus (Prefect flow)")
    synth.add_argument("--store", required=True)
    synth.add_argument("--subjects", type=int, default=6)
    synth.add_argument("--takes", type=int, default=2, help="sequences per subject and exercise")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(run=command_synth)

    extract = commands.add_parser("extract", help="extract skeletons from videos into a store (Prefect flow)")
    extract.add_argument("source", help="a folder of videos, a glob pattern, or a manifest CSV (path,label,split,group)")
    _add_extraction_arguments(extract)
    extract.add_argument("--force", action="store_true", help="redo videos already extracted with these settings")
    extract.add_argument("--retry-failed", action="store_true", help="redo videos recorded as failed")
    extract.add_argument("--quiet", action="store_true", help="no progress bar")
    extract.set_defaults(run=command_extract)

    serve = commands.add_parser("serve", help="serve the extraction flow as a scheduled Prefect deployment")
    serve.add_argument("--source", required=True, help="folder, glob or manifest CSV scanned on every run")
    _add_extraction_arguments(serve)
    serve.add_argument("--cron", default="0 2 * * *", help='cron schedule (default "0 2 * * *": 02:00 daily)')
    serve.add_argument("--name", default="nightly-extraction", help="deployment name")
    serve.set_defaults(run=command_serve)

    render = commands.add_parser("render", help="draw a stored skeleton over its video (.mp4, .gif, .png sheet)")
    render.add_argument("video_id", help="the video id, or a unique prefix of it")
    render.add_argument("--store", required=True)
    render.add_argument("--out", required=True, help="FILE.mp4, FILE.gif or FILE.png (contact sheet)")
    render.add_argument("--layout", help="which layout, when the video is stored in several")
    render.add_argument("--person", type=int, default=0)
    render.set_defaults(run=command_render)

    trainer = commands.add_parser("train", help="train a graph classifier on a store, then evaluate it (Prefect flow)")
    trainer.add_argument("--model", choices=("stgcn", "msg3d"), help="overrides the config's model")
    trainer.add_argument("--store", required=True)
    trainer.add_argument("--config", help="YAML config (see configs/)")
    trainer.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    trainer.add_argument("--run-dir", help="where checkpoints and reports go (default runs/MODEL-TIME)")
    trainer.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped run exactly where it was")
    trainer.add_argument("--init", metavar="CHECKPOINT", help="start from a checkpoint (transfer learning)")
    trainer.add_argument("--finetune", help="with --init: head, last:K or all (default all)")
    trainer.add_argument("--split", default="test", help="split evaluated at the end (default test)")
    trainer.add_argument("--quiet", action="store_true", help="no progress bar")
    trainer.set_defaults(run=command_train)

    evaluator = commands.add_parser("evaluate", help="evaluate a run's best checkpoint on a split")
    evaluator.add_argument("run_dir")
    evaluator.add_argument("--store", required=True)
    evaluator.add_argument("--split", default="test")
    evaluator.set_defaults(run=command_evaluate)

    classify = commands.add_parser("classify", help="top-k exercise classes of a video file or a stored video id")
    classify.add_argument("video", help="a video file (extracted with BlazePose first) or a video id (prefix)")
    classify.add_argument("--checkpoint", required=True)
    classify.add_argument("--store", help="the store holding the video id")
    classify.add_argument("--top-k", type=int, default=5)
    classify.add_argument("--json", action="store_true")
    classify.set_defaults(run=command_classify)

    demo = commands.add_parser("demo", help="the end-to-end demo on synthetic data")
    demo.add_argument("--out", default="demo_output")
    demo.add_argument("--subjects", type=int, default=6)
    demo.add_argument("--workers", type=int, default=2, help="extraction processes")
    demo.set_defaults(run=command_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    from posegraph.data.errors import StoreError

    try:
        return arguments.run(arguments)
    except (StoreError, FileNotFoundError, ValueError) as error:  # CheckpointError is a ValueError
        print(f"posegraph {arguments.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
