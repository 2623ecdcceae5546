"""Drawing stored skeletons over their source video (or a blank canvas) and writing the
result as a video (.mp4), an animated .gif, or a .png contact sheet of evenly spaced frames.

Joints are coloured by visibility (red = 0 through yellow to green = 1), or by any per-joint
colours the caller passes (form scores: :func:`score_colors`, red = 0 through yellow = 50 to
green = 100, grey where a joint has no score); interpolated joints get a white ring; bones are
drawn between joints that are both present. :func:`caption` writes a line of text on a frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from .layout import Layout
from .native_logs import native_stderr_silenced
from .video import FrameSampler, VideoError

CANVAS_COLOR = (40, 40, 40)
UNSCORED_COLOR = (150, 150, 150)  # BGR grey: a joint without a score (not seen)
SHEET_FRAMES = 8


def ramp_colors(values: np.ndarray) -> np.ndarray:
    """BGR from red (0) through yellow (0.5) to green (1); NaN counts as 0. ``(...)`` -> ``(..., 3)`` uint8."""
    value = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0), 0.0, 1.0)
    return np.stack([np.zeros_like(value), 255 * np.minimum(1.0, 2 * value),
                     255 * np.minimum(1.0, 2 * (1 - value))], axis=-1).astype(np.uint8)


def visibility_color(visibility: float) -> tuple[int, int, int]:
    """BGR from red (0) through yellow (0.5) to green (1)."""
    return tuple(int(channel) for channel in ramp_colors(visibility))


def score_colors(scores: np.ndarray) -> np.ndarray:
    """BGR colours of 0-100 scores: red (0) through yellow (50) to green (100); NaN grey.

    Shapes: ``scores (...)`` -> ``(..., 3)`` uint8.
    """
    scores = np.asarray(scores, dtype=np.float64)
    colors = ramp_colors(scores / 100.0)
    colors[~np.isfinite(scores)] = UNSCORED_COLOR
    return colors


def draw_skeleton(image: np.ndarray, joints: np.ndarray, layout: Layout,
                  interpolated: np.ndarray | None = None, joint_colors: np.ndarray | None = None,
                  radius: int | None = None) -> np.ndarray:
    """Draw one frame's ``joints (V, 4)`` (x, y normalised) on ``image`` in place.

    ``joint_colors (V, 3)`` BGR replaces the visibility colours; ``radius`` (pixels) the joint
    size chosen from the image size.
    """
    height, width = image.shape[:2]
    radius = radius or max(2, int(round(min(width, height) / 160)))
    pixels = joints[:, :2] * [width, height]
    present = np.isfinite(pixels).all(axis=1)
    for first, second in layout.edges:
        if present[first] and present[second]:
            cv2.line(image, tuple(int(v) for v in pixels[first]), tuple(int(v) for v in pixels[second]),
                     (230, 230, 230), max(1, radius // 2), cv2.LINE_AA)
    for joint in np.nonzero(present)[0]:
        center = tuple(int(v) for v in pixels[joint])
        color = (visibility_color(joints[joint, 3]) if joint_colors is None
                 else tuple(int(value) for value in joint_colors[joint]))
        cv2.circle(image, center, radius, color, -1, cv2.LINE_AA)
        if interpolated is not None and interpolated[joint]:
            cv2.circle(image, center, radius + 2, (255, 255, 255), 1, cv2.LINE_AA)
    return image


def source_frames(path: str | Path | None, frame_indices: np.ndarray, width: int, height: int) -> Iterator[np.ndarray]:
    """The source frames with the stored indices, or blank canvases when the video is gone."""
    wanted = {int(index) for index in frame_indices}
    images: dict[int, np.ndarray] = {}
    if path is not None and Path(path).is_file():
        try:
            for frame in FrameSampler(path, None):
                if frame.index in wanted:
                    images[frame.index] = frame.image
        except VideoError:
            images = {}
    for index in frame_indices:
        image = images.get(int(index))
        yield image.copy() if image is not None else np.full((height, width, 3), CANVAS_COLOR, np.uint8)


def overlay(frames: Iterable[np.ndarray], joints: np.ndarray, layout: Layout,
            interpolated: np.ndarray | None = None, joint_colors: np.ndarray | None = None,
            radius: int | None = None, captions: list[str] | None = None) -> Iterator[np.ndarray]:
    """Frames with the skeleton drawn: joints ``(T, V, 4)``, interpolated ``(T, V)``,
    joint_colors ``(T, V, 3)`` (default: by visibility), one caption per frame (optional)."""
    for position, image in enumerate(frames):
        draw_skeleton(image, joints[position], layout,
                      None if interpolated is None else interpolated[position],
                      None if joint_colors is None else joint_colors[position], radius)
        yield caption(image, captions[position]) if captions is not None else image


def caption(image: np.ndarray, text: str) -> np.ndarray:
    """Write ``text`` in white on a dark band at the top of ``image`` (in place)."""
    height, width = image.shape[:2]
    scale = max(0.4, min(width, height) / 600)
    thickness = max(1, int(round(scale * 1.5)))
    (_, text_height), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    band = text_height + baseline + 8
    image[:band] = (image[:band] * 0.35).astype(image.dtype)
    cv2.putText(image, text, (6, band - baseline - 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thickness, cv2.LINE_AA)
    return image


def contact_sheet(images: list[np.ndarray], columns: int = 4) -> np.ndarray:
    """Images in a grid (rows of ``columns``), padded with blank tiles."""
    height, width = images[0].shape[:2]
    blank = np.full((height, width, 3), CANVAS_COLOR, np.uint8)
    tiles = images + [blank] * (-len(images) % columns)
    rows = [np.hstack(tiles[start:start + columns]) for start in range(0, len(tiles), columns)]
    return np.vstack(rows)


def score_legend(width: int, height: int = 28) -> np.ndarray:
    """A key to :func:`score_colors`: a red-to-green bar from 0 to 100, and grey = no score."""
    legend = np.full((height, width, 3), CANVAS_COLOR, np.uint8)
    grey_width = min(width // 4, 140)
    bar = score_colors(np.linspace(0, 100, max(1, width - grey_width - 90)))
    legend[6:height - 6, 40:40 + len(bar)] = bar[None]
    scale, white = 0.4, (255, 255, 255)
    cv2.putText(legend, "0", (22, height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1, cv2.LINE_AA)
    cv2.putText(legend, "100", (44 + len(bar), height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1,
                cv2.LINE_AA)
    start = width - grey_width
    cv2.circle(legend, (start + 8, height // 2), 6, UNSCORED_COLOR, -1, cv2.LINE_AA)
    cv2.putText(legend, "no score", (start + 20, height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1,
                cv2.LINE_AA)
    return legend


def visibility_legend(width: int, height: int = 28) -> np.ndarray:
    """A key to the joint colours of an overlay: visibility 0 (red) to 1 (green), and the white
    ring of an interpolated joint."""
    legend = np.full((height, width, 3), CANVAS_COLOR, np.uint8)
    scale, white = 0.4, (255, 255, 255)
    cv2.putText(legend, "visibility", (6, height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1, cv2.LINE_AA)
    ring_width = min(width // 3, 150)
    bar = ramp_colors(np.linspace(0, 1, max(1, width - ring_width - 130)))
    legend[6:height - 6, 94:94 + len(bar)] = bar[None]
    cv2.putText(legend, "0", (82, height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1, cv2.LINE_AA)
    cv2.putText(legend, "1", (98 + len(bar), height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1, cv2.LINE_AA)
    start = width - ring_width
    cv2.circle(legend, (start + 8, height // 2), 5, (0, 200, 0), -1, cv2.LINE_AA)
    cv2.circle(legend, (start + 8, height // 2), 7, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(legend, "interpolated", (start + 20, height - 10), cv2.FONT_HERSHEY_SIMPLEX, scale, white, 1,
                cv2.LINE_AA)
    return legend


def scaled(images: Iterable[np.ndarray], scale: float) -> Iterator[np.ndarray]:
    """Images resized by ``scale`` (1.0: unchanged), at least 16 pixels a side."""
    for image in images:
        if scale == 1.0:
            yield image
            continue
        height, width = image.shape[:2]
        size = (max(16, int(round(width * scale))), max(16, int(round(height * scale))))
        yield cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def with_legend(images: Iterable[np.ndarray], legend) -> Iterator[np.ndarray]:
    """Each image with ``legend(width)`` below it."""
    for image in images:
        yield np.vstack([image, legend(image.shape[1])])


def _mp4_writer(out: Path, frames_per_second: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, str]:
    """H.264 (plays in browsers) when this OpenCV has an encoder for it, else MPEG-4 part 2 (mp4v)."""
    for codec in ("avc1", "mp4v"):
        with native_stderr_silenced():  # OpenCV logs an error line when it has no H.264 encoder
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*codec), frames_per_second, size)
        if writer.isOpened():
            return writer, codec
        writer.release()
    raise ValueError(f"{out}: OpenCV could not open an MP4 writer; write a .gif instead")


class VideoRecorder:
    """An MP4 written frame by frame as frames arrive (live recordings); opened on the first frame,
    whose size every later frame is resized to. ``close()`` finishes the file."""

    def __init__(self, out: str | Path, frames_per_second: float) -> None:
        self.out, self.fps = Path(out), frames_per_second
        if self.out.suffix.lower() != ".mp4":
            raise ValueError(f"{out}: a recording is an .mp4 file")
        self.writer: cv2.VideoWriter | None = None
        self.size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        if self.writer is None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.size = (image.shape[1], image.shape[0])
            self.writer, _ = _mp4_writer(self.out, self.fps, self.size)
        if (image.shape[1], image.shape[0]) != self.size:
            image = cv2.resize(image, self.size)
        self.writer.write(image)
        self.frames += 1

    def close(self) -> Path | None:
        """The file written (None when no frame came)."""
        if self.writer is None:
            return None
        self.writer.release()
        self.writer = None
        return self.out


def write_images(images: Iterable[np.ndarray], out: str | Path, frames_per_second: float,
                 legend=None) -> Path:
    """Write ``.mp4`` (H.264 where OpenCV can, else mp4v), ``.webm`` (VP8: plays in browsers), ``.gif`` (Pillow) or ``.png`` (contact sheet
    of 8 evenly spaced frames); ``legend(width)`` (e.g. :func:`visibility_legend`) goes below the
    sheet, or below every frame of a video. ``write_images.codec`` says which MP4 codec was used."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".gif", ".mp4", ".webm"):
        raise ValueError(f"{out}: choose an output ending in .mp4, .webm, .gif or .png")
    frames = list(images)
    if not frames:
        raise ValueError("nothing to render: the video has no stored frames")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".png":
        picks = np.linspace(0, len(frames) - 1, min(SHEET_FRAMES, len(frames))).round().astype(int)
        sheet = contact_sheet([frames[i] for i in picks])
        cv2.imwrite(str(out), np.vstack([sheet, legend(sheet.shape[1])]) if legend else sheet)
        return out
    if legend is not None:
        frames = list(with_legend(frames, legend))
    if suffix == ".gif":
        from PIL import Image

        pictures = [Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)) for frame in frames]
        pictures[0].save(out, save_all=True, append_images=pictures[1:], loop=0,
                         duration=int(round(1000 / frames_per_second)), optimize=True)
        return out
    height, width = frames[0].shape[:2]
    if suffix == ".webm":  # VP8: OpenCV's wheels encode it and every browser plays it (their mp4 is mp4v)
        with native_stderr_silenced():  # FFmpeg notes that WebM stores VP8 under another tag; it is the same codec
            writer, codec = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"VP80"), frames_per_second,
                                            (width, height)), "vp8"
        if not writer.isOpened():
            raise ValueError(f"{out}: OpenCV could not open a WebM (VP8) writer; write an .mp4 or .gif instead")
    else:
        writer, codec = _mp4_writer(out, frames_per_second, (width, height))
    write_images.codec = codec
    for frame in frames:
        writer.write(frame)
    writer.release()
    return out


def write_video(images: Iterable[np.ndarray], out: str | Path, frames_per_second: float) -> Path:
    """Frames to an .mp4 file (mp4v)."""
    return write_images(images, Path(out).with_suffix(".mp4"), frames_per_second)
