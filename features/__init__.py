"""Biomechanics: the 83-dimensional, documented feature builder (numpy only, cheap to import).

``build_features(joints, layout, fps) -> (features, mask)`` turns one person's ``(T, V, 4)``
skeleton into ``(T, 83)`` float32 features and a bool mask (True = missing, value NaN).
``FEATURES`` documents every column (name, group, unit, formula, input joints);
``FEATURE_NAMES`` is the column order. Units: body lengths, body lengths per second, degrees,
0-1 (see ``specs``).
"""

from .builder import build_features
from .joints import SHOULDER_TO_TORSO, Body, body_scale
from .specs import FEATURE_NAMES, FEATURES, GROUPS, FeatureSpec

__all__ = ["FEATURES", "FEATURE_NAMES", "GROUPS", "SHOULDER_TO_TORSO", "Body", "FeatureSpec",
           "body_scale", "build_features"]
