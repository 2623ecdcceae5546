"""The source's baseline: one density clustering per joint, of that joint's positions alone.

As in the Smart Fitness Trainer's keypoint scoring: for every joint, HDBSCAN over its normalised
(x, y) in all reference frames; each cluster keeps its centroid (the mean of its members;
HDBSCAN's noise points shape none, and a joint where it finds no cluster gets one). A new
keypoint's **deviation** is its Euclidean distance to the nearest of its joint's centroids
("closeness to that particular cluster"), in torso lengths. It knows where each joint may be,
but not which combinations belong together: a standing knee next to squatting hips passes.
A joint seen in fewer than ``MIN_POINTS`` reference frames gets no clusters (never scored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .density import density_labels

MIN_POINTS = 10


@dataclass(frozen=True)
class JointClusters:
    """Per-joint cluster centroids, padded to the most clusters any joint has.

    Shapes: ``centroids (V, K, 2)`` NaN-padded, ``sizes (V, K)`` member counts (0 = padding).
    """

    centroids: np.ndarray
    sizes: np.ndarray

    def deviations(self, poses: np.ndarray) -> np.ndarray:
        """Distance of each joint to its nearest centroid.

        Shapes: ``poses (T, V, 2)`` -> ``(T, V)``; NaN where unseen or without clusters.
        """
        from scipy.spatial import cKDTree

        deviation = np.full(poses.shape[:2], np.nan)
        for joint in range(poses.shape[1]):
            centroids = self.centroids[joint][self.sizes[joint] > 0]
            seen = np.isfinite(poses[:, joint]).all(axis=-1)
            if len(centroids) and seen.any():
                deviation[seen, joint] = cKDTree(centroids).query(poses[seen, joint].astype(np.float64))[0]
        return deviation


def fit_joint_clusters(poses: np.ndarray, min_cluster_size: int, min_samples: int) -> JointClusters:
    """One HDBSCAN per joint over its seen positions (module docstring).

    Shapes: ``poses (N, V, 2)`` normalised reference frames -> :class:`JointClusters`.
    """
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for joint in range(poses.shape[1]):
        points = poses[:, joint].astype(np.float64)
        points = points[np.isfinite(points).all(axis=1)]
        if len(points) < MIN_POINTS:
            found.append((np.zeros((0, 2)), np.zeros(0, dtype=np.int64)))
            continue
        labels = density_labels(points, min_cluster_size, min_samples, selection="eom")
        clusters = range(int(labels.max()) + 1)
        found.append((np.array([points[labels == k].mean(axis=0) for k in clusters]),
                      np.array([(labels == k).sum() for k in clusters], dtype=np.int64)))
    most = max(1, max(len(sizes) for _, sizes in found))
    centroids = np.full((poses.shape[1], most, 2), np.nan)
    sizes = np.zeros((poses.shape[1], most), dtype=np.int64)
    for joint, (means, counts) in enumerate(found):
        centroids[joint, :len(counts)] = means
        sizes[joint, :len(counts)] = counts
    return JointClusters(centroids, sizes)
