"""Form scores drawn on the skeleton (joints red at 0 to green at 100) as a picture or a video.

``posegraph score --out FILE`` calls :func:`render_scores`; the drawing primitives are
:mod:`posegraph.skeleton.render`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posegraph.data.rendering import DEFAULT_CANVAS
from posegraph.skeleton import get_layout
from posegraph.skeleton.render import (SHEET_FRAMES, contact_sheet, overlay, score_colors, score_legend, source_frames,
                                       write_images)


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


def render_scores(source, result, out: str | Path, notes: list[str] | None = None) -> Path:
    """Draw a :class:`~posegraph.scoring.FormScore` on its video's skeleton (``source``: a
    :class:`~posegraph.skeleton.source.SkeletonSource`) over the source frames (a blank canvas when
    the video is gone): ``.png`` a contact sheet of up to 8 frames, the worst one among them,
    captioned with time and frame score, plus a colour key; ``.mp4`` / ``.gif`` every frame,
    captioned with the frame and running scores (and ``notes[frame]`` after them, when given: the
    analysis's counter and cue). Joints are red (0) to green (100), grey unscored.
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
    if notes is not None:
        captions = [f"{text}  {note}".rstrip() for text, note in zip(captions, notes)]
    images = source_frames(source.source_path, source.frame_indices, width, height)
    return write_images(overlay(images, source.joints, layout, joint_colors=colors, radius=radius,
                                captions=captions), out, source.fps)
