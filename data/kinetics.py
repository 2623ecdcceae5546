"""Import Kinetics-Skeleton JSON files (one per video) into the store as ``openpose18``.

The format (ST-GCN's Kinetics-Skeleton release)::

    {"data": [{"frame_index": 1,
               "skeleton": [{"pose": [x0, y0, x1, y1, ...], "score": [s0, s1, ...]}, ...]},
              ...],
     "label": "squat", "label_index": 301}

Coordinates are already normalised by the frame size (0..1); OpenPose writes a missing joint
as ``0, 0`` with score 0, and those values are stored unchanged (visibility = score, z = NaN).
As in the reference feeder, people are ranked per frame by their summed joint scores and the
``max_people`` (default 2) most confident are kept. Frames with nobody are stored as not
detected. Files that do not follow the format are reported, recorded in ``videos`` with
status ``failed`` and the reason, and the import goes on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..skeleton import get_layout
from ..skeleton.vocabulary import UNTIMED_FPS
from .records import Skeletons, VideoInfo
from .batches import ImportReport, import_files
from .source_file import read_source
from .store import SkeletonStore

LAYOUT = "openpose18"
# The release was made from videos resized to 340x256 before OpenPose ran (ST-GCN, Yan et al.
# 2018, section 4.1); recording it lets the geometry undo the stretch of normalised x and y.
FRAME_SIZE = (340, 256)
EXTRACTOR = "kinetics-skeleton-json"
EXTRACTOR_VERSION = "openpose-coco18"


class KineticsFormatError(ValueError):
    """A file does not follow the Kinetics-Skeleton JSON format."""


MAX_FRAME_INDEX = 2**31 - 1  # frame indices are stored as int32


def _numbers(values: object, expected: int, what: str) -> np.ndarray:
    """``values`` as float32, refusing anything but finite JSON numbers (no strings, null, booleans,
    NaN, Infinity or values beyond float range such as 1e400)."""
    if not isinstance(values, list) or len(values) != expected:
        size = len(values) if isinstance(values, list) else type(values).__name__
        raise KineticsFormatError(f"{what} should be a list of {expected} numbers, got {size}")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise KineticsFormatError(f"{what} holds a value that is not a number: {json.dumps(value)[:40]}")
    array = np.asarray(values, dtype=np.float64)
    if not np.isfinite(array).all() or (np.abs(array) > np.finfo(np.float32).max).any():
        raise KineticsFormatError(f"{what} holds a value that is not a finite number")
    return array.astype(np.float32)


def _refuse_constant(name: str) -> float:
    raise KineticsFormatError(f"{name} is not a number a pose can hold")


def parse_kinetics(content: object, fps: float = UNTIMED_FPS, max_people: int = 2) -> tuple[Skeletons, str | None]:
    """Skeletons and label from a decoded Kinetics-Skeleton JSON document."""
    joint_count = get_layout(LAYOUT).num_joints
    if not isinstance(content, dict) or not isinstance(content.get("data"), list):
        raise KineticsFormatError('expected a JSON object with a "data" list of frames')
    frames = {}
    for position, frame in enumerate(content["data"]):
        if not isinstance(frame, dict) or not isinstance(frame.get("frame_index"), int) \
                or isinstance(frame.get("frame_index"), bool) or not isinstance(frame.get("skeleton"), list):
            raise KineticsFormatError(
                f'frame {position} needs an integer "frame_index" and a "skeleton" list')
        if not 0 <= frame["frame_index"] <= MAX_FRAME_INDEX:
            raise KineticsFormatError(f"frame {position}: frame_index {frame['frame_index']} is outside "
                                      f"0..{MAX_FRAME_INDEX}")
        if frame["frame_index"] in frames:
            raise KineticsFormatError(f"frame_index {frame['frame_index']} appears twice")
        people = []
        for person_number, person in enumerate(frame["skeleton"]):
            where = f"frame_index {frame['frame_index']}, person {person_number}"
            if not isinstance(person, dict):
                raise KineticsFormatError(f"{where}: expected an object with pose and score")
            pose = _numbers(person.get("pose"), 2 * joint_count, f"{where}: pose").reshape(joint_count, 2)
            score = _numbers(person.get("score"), joint_count, f"{where}: score")
            people.append((float(score.sum()), pose, score))
        people.sort(key=lambda entry: -entry[0])
        frames[frame["frame_index"]] = people[:max_people]
    if not frames:
        raise KineticsFormatError('"data" holds no frames')
    frame_indices = np.array(sorted(frames), dtype=np.int32)
    joints = np.full((max_people, len(frame_indices), joint_count, 4), np.nan, dtype=np.float32)
    detected = np.zeros((max_people, len(frame_indices)), dtype=bool)
    for slot, frame_index in enumerate(frame_indices):
        for person, (_, pose, score) in enumerate(frames[int(frame_index)]):
            joints[person, slot, :, 0:2] = pose
            joints[person, slot, :, 3] = score
            detected[person, slot] = True
    timestamps = (frame_indices - frame_indices[0]) / fps
    label = content.get("label")
    return Skeletons(LAYOUT, joints, detected, timestamps.astype(np.float64), frame_indices), (
        str(label) if label is not None else None)


def read_kinetics_file(path: Path, fps: float = UNTIMED_FPS, max_people: int = 2,
                       split: str | None = None) -> tuple[VideoInfo, Skeletons | None, str | None]:
    """One file as a ``videos`` row plus skeletons; a malformed file gives a failed row and the reason."""
    raw, video_id, problem = read_source(path)
    info = VideoInfo(video_id=video_id, layout=LAYOUT,
                     source_path=str(path), split=split, source_fps=fps, sampled_fps=fps,
                     width=FRAME_SIZE[0], height=FRAME_SIZE[1],
                     extractor=EXTRACTOR, extractor_version=EXTRACTOR_VERSION)
    if problem is None:
        try:
            skeletons, label = parse_kinetics(json.loads(raw, parse_constant=_refuse_constant), fps, max_people)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            problem = f"not valid JSON: {error}"
        except RecursionError:
            problem = "not in the Kinetics-Skeleton format: JSON nested too deeply"
        except KineticsFormatError as error:
            problem = f"not in the Kinetics-Skeleton format: {error}"
    if problem is not None:
        return info.replace(status="failed", reason=problem), None, problem
    detection_rate = float(skeletons.detected[0].mean())
    status, reason = ("ok", None) if detection_rate > 0 else ("rejected", "no person in any frame")
    return info.replace(label=label, status=status, reason=reason), skeletons, None


def kinetics_files(source: Path) -> list[Path]:
    """The ``*.json`` files under ``source`` (a folder, searched recursively, or one file)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is neither a folder nor a file of Kinetics-Skeleton JSON")
    return sorted(path for path in source.rglob("*.json") if path.is_file())


def import_kinetics(source: Path | str, store: SkeletonStore, split: str | None = None,
                    fps: float = UNTIMED_FPS, max_people: int = 2,
                    on_file: Callable[[Path, str | None], None] | None = None) -> ImportReport:
    """Import every Kinetics-Skeleton file under ``source``; ``on_file(path, problem)`` per file."""
    return import_files(store, kinetics_files(Path(source)),
                        lambda path: read_kinetics_file(path, fps, max_people, split), on_file)


def write_kinetics_json(path: Path, frames: Iterable[list[tuple[list[float], list[float]]]],
                        label: str, label_index: int) -> None:
    """Write a file in the Kinetics-Skeleton format (for examples and tests)."""
    data = [{"frame_index": index + 1,
             "skeleton": [{"pose": pose, "score": score} for pose, score in people]}
            for index, people in enumerate(frames)]
    path.write_text(json.dumps({"data": data, "label": label, "label_index": label_index}))
