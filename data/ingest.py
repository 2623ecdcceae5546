"""From video files to store records: finding the videos, hashing them, and turning an
extraction (or a failure) into a ``videos`` row plus skeletons."""

from __future__ import annotations

import csv
import glob
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


from .records import Skeletons, VideoInfo
from .store import SkeletonStore

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
MANIFEST_COLUMNS = ("path", "label", "split", "group")
TRUNCATED_FRACTION = 0.9  # fewer decoded frames than this share of the container's count


@dataclass(frozen=True)
class VideoJob:
    """One video to extract, with what the manifest (or its folder) says about it."""

    path: str
    label: str | None = None
    split: str | None = None
    group: str | None = None


def _manifest_lines(manifest: Path) -> list[str]:
    """The manifest's lines as text; a line that is not UTF-8 is an error naming it."""
    lines = manifest.read_bytes().splitlines(keepends=True)
    for line_number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8-sig" if line_number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{manifest}, line {line_number}: not UTF-8 text (byte {line[error.start]:#04x} at "
                             f"column {error.start + 1}); save the manifest as UTF-8") from None
    return manifest.read_text(encoding="utf-8-sig").splitlines(keepends=True)


def read_manifest(manifest: Path) -> list[VideoJob]:
    """Jobs from a CSV with a header ``path,label,split,group`` (paths relative to the CSV)."""
    reader = csv.DictReader(_manifest_lines(manifest))
    if reader.fieldnames is None or "path" not in reader.fieldnames:
        raise ValueError(f"{manifest}: a manifest needs a header with at least a 'path' column "
                         f"(expected {','.join(MANIFEST_COLUMNS)})")
    jobs = []
    for row in reader:
        line_number = reader.line_num
        if None in row or any(row[column] is None for column in reader.fieldnames):
            found = len(row) - 1 + len(row[None]) if None in row else \
                sum(row[column] is not None for column in reader.fieldnames)
            raise ValueError(f"{manifest}, line {line_number}: {found} fields, but the header has "
                             f"{len(reader.fieldnames)} ({','.join(reader.fieldnames)})")
        if not (row.get("path") or "").strip():
            raise ValueError(f"{manifest}, line {line_number}: empty path")
        path = Path(row["path"].strip())
        path = (path if path.is_absolute() else manifest.parent / path).absolute()
        jobs.append(VideoJob(str(path), *(row.get(column) or None for column in MANIFEST_COLUMNS[1:])))
    return jobs


def discover_videos(source: str | Path) -> list[VideoJob]:
    """Jobs from a manifest CSV, a folder (video files, searched recursively, label = the
    sub-folder name) or a glob pattern (every matching file)."""
    text = str(source)
    path = Path(text)
    if path.is_file() and path.suffix.lower() == ".csv":
        return read_manifest(path)
    if path.is_dir():  # absolute paths: a stored source_path must not depend on where extract ran
        path = path.absolute()
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and not p.is_dir())
        return [VideoJob(str(p), label=p.parent.name if p.parent != path else None) for p in files]
    if path.exists() or path.is_symlink():
        return [VideoJob(str(path.absolute()))]
    matches = sorted(glob.glob(text, recursive=True))
    if not matches:
        raise FileNotFoundError(f"{text}: no such file or folder, and no file matches it as a pattern")
    return [VideoJob(str(Path(match).absolute())) for match in matches if not Path(match).is_dir()]


def content_hash(path: str | Path) -> str:
    """sha256 of the file's bytes: the video id, the same wherever the file lives."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def video_id_for(path: str | Path) -> str:
    """The content hash, or (for a path that is not a readable regular file) a hash of its path."""
    from posegraph.skeleton.video import VideoError, check_video_path

    try:
        check_video_path(path)  # before opening it: a named pipe would block
        return content_hash(path)
    except (OSError, VideoError):
        return hashlib.sha256(f"unreadable:{Path(path).absolute()}".encode()).hexdigest()


def metadata_changes(job: VideoJob, row: dict) -> dict[str, object]:
    """What a re-run's job says differently from the stored row: its path, and label, split and
    group where the job gives them (a run without labels never erases stored ones)."""
    wanted = {"source_path": job.path, "label": job.label, "split": job.split, "group": job.group}
    return {column: value for column, value in wanted.items()
            if value is not None and row.get(column) != value}


def already_extracted(store: SkeletonStore, video_id: str, layout: str, extractor: str,
                      settings_key: str) -> dict | None:
    """The stored row of this content with these extractor settings, if there is one."""
    for row in store.video_rows(video_id):
        if (row["layout"], row["extractor"], row["extractor_settings"]) == (layout, extractor, settings_key):
            return row
    return None


def failure_info(job: VideoJob, video_id: str, layout: str, extractor: str, version: str,
                 settings_key: str, reason: str) -> VideoInfo:
    """A ``failed`` row: the run goes on, the reason stays with the video."""
    return VideoInfo(video_id=video_id, layout=layout, source_path=job.path, label=job.label,
                     split=job.split, group=job.group, extractor=extractor, extractor_version=version,
                     extractor_settings=settings_key, status="failed", reason=reason,
                     detection_rate=0.0, frame_count=0)


def extraction_record(job: VideoJob, video_id: str, result, cleaned, status: str, reason: str | None,
                      settings_key: str) -> tuple[VideoInfo, Skeletons]:
    """The ``videos`` row and the skeletons of a finished extraction."""
    properties = result.properties
    expected = properties.frame_count
    if result.decoded_frames and expected and result.decoded_frames < TRUNCATED_FRACTION * expected:
        status, reason = "failed", (f"{job.path}: truncated: only {result.decoded_frames} of the {expected} frames "
                                    f"the container announces decode; the frames that do are stored")
    elif len(result.joints) == 0:
        status, reason = "failed", f"{job.path}: no frame could be decoded"
    elif cleaned.detection_rate == 0.0:
        status, reason = "failed", f"{job.path}: no person found in any frame"
    duration = (result.decoded_frames / properties.frames_per_second
                if properties.frames_per_second else float(result.timestamps[-1]) if len(result.timestamps) else 0.0)
    sampled_fps = json.loads(settings_key).get("target_fps") or properties.frames_per_second
    info = VideoInfo(
        video_id=video_id, layout=result.layout, source_path=job.path, label=job.label, split=job.split,
        group=job.group, source_fps=properties.frames_per_second, sampled_fps=sampled_fps,
        width=properties.width, height=properties.height, frame_count=len(result.joints),
        duration_s=duration, extractor=result.extractor, extractor_version=result.extractor_version,
        extractor_settings=settings_key, detection_rate=cleaned.detection_rate,
        mean_visibility=cleaned.mean_visibility, status=status, reason=reason)
    skeletons = Skeletons.single(result.layout, cleaned.joints, cleaned.detected, result.timestamps,
                                 result.frame_indices, cleaned.interpolated)
    return info, skeletons


def settings_json(extractor_settings: dict, cleaning_settings: object) -> str:
    """The extractor's and the cleaning's settings: the re-run cache key beside the content hash."""
    from dataclasses import asdict

    return json.dumps({**extractor_settings, "cleaning": asdict(cleaning_settings)}, sort_keys=True)


__all__ = ["VideoJob", "already_extracted", "content_hash", "discover_videos", "extraction_record",
           "failure_info", "metadata_changes", "read_manifest", "settings_json", "video_id_for"]
