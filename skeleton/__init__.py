"""Bodies and videos: skeleton layouts, conversions between them, graph views, the pose extractors.

Cheap to import (numpy only); ``posegraph.skeleton.graph`` pulls in torch when used. ``source``
defines :class:`SkeletonSource`, one video's skeleton as every command reads it; ``vocabulary``
the words every package shares (``DEFAULT_FPS``, the repetition-phase schemes); ``extractor`` the
contract the extractors keep and ``extraction`` the registry that builds them.
"""

from .conversion import conversions, convert, joint_map
from .layout import Layout
from .extraction import build_extractor
from .layouts import LAYOUTS, get_layout

__all__ = ["LAYOUTS", "Layout", "build_extractor", "conversions", "convert", "get_layout", "joint_map"]
