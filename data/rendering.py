"""Drawing a stored video's skeleton over its source frames (``posegraph render``).

The drawing itself (overlays, captions, contact sheets, writing .mp4/.gif/.png) is
:mod:`posegraph.skeleton.render`; this reads what to draw from the store.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..skeleton import get_layout
from ..skeleton.render import overlay, scaled, source_frames, visibility_legend, write_images
from .records import stored_frame_rate
from .sources import resolve_video_id
from .store import SkeletonStore

DEFAULT_CANVAS = (640, 480)  # pixels, when the store records no frame size


def missing_source(store: SkeletonStore, video_id: str) -> str | None:
    """A line saying the stored video's source file is gone (so a render draws on a blank canvas), or None."""
    rows = store.video_rows(resolve_video_id(store, video_id))
    path = rows[0]["source_path"] if rows else None
    if path and Path(path).is_file():
        return None
    return (f"the source video {path or '(no path recorded)'} is not there: the skeleton is drawn on a blank "
            f"canvas (re-extract the video where it now lives to record its new path)")


def render_stored_video(store: SkeletonStore, video_id: str, out: str | Path, layout: str | None = None,
                        person: int = 0, scale: float = 1.0, start_s: float | None = None,
                        end_s: float | None = None, max_frames: int | None = None) -> Path:
    """Draw the stored skeleton over the source video (blank canvas if it is gone) into ``out``.

    Every frame is captioned with its frame number, time and label, and a key to the joint colours
    goes below; ``scale`` resizes, ``start_s``/``end_s`` (seconds) and ``max_frames`` cut the video.
    """
    if scale <= 0 or scale > 4:
        raise ValueError(f"--scale {scale}: choose a factor above 0 and up to 4 (0.5 halves the size)")
    video_id = resolve_video_id(store, video_id)
    frames = store.read_video(video_id, person=person, layout=layout)
    row = next(r for r in store.video_rows(video_id) if r["layout"] == frames.layout)
    times = frames.timestamps - (frames.timestamps[0] if len(frames.timestamps) else 0.0)
    keep = np.ones(len(times), dtype=bool)
    if start_s is not None:
        keep &= times >= start_s
    if end_s is not None:
        keep &= times <= end_s
    positions = np.flatnonzero(keep)[:max_frames]
    if not len(positions):
        raise ValueError(f"no stored frames between {start_s or 0:g} s and {end_s if end_s is not None else 'the end'}"
                         f"{'' if end_s is None else ' s'} (the video lasts {times[-1] if len(times) else 0:.2f} s)")
    width, height = row["width"] or DEFAULT_CANVAS[0], row["height"] or DEFAULT_CANVAS[1]
    images = source_frames(row["source_path"], frames.frame_indices[positions], width, height)
    label = f"  {row['label']}" if row.get("label") else ""
    captions = [f"frame {int(frames.frame_indices[p])}  {times[p]:.2f} s{label}" for p in positions]
    drawn = overlay(images, frames.joints[positions], get_layout(frames.layout),
                    None if frames.interpolated is None else frames.interpolated[positions], captions=captions)
    return write_images(scaled(drawn, scale), out, stored_frame_rate(row), legend=visibility_legend)
