"""Bodies and videos: skeleton layouts, conversions between them, graph views, the pose extractors.

Cheap to import (numpy only); ``posegraph.skeleton.graph`` pulls in torch when used. ``source``
defines :class:`SkeletonSource`, one video's skeleton as every command reads it; ``vocabulary``
the words every package shares (``DEFAULT_FPS``, the repetition-phase schemes); ``extractor`` the
contract the extractors keep and ``extraction`` the registry that builds them.
"""

import os

# FFmpeg, inside OpenCV, prints its own line for a file it cannot read ("moov atom not found")
# before our VideoError says the same in words: quiet unless the user asks (set it to 32 for FFmpeg's info).
# Set before OpenCV loads FFmpeg; every module here that reads video imports this package first.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from .conversion import conversions, convert, joint_map  # noqa: E402
from .layout import Layout  # noqa: E402
from .extraction import build_extractor  # noqa: E402
from .layouts import LAYOUTS, get_layout  # noqa: E402

__all__ = ["LAYOUTS", "Layout", "build_extractor", "conversions", "convert", "get_layout", "joint_map"]
