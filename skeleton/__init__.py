"""Bodies and videos: skeleton layouts, conversions between them, graph views.

Cheap to import (numpy only); ``posegraph.skeleton.graph`` pulls in torch when used.
"""

from .conversion import conversions, convert, joint_map
from .layout import Layout
from .layouts import LAYOUTS, get_layout

__all__ = ["LAYOUTS", "Layout", "conversions", "convert", "get_layout", "joint_map"]
