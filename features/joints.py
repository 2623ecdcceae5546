"""Named-joint lookup with missing joints as NaN, and the sequence's body scale.

Coordinates keep the caller's units (x and y must share one unit, e.g. pixels). A joint is
*not seen* in a frame when its x or y is NaN or its visibility is finite and <= 0 (OpenPose
writes missing joints as (0, 0) with score 0; Penn Action's visibility is 0/1); a joint the
layout does not have is missing in every frame. Both read as NaN here.
"""

from __future__ import annotations

import numpy as np

from posegraph.skeleton import Layout

from .geometry import distance, midpoint

# Joints looked up under another name where the layout lacks the first (penn13, ntu25: head).
FALLBACKS = {"nose": "head"}
# Body scale = median over frames of max(torso length, SHOULDER_TO_TORSO * shoulder width).
SHOULDER_TO_TORSO = 1.2


class Body:
    """A sequence's joints looked up by name.

    Args:
        joints: ``(T, V, 4)`` x, y, z, visibility in ``layout``'s joint order.
        layout: the layout whose ``joint_names`` give the order.

    Example:
        >>> body = Body(joints, get_layout("coco17"))
        >>> body.xy("left_wrist").shape   # (T, 2), NaN where not seen
    """

    def __init__(self, joints: np.ndarray, layout: Layout) -> None:
        self._points = np.asarray(joints)
        self.frames = self._points.shape[0]
        self._index = {name: index for index, name in enumerate(layout.joint_names)}
        for name, fallback in FALLBACKS.items():
            if name not in self._index and fallback in self._index:
                self._index[name] = self._index[fallback]
        self._joints: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _joint(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """xy ``(T, 2)``, z and visibility ``(T,)`` of one joint, worked out once."""
        if name not in self._joints:
            index = self._index.get(name)
            x, y, z, visibility = (self._points[:, index].astype(np.float64).T if index is not None
                                   else np.full((4, self.frames), np.nan))  # absent: missing
            detected = ~(np.isnan(x) | np.isnan(y))
            seen = detected & ~(visibility <= 0)
            self._joints[name] = (np.where(seen[:, None], np.stack([x, y], axis=-1), np.nan),
                                  np.where(seen, z, np.nan),
                                  np.where(detected, np.clip(visibility, 0.0, 1.0), np.nan))
        return self._joints[name]

    def xy(self, name: str) -> np.ndarray:
        """``(T, 2)`` image-plane position of joint ``name``; NaN where not seen or absent."""
        return self._joint(name)[0]

    def z(self, name: str) -> np.ndarray:
        """``(T,)`` depth of joint ``name`` as given; NaN where not seen, absent or 2-D."""
        return self._joint(name)[1]

    def visibility(self, name: str) -> np.ndarray:
        """``(T,)`` visibility clipped to [0, 1] (0 kept: the detector's own verdict);
        NaN where the layout gives none, lacks the joint, or the joint has no position."""
        return self._joint(name)[2]

    def centre(self, joint: str) -> np.ndarray:
        """``(T, 2)`` midpoint of ``left_<joint>`` and ``right_<joint>``."""
        return midpoint(self.xy(f"left_{joint}"), self.xy(f"right_{joint}"))


def body_scale(body: Body) -> float:
    """One length per sequence that all coordinates and distances are divided by.

    Per frame, the larger of the torso length (shoulder centre to hip centre) and
    ``SHOULDER_TO_TORSO`` x the shoulder width, both in the image plane (either alone where the
    other is missing); then the median over the frames where it is defined and positive.

    Why: one scale per sequence keeps features moving only when the body moves and makes them
    invariant to translation and to uniform scaling of the whole sequence; the median ignores
    outlier frames; the maximum resists foreshortening: a torso pointing at the camera (push-up
    or bench press filmed from the head or feet) is short while the shoulders stay wide, and a
    side view narrows the shoulders but not the torso. 1.2 sits below the torso/shoulder-width
    ratio of an upright frontal body (median 1.79, 10th percentile 1.16 over 135 front-view
    clips of Penn Action's training split; 1.32 for ``posegraph.data.synthetic``'s figure), so
    the torso decides unless it is foreshortened. NaN when no frame defines it.
    """
    torso = distance(body.centre("shoulder"), body.centre("hip"))
    width = distance(body.xy("left_shoulder"), body.xy("right_shoulder"))
    per_frame = np.fmax(torso, SHOULDER_TO_TORSO * width)
    per_frame = per_frame[np.isfinite(per_frame) & (per_frame > 0)]
    return float(np.median(per_frame)) if per_frame.size else float("nan")
