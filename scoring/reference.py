"""``FormReference``: fit on good executions of one exercise, score new ones, save, load.

Fitting, in order (each step documented in its module):

1. every sequence to the scoring body frame (:mod:`.normalise`): aspect-correct, hip-centred,
   torso-scaled, mirrored to face +x;
2. frames showing too little of the body out (:mod:`.outliers`, rule 1);
3. at most ``max_frames`` frames kept: a uniform random subsample without replacement, seeded
   by ``seed``, when there are more (HDBSCAN's cost grows faster than linearly; 20,000 frames
   already cover a movement's poses densely, so a million reference frames cost little more
   than normalising them);
4. the phase-aware pose clusters (:mod:`.phases`, the default), which also find the frames
   that fit no phase (:mod:`.outliers`, rule 2): those are left out from here on;
5. the source's per-joint clusters (:mod:`.joint_clusters`, the baseline) on the same frames;
6. each method's deviations of those frames calibrate its 0-100 mapping (:mod:`.mapping`).

Scoring normalises the new sequence the same way, measures deviations (vectorised over frames)
and maps them; :mod:`.result` turns joint scores into frame, running and video scores.
"""

from __future__ import annotations

import dataclasses
import datetime
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np

from posegraph.skeleton import Layout, get_layout
from posegraph.skeleton.geometry import mirror_image

from . import artifact
from .joint_clusters import JointClusters, fit_joint_clusters
from .mapping import Calibration, calibrate, scores_from_ramp
from .normalise import body_joints, facing_sign, normalise
from .outliers import MIN_SEEN_SHARE, too_little_seen
from .phases import PhaseClusters, fit_phases
from .result import FormScore, summarise

METHODS = ("phase", "joint")


@dataclass(frozen=True)
class FitOptions:
    """How a reference is fitted; saved with it.

    Attributes:
        mirror: turn every sequence to face +x (left and right swapped) before comparing.
        min_visibility: joints seen with a lower visibility count as not seen. 0 by default:
            MediaPipe's guesses of hidden joints (low visibility) still follow the body, and
            keeping them separated valid from faulty frames better on every data set measured
            (``benchmarks/scoring.py``).
        max_frames: at most this many frames are clustered (a seeded random subsample).
        seed: seed of that subsample.
        min_cluster_size: HDBSCAN's ``min_cluster_size`` in frames (at most a tenth of the
            clustered frames, at least 5): the fewest frames a phase is made of.
        min_samples: HDBSCAN's ``min_samples`` (how many neighbours make a frame "core").
        min_spread: smallest per-joint spread of a phase cluster, torso lengths.
    """

    mirror: bool = True
    min_visibility: float = 0.0
    max_frames: int = 20_000
    seed: int = 0
    min_cluster_size: int = 15
    min_samples: int = 5
    min_spread: float = 0.05

    @classmethod
    def of(cls, options: dict[str, object]) -> FitOptions:
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown FormReference.fit option(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}")
        return cls(**options)  # type: ignore[arg-type]


@dataclass(frozen=True, repr=False)
class FormReference:
    """A fitted form reference of one exercise in one layout.

    Example:
        >>> reference = FormReference.fit(good_squats, layout="blazepose33", exercise="squat")
        >>> result = reference.score(new_squat, frame_size=(1280, 720), fps=30)
        >>> result.mean_score, result.worst_joints[0].joint
        >>> reference.save("squat.reference.json")
        >>> FormReference.load("squat.reference.json", layout="blazepose33")
    """

    exercise: str
    layout: str
    options: FitOptions
    phases: PhaseClusters
    phase_calibration: Calibration
    joint_clusters: JointClusters
    joint_calibration: Calibration
    info: dict[str, object] = field(default_factory=dict)  # videos, frame counts, packages, created

    def __repr__(self) -> str:
        frames = self.info.get("frames", {})
        return (f"FormReference(exercise={self.exercise!r}, layout={self.layout!r}, "
                f"phases={len(self.phases.sizes)}, frames={frames})")

    @property
    def joint_names(self) -> tuple[str, ...]:
        return get_layout(self.layout).joint_names

    # -- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, sequences: Sequence[np.ndarray], layout: str = "blazepose33", exercise: str = "squat",
            *, frame_sizes: Sequence[tuple[float, float] | None] | None = None,
            video_ids: Sequence[str] | None = None, **options: object) -> FormReference:
        """Fit a reference on good executions (module docstring).

        Args:
            sequences: ``(T, V, 4)`` arrays in ``layout``: x, y (fractions of the frame), z,
                visibility; NaN where not seen.
            layout: the layout of every sequence (convert others with ``skeleton.convert``).
            exercise: the exercise's name, kept in the reference and checked on loading.
            frame_sizes: ``(width, height)`` of each sequence's video (None: square frames).
            video_ids: ids of the videos used, recorded in the reference file.
            **options: :class:`FitOptions` fields (``max_frames``, ``seed``, ``mirror``, ...).
        """
        settings = FitOptions.of(options)
        spec = get_layout(layout)
        sequences = list(sequences)
        if not sequences:
            raise ValueError("FormReference.fit needs at least one sequence")
        sizes = list(frame_sizes) if frame_sizes is not None else [None] * len(sequences)
        if len(sizes) != len(sequences) or (video_ids is not None and len(video_ids) != len(sequences)):
            raise ValueError(f"{len(sequences)} sequences but {len(sizes)} frame sizes and "
                             f"{'no' if video_ids is None else len(video_ids)} video ids")
        poses = np.concatenate([normalise(joints, spec, size, settings.mirror, settings.min_visibility)
                                for joints, size in zip(sequences, sizes)])
        body = body_joints(spec)
        unseen = too_little_seen(poses, body)
        kept = poses[~unseen]
        if len(kept) < 2:
            raise ValueError(f"only {len(kept)} of {len(poses)} reference frames show enough of a "
                             f"body in layout {layout!r} to fit a reference")
        if len(kept) > settings.max_frames:
            chosen = np.random.default_rng(settings.seed).choice(len(kept), settings.max_frames, replace=False)
            kept = kept[np.sort(chosen)]
        pose_joints = body[np.isfinite(kept[:, body]).all(axis=-1).mean(axis=0) >= MIN_SEEN_SHARE]
        phases, far = fit_phases(kept, pose_joints, settings.min_cluster_size, settings.min_samples,
                                 settings.min_spread)
        kept = kept[~far]
        phase_calibration = calibrate(phases.deviations(kept, phases.match(kept)))
        joint_clusters = fit_joint_clusters(kept, settings.min_cluster_size, settings.min_samples)
        joint_calibration = calibrate(joint_clusters.deviations(kept))
        info = {
            "videos": None if video_ids is None else [str(video) for video in video_ids],
            "frames": {"given": len(poses), "too_little_seen": int(unseen.sum()),
                       "sampled": len(far), "fitting_no_phase": int(far.sum()),
                       "used": len(kept)},
            "packages": _packages(),
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        return cls(exercise, spec.name, settings, phases, phase_calibration, joint_clusters,
                   joint_calibration, info)

    # -- scoring ----------------------------------------------------------------------------
    def score(self, joints: np.ndarray, frame_size: tuple[float, float] | None = None,
              method: str = "phase", timestamps: np.ndarray | None = None,
              fps: float | None = None) -> FormScore:
        """Score one person's sequence against this reference.

        Args:
            joints: ``(T, V, 4)`` in this reference's layout (x, y fractions of the frame).
            frame_size: ``(width, height)`` of the video, for aspect-correct units.
            method: ``"phase"`` (default: deviation from the matched pose cluster, relative to its
                spread) or ``"joint"`` (the source's baseline: distance to the joint's nearest
                cluster).
            timestamps: ``(T,)`` seconds of each frame; or ``fps`` to derive them; for the times
                of the worst joints (None when neither is given).

        Shapes: ``joints (T, V, 4)`` -> :class:`FormScore` with ``(T,)`` and ``(T, V)`` arrays;
        joint scores are in the order of ``joints`` (a mirrored sequence's scores are mapped
        back, so ``left_knee`` is the person's own left knee).
        """
        if method not in METHODS:
            raise ValueError(f"unknown scoring method {method!r}; known: {', '.join(METHODS)}")
        spec = get_layout(self.layout)
        poses = normalise(joints, spec, frame_size, mirror=False, min_visibility=self.options.min_visibility)
        flipped = self.options.mirror and facing_sign(poses, spec) < 0
        if flipped:
            poses = mirror_image(poses, spec.mirror_index)
        if method == "phase":
            matched = self.phases.match(poses)
            ramps = self.phase_calibration.ramp(self.phases.deviations(poses, matched))
        else:
            matched = np.full(len(poses), -1, dtype=np.int64)
            ramps = self.joint_calibration.ramp(self.joint_clusters.deviations(poses))
        if flipped:  # scores belong to the joints as given: the person's own left knee stays left
            ramps = ramps[:, list(spec.mirror_index)]
        scores = scores_from_ramp(ramps)
        times = (np.asarray(timestamps, dtype=np.float64) if timestamps is not None
                 else np.arange(len(poses)) / fps if fps else None)
        return summarise(scores, body_joints(spec), spec.joint_names, method, matched, times, ramps)

    # -- the file ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the reference as one versioned JSON file (see :mod:`.artifact`)."""
        names = self.joint_names
        document = {
            "exercise": self.exercise, "layout": self.layout, "joint_names": list(names),
            **self.info, "parameters": dataclasses.asdict(self.options),
            "phase": {
                "pose_joints": [names[index] for index in self.phases.pose_joints],
                "centroids": artifact.encode(self.phases.centroids),
                "covariances": artifact.encode(self.phases.covariances),
                "sizes": artifact.encode(self.phases.sizes),
                "calibration": _calibration_document(self.phase_calibration),
            },
            "joint": {
                "centroids": artifact.encode(self.joint_clusters.centroids),
                "sizes": artifact.encode(self.joint_clusters.sizes),
                "calibration": _calibration_document(self.joint_calibration),
            },
        }
        return artifact.write_document(document, path)

    @classmethod
    def load(cls, path: str | Path, layout: str | None = None, exercise: str | None = None) -> FormReference:
        """Read a reference saved by :meth:`save`.

        Raises ``ReferenceFileError`` (a ``ValueError``) for a file of another format version,
        or of another layout or exercise than the ``layout`` / ``exercise`` given, naming both.
        """
        document = artifact.read_document(path, layout, exercise)
        spec: Layout = get_layout(document["layout"])
        if tuple(document["joint_names"]) != spec.joint_names:
            raise artifact.ReferenceFileError(
                f"{path}: the reference's joints of layout {spec.name!r} differ from this "
                f"posegraph's ({len(document['joint_names'])} vs {spec.num_joints} joints)")
        phase, joint = document["phase"], document["joint"]
        phases = PhaseClusters(
            artifact.decode(phase["centroids"], shape_tail=(spec.num_joints, 2)),
            artifact.decode(phase["covariances"], shape_tail=(spec.num_joints, 2, 2)),
            artifact.decode(phase["sizes"], np.int64),
            np.array([spec.joint_names.index(name) for name in phase["pose_joints"]], dtype=np.int64))
        clusters = JointClusters(artifact.decode(joint["centroids"]), artifact.decode(joint["sizes"], np.int64))
        info = {key: document.get(key) for key in ("videos", "frames", "packages", "created")}
        return cls(document["exercise"], spec.name, FitOptions.of(document["parameters"]), phases,
                   _calibration(phase["calibration"]), clusters, _calibration(joint["calibration"]), info)


def _calibration_document(calibration: Calibration) -> dict[str, list]:
    return {"low": artifact.encode(calibration.low), "high": artifact.encode(calibration.high)}


def _calibration(document: dict[str, list]) -> Calibration:
    return Calibration(artifact.decode(document["low"]), artifact.decode(document["high"]))


def _packages() -> dict[str, str | None]:
    """Versions that made the reference (python, numpy, hdbscan, posegraph)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("numpy", "hdbscan", "scikit-learn", "posegraph"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return versions
