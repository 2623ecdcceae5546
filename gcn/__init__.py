"""Models and training: ST-GCN and MS-G3D graph classifiers, the BiLSTM-attention sequence classifier,
datasets, one training loop for every family, evaluation."""

from .registry import MODELS, build_model

__all__ = ["MODELS", "build_model"]
