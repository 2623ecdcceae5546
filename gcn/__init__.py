"""Models and training: ST-GCN and MS-G3D graph classifiers, datasets, training and evaluation."""

from .registry import MODELS, build_model

__all__ = ["MODELS", "build_model"]
