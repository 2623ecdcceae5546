"""What each model family is fed for one video, in numpy only: the PyTorch path
(:mod:`.families`) and exported models (:mod:`.onnx_runtime`) build their inputs here, and
combine their outputs here, so both answer alike.

- graph models (ST-GCN, MS-G3D): evenly spaced crops of the prepared skeleton in the model's
  input stream (:func:`input_stream`: joint, bone, joint or bone motion), ``(crops, C=3, T, V, M)``;
  the video's logits are the mean over crops;
- the sequence model (BiLSTM): scaled windows of the 83 features, ``(windows, frames, 83)``; the
  video's logits are the confidence-weighted vote of its windows (:func:`vote`).
"""

from __future__ import annotations

import numpy as np
from posegraph.features import build_features
from posegraph.skeleton.source import SkeletonSource

from .augment import evenly_spaced_crops
from .config import STREAMS, TrainConfig
from .evaluation import softmax
from .preprocess import prepare, to_channels
from .sequence import FeatureScaler, video_probabilities, window_starts, windows


def graph_crops(config: TrainConfig, layout: str, sequence: SkeletonSource) -> np.ndarray:
    """``(crops, 3, T, V, M)`` float32: the first ``num_persons`` people (padded with unseen ones),
    prepared and cropped as the graph models were evaluated."""
    persons = config.num_persons
    people = sequence.people
    if people.shape[0] < persons:
        padding = np.full((persons - people.shape[0],) + people.shape[1:], np.nan, dtype=people.dtype)
        people = np.concatenate([people, padding])
    sequence = SkeletonSource.from_people(people[:persons], sequence.layout, sequence.timestamps, sequence.width,
                              sequence.height)
    data = to_channels(prepare(sequence, layout, config.frames_per_second, config.joint_confidence))
    crops = evenly_spaced_crops(data, config.clip_frames, config.test_crops)
    return np.ascontiguousarray(input_stream(crops, layout, config.stream), dtype=np.float32)


def input_stream(data: np.ndarray, layout: str, stream: str = "joint") -> np.ndarray:
    """The graph models' input stream from the joint stream (``to_channels``' x, y, confidence;
    missing joints 0 with confidence 0):

    - ``bone``: each joint minus its parent in the layout's bone tree (the centre joints minus
      their midpoint), confidence the smaller of the two;
    - ``joint_motion`` / ``bone_motion``: the next frame minus this one (the last frame 0),
      confidence the smaller of the two frames'.

    Where the confidence is 0 the vector is 0. Shapes: ``(C=3, T, V, M)`` kept; also ``(K, C, T, V, M)``.
    """
    if stream not in STREAMS:
        raise ValueError(f"stream={stream!r}: choose from {', '.join(STREAMS)}")
    if stream == "joint":
        return data
    from posegraph.skeleton import get_layout
    from posegraph.skeleton.layout import CENTRE

    data = np.asarray(data, dtype=np.float32)
    xy, confidence = data[..., :2, :, :, :], data[..., 2:3, :, :, :]
    if stream.startswith("bone"):
        spec = get_layout(layout)
        parents = np.array(spec.bone_parents)
        centre = list(spec.center)
        centre_xy = xy[..., centre, :].mean(axis=-2, keepdims=True)
        centre_confidence = confidence[..., centre, :].min(axis=-2, keepdims=True)
        rooted = parents == CENTRE
        parent_xy = np.where(rooted[:, None], centre_xy, xy[..., np.where(rooted, 0, parents), :])
        parent_confidence = np.where(rooted[:, None], centre_confidence,
                                     confidence[..., np.where(rooted, 0, parents), :])
        xy, confidence = xy - parent_xy, np.minimum(confidence, parent_confidence)
    if stream.endswith("motion"):
        moved = np.zeros_like(xy)
        moved[..., :-1, :, :] = xy[..., 1:, :, :] - xy[..., :-1, :, :]
        both = np.zeros_like(confidence)
        both[..., :-1, :, :] = np.minimum(confidence[..., 1:, :, :], confidence[..., :-1, :, :])
        xy, confidence = moved, both
    xy = np.where(confidence > 0, xy, 0.0)
    return np.ascontiguousarray(np.concatenate([xy, confidence], axis=-4), dtype=np.float32)


def sequence_features(sequence: SkeletonSource, layout: str, frames_per_second: float,
                      confidence: str = "presence") -> np.ndarray:
    """``(T, 83)`` features of the main person, in the model's layout and frame rate."""
    joints = prepare(sequence, layout, frames_per_second, confidence)[0]
    return build_features(joints, layout, frames_per_second)[0]


def sequence_windows(config: TrainConfig, layout: str, extra: dict, sequence: SkeletonSource) -> np.ndarray:
    """``(windows, window_frames, 83)`` float32: the video's feature windows, scaled with the
    training windows' scaler (``extra["scaler"]``)."""
    features = sequence_features(sequence, layout, config.frames_per_second, config.joint_confidence)
    starts = window_starts(len(features), config.window_frames, config.frame_step, config.window_overlap)
    scaled = FeatureScaler.from_dict(extra["scaler"]).transform(
        windows(features, starts, config.window_frames, config.frame_step))
    return np.ascontiguousarray(scaled, dtype=np.float32)


def vote(window_logits: np.ndarray, exercise_count: int, min_window_confidence: float) -> np.ndarray:
    """One video's logits ``(outputs,)`` from its windows' ``(W, outputs)``: the exercise columns
    are the log of the confidence-weighted vote of the windows' probabilities, the muscle
    columns the mean of the windows' muscle logits."""
    parts = []
    if exercise_count:
        voted = video_probabilities(softmax(window_logits[:, :exercise_count]), min_window_confidence)
        parts.append(np.log(np.clip(voted, 1e-12, None)))
    if exercise_count < window_logits.shape[1]:
        parts.append(window_logits[:, exercise_count:].mean(axis=0))
    return np.concatenate(parts)
