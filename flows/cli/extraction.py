"""Commands for data engineers: extract, serve on a schedule, render overlays."""

from __future__ import annotations

import argparse
import sys

from .common import open_store as _store


def _extraction_options(arguments: argparse.Namespace):
    from posegraph.data.corpus_extraction import ExtractionOptions

    if arguments.extractor == "hrnet" and not arguments.weights:
        raise ValueError("--extractor hrnet needs --weights FILE: the HRNet-W32 checkpoint "
                         "(pose_hrnet_w32_256x192.pth, official state_dict format); it cannot be downloaded here")
    fps = None if str(arguments.fps).lower() == "none" else float(arguments.fps)
    return ExtractionOptions(extractor=arguments.extractor, target_fps=fps, weights=arguments.weights,
                             model_asset=arguments.model_asset,
                             visibility_threshold=arguments.visibility_threshold,
                             max_gap=arguments.max_gap, min_detection_rate=arguments.min_detection_rate)


def _check_source_and_store(arguments: argparse.Namespace) -> int:
    """Ordinary mistakes (a missing source, a bad manifest, a --store that is not a store) as one
    line, before the flow starts (inside it they would come after Prefect's traceback). Returns how
    many videos the source names."""
    from posegraph.data.ingest import discover_videos

    jobs = discover_videos(arguments.source)
    _store(arguments.store, create=True)
    return len(jobs)


def command_extract(arguments: argparse.Namespace) -> int:
    options = _extraction_options(arguments)
    if not _check_source_and_store(arguments):  # a schedule (serve) may find none today; one run asked for some
        from posegraph.data.ingest import VIDEO_SUFFIXES

        raise ValueError(f"{arguments.source}: no video files in it or below (looked for "
                         f"{', '.join(VIDEO_SUFFIXES)}); give a folder of videos, a file, a pattern or a manifest")
    from posegraph.flows.extraction import run_extraction

    summary = run_extraction(arguments.source, arguments.store, options, workers=arguments.workers,
                             dask_address=arguments.dask_address, force=arguments.force,
                             retry_failed=arguments.retry_failed, progress=not arguments.quiet,
                             dask_workers=arguments.dask_workers)
    failed = [o for o in summary["outcomes"] if o["status"] == "failed"]
    for outcome in failed:
        print(f"failed: {outcome['reason']}", file=sys.stderr)
    return 1 if failed else 0


def command_serve(arguments: argparse.Namespace) -> int:
    options = _extraction_options(arguments)
    _check_source_and_store(arguments)
    from posegraph.flows.scheduling import serve_extraction

    serve_extraction(arguments.source, arguments.store, options, cron=arguments.cron,
                     name=arguments.name, workers=arguments.workers, dask_address=arguments.dask_address,
                     dask_workers=arguments.dask_workers)
    return 0


def command_render(arguments: argparse.Namespace) -> int:
    from posegraph.data.rendering import missing_source, render_stored_video

    store = _store(arguments.store)
    arguments.video_id = _stored_id(store, arguments.video_id)
    missing = missing_source(store, arguments.video_id)
    if missing:
        print(f"note: {missing}", file=sys.stderr)
    out = render_stored_video(store, arguments.video_id, arguments.out, layout=arguments.layout,
                              person=arguments.person, scale=arguments.scale, start_s=arguments.start,
                              end_s=arguments.end, max_frames=arguments.max_frames)
    print(f"rendered {out}")
    return 0


def _stored_id(store, target: str) -> str:
    """A stored video's id (or prefix) as given, or the id of a video file given instead (its content
    hash), when the store holds it; a path that is not a stored video is one clear error."""
    from pathlib import Path

    path = Path(target)
    if not (path.exists() or path.is_symlink() or path.suffix or "/" in target):
        return target  # an id or a prefix
    from posegraph.data.ingest import content_hash
    from posegraph.skeleton.video import check_video_path

    check_video_path(path)  # a folder, a fifo, a missing or unreadable file: said in words
    digest = content_hash(path)
    if not store.video_rows(digest):
        raise ValueError(f"{target}: this file is not in the store at {store.root}; render draws stored skeletons: "
                         f"posegraph extract {target} --store {store.root} first")
    return digest


def _add_extraction_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", required=True, help="skeleton store folder (created if missing)")
    parser.add_argument("--extractor", default="blazepose", choices=("blazepose", "hrnet"),
                        help="blazepose (MediaPipe, 33 joints; default) or hrnet (COCO-17, needs --weights)")
    parser.add_argument("--weights", help="HRNet checkpoint (.pth, official state_dict format)")
    parser.add_argument("--model-asset", help="a MediaPipe Tasks pose landmarker file (.task) to use instead "
                                              "of the bundled BlazePose full model")
    parser.add_argument("--fps", default="16", help="sampling rate (default 16); 'none' keeps the native rate")
    parser.add_argument("--workers", type=int, help="parallel processes (default: one per core)")
    parser.add_argument("--dask-address", help="run the tasks on an existing Dask cluster, e.g. tcp://host:8786")
    parser.add_argument("--dask-workers", type=int, help="run the tasks on a local Dask cluster of this many "
                                                         "single-threaded worker processes, started for the run")
    parser.add_argument("--visibility-threshold", type=float, default=0.6,
                        help="mean joint visibility below which a frame counts as not detected")
    parser.add_argument("--max-gap", type=int, default=8, help="longest gap (frames) filled by interpolation")
    parser.add_argument("--min-detection-rate", type=float, default=0.3,
                        help="videos detected in fewer frames are stored as rejected")



def register(commands: argparse._SubParsersAction) -> None:
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

    render = commands.add_parser("render", help="draw a stored skeleton over its video (.mp4, .webm, .gif, .png sheet)")
    render.add_argument("video_id", help="the video id, or a unique prefix of it")
    render.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    render.add_argument("--out", required=True,
                        help="FILE.mp4, FILE.webm (plays in browsers), FILE.gif or FILE.png (contact sheet)")
    render.add_argument("--layout", help="which layout, when the video is stored in several")
    render.add_argument("--person", type=int, default=0, help="which person (0 = the most visible; default 0)")
    render.add_argument("--scale", type=float, default=1.0, help="resize by this factor (0.5 = half size; default 1)")
    render.add_argument("--start", type=float, help="start at this many seconds into the video")
    render.add_argument("--end", type=float, help="end at this many seconds into the video")
    render.add_argument("--max-frames", type=int, help="at most this many frames (GIFs of long videos get big)")
    render.set_defaults(run=command_render)
