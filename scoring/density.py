"""HDBSCAN, the one density clustering both reference models use.

HDBSCAN finds clusters of any shape and number and calls sparse points noise, which suits poses:
a movement lingers at its turning points and start posture (dense) and passes quickly between
them. Both models pass the same two numbers: ``min_cluster_size`` (capped at a tenth of the
points, so a small reference still gets clusters) and ``min_samples`` (how many neighbours make
a point "core": small keeps fine structure). The phase model asks for HDBSCAN's ``leaf``
clusters (the finest persistent ones: many small phases along the movement, see ``phases``),
the per-joint baseline for HDBSCAN's default ``eom`` selection (the source names no settings).

``hdbscan`` is imported here, when a reference is fitted, never when scores are computed:
scoring needs only the numbers a reference stores (centroids, spreads, calibration), so
neither ``prediction_data`` nor ``approximate_predict`` is used (see ``phases``).
"""

from __future__ import annotations

import numpy as np

MIN_CLUSTER_FLOOR = 5


def cluster_sizes(points: int, min_cluster_size: int, min_samples: int) -> tuple[int, int]:
    """HDBSCAN's ``min_cluster_size`` (at most a tenth of the points, at least 5), ``min_samples``."""
    size = max(MIN_CLUSTER_FLOOR, min(min_cluster_size, points // 10))
    return size, max(1, min(min_samples, size))


def density_labels(points: np.ndarray, min_cluster_size: int, min_samples: int,
                   selection: str = "eom") -> np.ndarray:
    """Cluster labels ``0..K-1`` (-1 noise) of ``points``; all 0 when HDBSCAN finds no cluster.

    Shapes: ``points (N, D)`` finite -> ``(N,)`` int64. With no cluster at all (too few or too
    uniform points) the whole set is one cluster, so there is always a reference to compare with.
    """
    if len(points) < 2 * MIN_CLUSTER_FLOOR:
        return np.zeros(len(points), dtype=np.int64)
    import hdbscan

    size, samples = cluster_sizes(len(points), min_cluster_size, min_samples)
    clusterer = hdbscan.HDBSCAN(min_cluster_size=size, min_samples=samples,
                                cluster_selection_method=selection, core_dist_n_jobs=1)
    labels = np.asarray(clusterer.fit_predict(np.ascontiguousarray(points, np.float64)), dtype=np.int64)
    return labels if (labels >= 0).any() else np.zeros(len(points), dtype=np.int64)
