"""Bodies and videos: skeleton layouts, conversions between them, graph views.

Cheap to import (numpy only); ``posegraph.skeleton.graph`` pulls in torch when used.
"""

from .conversion import conversions, convert, joint_map
from .layout import Layout
from .extraction import build_extractor
from .layouts import LAYOUTS, get_layout

__all__ = ["LAYOUTS", "Layout", "build_extractor", "conversions", "convert", "get_layout", "joint_map"]
