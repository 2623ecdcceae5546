"""Render a stored video's skeleton: store rows + source frames -> overlay file."""

from __future__ import annotations

from pathlib import Path

from posegraph.data import SkeletonStore, VideoNotFoundError
from posegraph.skeleton import get_layout
from posegraph.skeleton.render import overlay, source_frames, write_images

DEFAULT_CANVAS = (640, 480)


def resolve_video_id(store: SkeletonStore, prefix: str) -> str:
    """A full video id from a unique prefix (ids are 64 hex digits; 8-12 are usually enough)."""
    if len(prefix) == 64:
        return prefix
    ids = sorted({vid for vid in store.videos().column("video_id").to_pylist() if vid.startswith(prefix)})
    if not ids:
        raise VideoNotFoundError(f"no video id starts with {prefix!r} in the store at {store.root}")
    if len(ids) > 1:
        raise ValueError(f"{prefix!r} matches {len(ids)} videos ({', '.join(i[:12] for i in ids[:5])}, ...); "
                         f"give more digits")
    return ids[0]


def render_stored_video(store: SkeletonStore, video_id: str, out: str | Path, layout: str | None = None,
                        person: int = 0) -> Path:
    """Draw the stored skeleton over the source video (blank canvas if it is gone) into ``out``."""
    video_id = resolve_video_id(store, video_id)
    frames = store.read_video(video_id, person=person, layout=layout)
    row = next(r for r in store.video_rows(video_id) if r["layout"] == frames.layout)
    width, height = row["width"] or DEFAULT_CANVAS[0], row["height"] or DEFAULT_CANVAS[1]
    images = source_frames(row["source_path"], frames.frame_indices, width, height)
    fps = row["sampled_fps"] or row["source_fps"] or 16.0
    return write_images(overlay(images, frames.joints, get_layout(frames.layout), frames.interpolated), out, fps)
