"""Render a stored video's skeleton: store rows + source frames -> overlay file; and form
scores drawn on the skeleton (joints red to green by score) as a picture or a video."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posegraph.data import SkeletonStore
from posegraph.data.records import stored_frame_rate
from posegraph.data.sources import resolve_video_id
from posegraph.skeleton import get_layout
from posegraph.skeleton.render import (SHEET_FRAMES, contact_sheet, overlay, scaled, score_colors, score_legend,
                                       source_frames, visibility_legend, write_images)

DEFAULT_CANVAS = (640, 480)


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


def sheet_frames(frame_scores: np.ndarray, count: int = SHEET_FRAMES) -> np.ndarray:
    """Positions of the frames of a score picture: evenly spaced over the scored frames, with the
    worst-scored frame in place of its nearest pick. Shapes: ``(T,)`` -> ``(<= count,)`` sorted."""
    scored = np.flatnonzero(np.isfinite(frame_scores))
    candidates = scored if scored.size else np.arange(len(frame_scores))
    picks = candidates[np.linspace(0, len(candidates) - 1, min(count, len(candidates))).round().astype(int)]
    if scored.size:
        worst = int(scored[np.argmin(frame_scores[scored])])
        picks[np.argmin(np.abs(picks - worst))] = worst
    return np.unique(picks)


def render_scores(source, result, out: str | Path) -> Path:
    """Draw a :class:`~posegraph.scoring.FormScore` on its video's skeleton (``source``: a
    :class:`~posegraph.skeleton.source.SkeletonSource`) over the source frames (a blank canvas when
    the video is gone): ``.png`` a contact sheet of up to 8 frames, the worst one among them,
    captioned with time and frame score, plus a colour key; ``.mp4`` / ``.gif`` every frame,
    captioned with the frame and running scores. Joints are red (0) to green (100), grey unscored.
    """
    out = Path(out)
    width, height = source.width or DEFAULT_CANVAS[0], source.height or DEFAULT_CANVAS[1]
    layout = get_layout(source.layout)
    colors = score_colors(result.joint_scores)
    radius = max(3, int(round(min(width, height) / 90)))
    worst = np.nanargmin(result.frame_scores) if np.isfinite(result.frame_scores).any() else -1

    def label(position: int) -> str:
        score = result.frame_scores[position]
        text = f"{source.timestamps[position]:.2f} s  " + ("no score" if not np.isfinite(score)
                                                          else f"score {score:.0f}")
        return text + ("  (worst)" if position == worst else "")

    if out.suffix.lower() == ".png":
        picks = sheet_frames(result.frame_scores)
        images = source_frames(source.source_path, source.frame_indices[picks], width, height)
        tiles = list(overlay(images, source.joints[picks], layout, joint_colors=colors[picks],
                             radius=radius, captions=[label(int(p)) for p in picks]))
        sheet = contact_sheet(tiles)
        import cv2

        out.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(out), np.vstack([sheet, score_legend(sheet.shape[1])])):
            raise ValueError(f"{out}: could not write the picture")
        return out
    captions = [f"{label(p)}  running {result.running_score[p]:.0f}"
                if np.isfinite(result.running_score[p]) else label(p) for p in range(len(source.joints))]
    images = source_frames(source.source_path, source.frame_indices, width, height)
    return write_images(overlay(images, source.joints, layout, joint_colors=colors, radius=radius,
                                captions=captions), out, source.fps)
