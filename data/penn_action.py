"""Import Penn Action's joint annotations (one MATLAB file per clip) into the store as ``penn13``.

Penn Action (Zhang, Zhu and Derpanis, ICCV 2013) labels 13 joints by hand in every frame of
2,326 clips of 15 actions. Each ``NNNN.mat`` (MATLAB 5.0, read with ``scipy.io.loadmat``) holds
``action`` (the class), ``pose`` (the camera view: front, back, left, right), ``x``, ``y``
(frames x 13, pixels), ``visibility`` (frames x 13, 0/1), ``bbox``, ``dimensions`` (H, W,
frames), ``nframes`` and ``train`` (the official split). The frame rate is not recorded; the
clips are YouTube footage, mostly about 30 fps, hence ``fps=30``.

Stored as the store's convention has it: x / W and y / H (fractions of the frame; a few
annotated joints lie outside the frame and stay outside 0..1), z NaN, visibility the 0/1 flag.
Occluded joints (visibility 0) keep the position the annotators estimated, as Kinetics keeps
OpenPose's values; readers that treat confidence 0 as missing skip them. A frame is detected
when any of its joints is visible; a clip with no visible joint at all is ``rejected``. The
view goes to the ``view`` column. ``bbox`` and ``train`` are neither stored nor checked: the box
follows from the joints (and one training file has 72 boxes for 73 frames, which should not
fail a clip whose joints are complete), and ``train`` is the official split, from which the
validation split below is drawn.

Splits: Penn Action has no subject ids, so validation clips are drawn per action, seeded
(:func:`stratified_validation_split`). A clip's split depends on the other clips of its
action, so the import reads every file before writing (about 20 MB of joints for the 1,258
training clips). Files that do not follow the format are reported with the reason, recorded
in ``videos`` as ``failed``, and the import goes on.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..skeleton import get_layout
from ..skeleton.vocabulary import UNTIMED_FPS
from .batches import ImportReport, write_in_batches
from .records import Skeletons, VideoInfo
from .source_file import read_source
from .store import SkeletonStore

LAYOUT = "penn13"
EXTRACTOR = "penn-action-annotation"
EXTRACTOR_VERSION = "penn-action-1.0"
VIEWS = ("front", "back", "left", "right")
REQUIRED_KEYS = ("action", "pose", "x", "y", "visibility", "dimensions", "nframes")
_MAT5_HEADER = b"MATLAB 5.0 MAT-file"

__all__ = ["ImportReport", "PennFormatError", "import_penn_action", "parse_penn", "penn_action_files",
           "read_penn_file", "stratified_validation_split"]


class PennFormatError(ValueError):
    """A file is not a Penn Action annotation file."""


def _describe(value: np.ndarray) -> str:
    return f"{value.dtype} array of shape {value.shape}"


def _truncation(raw: bytes) -> str | None:
    """Where a MATLAB 5.0 file stops before the end of a variable its tags declare, if it does."""
    if len(raw) < 128:
        return f"truncated: {len(raw)} bytes, shorter than the 128-byte MATLAB header"
    order = "<" if raw[126:128] == b"IM" else ">"
    offset = 128
    while offset < len(raw):
        if offset + 8 > len(raw):
            return (f"truncated: the file ends at byte {len(raw)}, inside the tag of a variable at "
                    f"byte {offset}")
        kind, size = struct.unpack_from(order + "II", raw, offset)
        if kind >> 16:  # a "small data element": tag and data share 8 bytes
            offset += 8
            continue
        end = offset + 8 + size  # top-level sizes include their padding
        if end > len(raw):
            return (f"truncated: the variable at byte {offset} declares {size} bytes, up to byte "
                    f"{end}, but the file ends at byte {len(raw)}")
        offset = end
    return None


def _load_mat(raw: bytes) -> dict[str, object]:
    """The variables of a MATLAB 5.0 file's bytes; a damaged file raises with what is wrong."""
    from scipy.io import loadmat  # scipy.io adds ~0.15 s to an import; only this importer needs it

    if not raw.startswith(_MAT5_HEADER):
        raise PennFormatError(f"not a MATLAB 5.0 file: it starts with {raw[:24]!r}")
    try:
        return loadmat(io.BytesIO(raw))
    except Exception as error:  # scipy raises OSError, ValueError, zlib.error ... on damaged bytes
        raise PennFormatError(f"{_truncation(raw) or 'damaged MATLAB file'} "
                              f"(scipy: {type(error).__name__}: {error})") from None


def _text(content: Mapping[str, object], key: str) -> str:
    value = np.asarray(content[key])
    if value.dtype.kind != "U" or value.size != 1 or not str(value.reshape(-1)[0]).strip():
        raise PennFormatError(f"{key} should be one non-empty string, got {_describe(value)}")
    return str(value.reshape(-1)[0]).strip()


def _counts(content: Mapping[str, object], key: str, size: int) -> list[int]:
    value = np.asarray(content[key])
    flat = value.reshape(-1).astype(np.float64) if value.dtype.kind in "iuf" else None
    if flat is None or flat.size != size or not np.isfinite(flat).all() \
            or (flat != np.round(flat)).any() or (flat < 1).any():
        raise PennFormatError(f"{key} should be {size} positive whole number(s), got {_describe(value)}"
                              + (f" {flat.tolist()}" if flat is not None and flat.size <= 4 else ""))
    return [int(number) for number in flat]


def _per_joint(content: Mapping[str, object], key: str, joint_count: int) -> np.ndarray:
    value = np.asarray(content[key])
    if value.dtype.kind not in "biuf" or value.ndim != 2 or value.shape[1] != joint_count:
        raise PennFormatError(f"{key} should be a frames x {joint_count} matrix of numbers, "
                              f"got {_describe(value)}")
    return value.astype(np.float64)


def parse_penn(content: Mapping[str, object], fps: float = UNTIMED_FPS) -> tuple[Skeletons, dict[str, object]]:
    """Skeletons and ``videos`` fields (label, view, width, height, frame_count) from a loaded file."""
    layout = get_layout(LAYOUT)
    missing = [key for key in REQUIRED_KEYS if key not in content]
    if missing:
        found = ", ".join(sorted(key for key in content if not key.startswith("__"))) or "none"
        raise PennFormatError(f"missing {', '.join(missing)} (variables found: {found})")
    label, view = _text(content, "action"), _text(content, "pose")
    if view not in VIEWS:
        raise PennFormatError(f"pose (the view) is {view!r}, expected one of {', '.join(VIEWS)}")
    (frame_count,) = _counts(content, "nframes", 1)
    height, width, dimension_frames = _counts(content, "dimensions", 3)
    x, y, visibility = (_per_joint(content, key, layout.num_joints) for key in ("x", "y", "visibility"))
    if not x.shape == y.shape == visibility.shape:
        raise PennFormatError(f"x, y and visibility should have the same shape, got x {x.shape}, "
                              f"y {y.shape}, visibility {visibility.shape}")
    if len(x) != frame_count or dimension_frames != frame_count:
        raise PennFormatError(f"frame counts disagree: nframes {frame_count}, dimensions "
                              f"{dimension_frames}, x/y/visibility {len(x)} rows")
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        frame, joint = np.argwhere(bad)[0]
        raise PennFormatError(f"x or y hold {int(bad.sum())} non-finite values (first: frame {frame}, "
                              f"{layout.joint_names[joint]})")
    if not np.isin(visibility, (0, 1)).all():
        odd = ", ".join(f"{value:g}" for value in np.unique(visibility[~np.isin(visibility, (0, 1))])[:5])
        raise PennFormatError(f"visibility should hold only 0 and 1, found {odd}")
    joints = np.stack([x / width, y / height, np.full_like(x, np.nan), visibility], axis=-1)
    skeletons = Skeletons.single(LAYOUT, joints, visibility.any(axis=1),
                                 np.arange(frame_count, dtype=np.float64) / fps)
    return skeletons, {"label": label, "view": view, "width": width, "height": height,
                       "frame_count": frame_count}


def read_penn_file(path: Path, fps: float = UNTIMED_FPS) -> tuple[VideoInfo, Skeletons | None, str | None]:
    """One file as a ``videos`` row plus skeletons; a malformed file gives a failed row and the reason."""
    path = Path(path).resolve()
    raw, video_id, problem = read_source(path)
    info = VideoInfo(video_id=video_id, layout=LAYOUT, source_path=str(path),
                     source_fps=fps, sampled_fps=fps, extractor=EXTRACTOR,
                     extractor_version=EXTRACTOR_VERSION)
    if problem is None:
        try:
            content = _load_mat(raw)
        except PennFormatError as error:
            problem = str(error)
    if problem is None:
        try:
            skeletons, fields = parse_penn(content, fps)
        except PennFormatError as error:
            problem = f"not in the Penn Action format: {error}"
    if problem is not None:
        return info.replace(status="failed", reason=problem), None, problem
    info = info.replace(**fields)
    if not skeletons.detected.any():
        return info.replace(status="rejected", reason="no visible joint in any frame"), skeletons, None
    return info, skeletons, None


def penn_action_files(source: Path) -> list[Path]:
    """The ``*.mat`` files under ``source`` (a folder, searched recursively, or one file)."""
    source = Path(source)
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source} is neither a folder nor a Penn Action .mat file")
    files = sorted(path for path in source.rglob("*.mat") if path.is_file())
    if not files:
        raise FileNotFoundError(f"no .mat files under {source} (Penn Action keeps one per clip, "
                                f"e.g. labels/0001.mat)")
    return files


def stratified_validation_split(labels: Sequence[str], val_fraction: float = 0.1,
                                seed: int = 0) -> list[str]:
    """``"train"`` or ``"val"`` per item: of each label's items, ``round(val_fraction * n)`` go to val.

    Each label is shuffled by its own generator, seeded by ``seed`` and the label, so adding
    clips of one action leaves the other actions' splits as they were. Pass items in a stable
    order (the importer sorts by video id, the content hash) for a split that does not depend on
    file names or listing order.

    Example:
        >>> stratified_validation_split(["a"] * 10 + ["b"] * 20, 0.1).count("val")
        3
    """
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must lie in 0..1, got {val_fraction}")
    members: dict[str, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[label].append(index)
    result = ["train"] * len(labels)
    for label, indices in members.items():
        random = np.random.default_rng([seed, zlib.crc32(label.encode())])
        for index in random.permutation(indices)[: int(np.floor(val_fraction * len(indices) + 0.5))]:
            result[int(index)] = "val"
    return result


def import_penn_action(source: Path | str, store: SkeletonStore, val_fraction: float = 0.1,
                       seed: int = 0, fps: float = UNTIMED_FPS,
                       on_file: Callable[[Path, str | None], None] | None = None) -> ImportReport:
    """Import every Penn Action file under ``source``; ``on_file(path, problem)`` per file.

    Clips that import ``ok`` get split ``"val"`` or ``"train"`` (:func:`stratified_validation_split`
    over them, in video-id order); rejected and failed ones get no split. Identical files are one
    video (the id is the content hash) and are stored once.

    Example:
        >>> report = import_penn_action("penn_action/train", SkeletonStore("penn_store"))
        >>> len(report.imported), report.failed[:1]
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if not 0.0 <= val_fraction <= 1.0:
        raise ValueError(f"val_fraction must lie in 0..1, got {val_fraction}")
    report = ImportReport()
    clips: dict[str, tuple[VideoInfo, Skeletons | None]] = {}
    for path in penn_action_files(Path(source)):
        info, skeletons, problem = read_penn_file(path, fps)
        if problem is not None:
            report.failed.append((str(path), problem))
        elif info.video_id not in clips:
            report.imported.append(info.video_id)
        clips.setdefault(info.video_id, (info, skeletons))
        if on_file is not None:
            on_file(path, problem)
    usable = sorted(video_id for video_id, (info, _) in clips.items() if info.status == "ok")
    splits = stratified_validation_split([str(clips[video_id][0].label) for video_id in usable],
                                         val_fraction, seed)
    for video_id, split in zip(usable, splits):
        info, skeletons = clips[video_id]
        clips[video_id] = (info.replace(split=split), skeletons)
    items = [clips[video_id] for video_id in sorted(clips)]  # id order: each batch touches few buckets
    write_in_batches(store, items)
    return report
