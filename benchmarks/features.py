"""Feature extraction speed: ``build_features`` against a straightforward per-frame loop.

Run:  .venv/bin/python benchmarks/features.py [--frames 3000] [--repeats 5]

Input: a smooth synthetic blazepose33 sequence in pixels (arms, head and legs swinging, the body
drifting), 2% of frames with nobody seen and 1% of joints reported with visibility 0. The
reference below computes the same 83 formulas one frame at a time with plain Python and
``math`` (two passes: the body scale is a median over frames). Both run in this process; the
vectorised builder is the best of ``--repeats`` runs, the loop one run. Prints frames per
second, feature values per second and their ratio, after checking both give the same numbers.
Then both classifier families' training samples per second on random input of the defaults'
shapes (ST-GCN: batch 16 of 90-frame crops; BiLSTM: batch 32 of 20-frame feature windows).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from posegraph.features import FEATURE_NAMES, FEATURES, SHOULDER_TO_TORSO, build_features
from posegraph.skeleton import get_layout

NAN = float("nan")
TRACKED = [spec.joints[0] for spec in FEATURES if spec.group == "coordinates"][::3]
MOVING = [spec.joints[0] for spec in FEATURES if spec.group == "velocities"][::2]


def synthetic_sequence(frames: int, fps: float, seed: int = 0) -> np.ndarray:
    """``(frames, 33, 4)`` blazepose33 in pixels: a standing body whose limbs swing smoothly."""
    random = np.random.default_rng(seed)
    names = get_layout("blazepose33").joint_names
    t = np.arange(frames)[:, None] / fps
    base = random.uniform(100, 500, (len(names), 2))
    joints = np.empty((frames, len(names), 4))
    phase, frequency = random.uniform(0, 2 * np.pi, len(names)), random.uniform(0.2, 1.0, len(names))
    joints[..., 0] = base[:, 0] + 30 * np.sin(2 * np.pi * frequency * t + phase) + 20 * t
    joints[..., 1] = base[:, 1] + 30 * np.cos(2 * np.pi * frequency * t + phase)
    joints[..., 2] = random.normal(0, 50, (frames, len(names)))
    joints[..., 3] = random.uniform(0.3, 1.0, (frames, len(names)))
    joints[random.random((frames, len(names))) < 0.01, 3] = 0.0
    joints[random.random(frames) < 0.02] = np.nan
    return joints


def _angle(u: tuple[float, float], v: tuple[float, float]) -> float:
    if math.hypot(*u) == 0 or math.hypot(*v) == 0:  # NaN compares False: falls through to NaN
        return NAN
    return math.degrees(math.atan2(abs(u[0] * v[1] - u[1] * v[0]), u[0] * v[0] + u[1] * v[1]))


def _sub(a, b):
    return (a[0] - b[0], a[1] - b[1])


def _mid(a, b):
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def reference_features(joints: np.ndarray, layout: str, fps: float) -> np.ndarray:
    """The 83 features frame by frame, in ``FEATURE_NAMES`` order, NaN where missing."""
    names = get_layout(layout).joint_names
    index = {name: i for i, name in enumerate(names)}
    index.setdefault("nose", index.get("head"))

    def frame_points(frame: np.ndarray) -> dict:
        points = {}
        for name in set(TRACKED) | {"left_hip", "right_hip"}:
            i = index.get(name)
            x, y, z, v = frame[i].tolist() if i is not None else (NAN,) * 4
            seen = not (math.isnan(x) or math.isnan(y) or v <= 0)
            has_v = not (math.isnan(x) or math.isnan(y) or math.isnan(v))
            points[name] = ((x, y) if seen else (NAN, NAN), z if seen else NAN,
                            min(max(v, 0.0), 1.0) if has_v else NAN)
        return points

    frames = [frame_points(frame) for frame in joints]
    scales = []
    for p in frames:
        ls, rs, lh, rh = (p[n][0] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"))
        torso = math.dist(_mid(ls, rs), _mid(lh, rh))
        width = SHOULDER_TO_TORSO * math.dist(ls, rs)
        scale = width if math.isnan(torso) else torso if math.isnan(width) else max(torso, width)
        if scale > 0:
            scales.append(scale)
    scale = statistics.median(scales) if scales else NAN

    rows = []
    for p in frames:
        xy = {name: value[0] for name, value in p.items()}
        hip = _mid(xy["left_hip"], xy["right_hip"])
        hip_z = (p["left_hip"][1] + p["right_hip"][1]) / 2
        row = {}
        for name in TRACKED:
            row[f"{name}_x"] = (xy[name][0] - hip[0]) / scale
            row[f"{name}_y"] = (xy[name][1] - hip[1]) / scale
            row[f"{name}_z"] = (p[name][1] - hip_z) / scale
        up = (0.0, -1.0)
        shoulders, knees, ankles = (_mid(xy[f"left_{j}"], xy[f"right_{j}"]) for j in ("shoulder", "knee", "ankle"))
        for s in ("left", "right"):
            sh, el, wr, hp, kn, an = (xy[f"{s}_{j}"] for j in ("shoulder", "elbow", "wrist", "hip", "knee",
                                                              "ankle"))
            row[f"{s}_elbow_angle"] = _angle(_sub(sh, el), _sub(wr, el))
            row[f"{s}_knee_angle"] = _angle(_sub(hp, kn), _sub(an, kn))
            row[f"{s}_hip_angle"] = _angle(_sub(sh, hp), _sub(kn, hp))
            row[f"{s}_shoulder_elevation"] = _angle(_sub(hp, sh), _sub(el, sh))
            row[f"{s}_forearm_from_vertical"] = _angle(_sub(wr, el), up)
            row[f"{s}_upper_arm_from_vertical"] = _angle(_sub(el, sh), up)
            row[f"{s}_shoulder_wrist_distance"] = math.dist(sh, wr) / scale
            row[f"{s}_hip_ankle_distance"] = math.dist(hp, an) / scale
        knee_bend = 180 - (row["left_knee_angle"] + row["right_knee_angle"]) / 2
        hip_bend = 180 - (row["left_hip_angle"] + row["right_hip_angle"]) / 2
        line = _sub(xy["right_shoulder"], xy["left_shoulder"])
        row |= {
            "spine_inclination": _angle(_sub(shoulders, hip), up),
            "forearm_convergence": _angle(_sub(xy["left_wrist"], xy["left_elbow"]),
                                          _sub(xy["right_wrist"], xy["right_elbow"])),
            "upper_arm_convergence": _angle(_sub(xy["left_elbow"], xy["left_shoulder"]),
                                            _sub(xy["right_elbow"], xy["right_shoulder"])),
            "knee_hip_bend_ratio": (math.degrees(math.atan2(knee_bend, hip_bend))
                                    if math.hypot(knee_bend, hip_bend) >= 5 else NAN),
            "body_line_from_vertical": _angle(_sub(shoulders, ankles), up),
            "hand_separation": _angle(_sub(xy["left_wrist"], shoulders), _sub(xy["right_wrist"], shoulders)),
            "shoulder_line_tilt": (math.degrees(math.atan2(abs(line[1]), abs(line[0])))
                                   if math.hypot(*line) > 0 else NAN),
            "ankle_stance": _angle(_sub(xy["left_ankle"], hip), _sub(xy["right_ankle"], hip)),
            "hip_hinge": _angle(_sub(shoulders, hip), _sub(knees, hip)),
            "hand_distance": math.dist(xy["left_wrist"], xy["right_wrist"]) / scale,
            "foot_distance": math.dist(xy["left_ankle"], xy["right_ankle"]) / scale,
            "shoulder_width": math.dist(xy["left_shoulder"], xy["right_shoulder"]) / scale,
        }
        for spec in FEATURES:
            if spec.group == "visibility":
                row[spec.name] = sum(p[joint][2] for joint in spec.joints) / len(spec.joints)
        rows.append(row)

    last = len(rows) - 1
    for t, row in enumerate(rows):
        for name in MOVING:
            for axis in "xy":
                key = f"{name}_{axis}"
                before, after = max(t - 1, 0), min(t + 1, last)
                if math.isnan(row[key]) or before == after:
                    row[f"{name}_v{axis}"] = NAN
                else:
                    row[f"{name}_v{axis}"] = (rows[after][key] - rows[before][key]) * fps / (after - before)
    return np.array([[row[name] for name in FEATURE_NAMES] for row in rows], dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    fps = 30.0
    joints = synthetic_sequence(arguments.frames, fps)

    build_features(joints, "blazepose33", fps)  # warm-up
    vectorised = []
    for _ in range(arguments.repeats):
        started = time.perf_counter()
        features, mask = build_features(joints, "blazepose33", fps)
        vectorised.append(time.perf_counter() - started)
    started = time.perf_counter()
    reference = reference_features(joints, "blazepose33", fps)
    looped = time.perf_counter() - started

    assert (np.isnan(reference) == mask).all(), "the loop and build_features disagree on what is missing"
    np.testing.assert_allclose(features, reference, rtol=1e-5, atol=1e-4, equal_nan=True)
    best = min(vectorised)
    print(f"{arguments.frames} frames of blazepose33 -> {len(FEATURE_NAMES)} features "
          f"({mask.mean():.1%} missing); both give the same numbers (rtol 1e-5, atol 1e-4)")
    for label, seconds in (("build_features (vectorised)", best), ("per-frame reference loop", looped)):
        print(f"  {label:<28} {1000 * seconds:8.1f} ms  {arguments.frames / seconds:11,.0f} frames/s  "
              f"{arguments.frames * len(FEATURE_NAMES) / seconds:13,.0f} features/s")
    print(f"  ratio: {looped / best:.1f}x (target >= 20x)")
    print("\ntraining samples per second (forward + backward + optimiser step, batch as in the defaults)")
    for model, layout, shape in CLASSIFIERS:
        print(f"  {model:<7} {layout:<12} input {str(shape):<20} {training_samples_per_second(model, layout, shape):8.1f} samples/s")


# (model, layout, one training sample's shape): the defaults' batch sizes and crop / window lengths.
CLASSIFIERS = (("stgcn", "penn13", (3, 90, 13, 1)), ("stgcn", "blazepose33", (3, 90, 33, 1)),
               ("bilstm", "any layout", (20, 83)))


def training_samples_per_second(model_name: str, layout: str, shape: tuple[int, ...], steps: int = 3) -> float:
    """Mean over ``steps`` training steps after one warm-up, with the family's default batch and optimiser."""
    import torch

    from posegraph.gcn.config import load_config
    from posegraph.gcn.families import family_of

    config = load_config(None, [], model=model_name)
    model = family_of(config).build(config, layout if model_name != "bilstm" else "blazepose33", 15)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate) if config.optimizer == "adam" \
        else torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=0.9)
    data, target = torch.randn(config.batch_size, *shape), torch.randint(0, 15, (config.batch_size,))
    timings = []
    for step in range(steps + 1):
        started = time.perf_counter()
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(data), target).backward()
        optimizer.step()
        if step:
            timings.append(time.perf_counter() - started)
    return config.batch_size / (sum(timings) / len(timings))


if __name__ == "__main__":
    main()
