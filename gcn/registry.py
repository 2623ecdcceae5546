"""Building models by name (the builders are rows of :data:`.model_table.MODEL_TABLE`)."""

from __future__ import annotations

from torch import nn

from .model_table import MODELS, model_spec

__all__ = ["MODELS", "build_model"]


def build_model(name: str, layout: str, num_classes: int, in_channels: int = 3, num_persons: int = 1,
                **options: object) -> nn.Module:
    """A classifier: ``stgcn`` or ``msg3d`` on ``layout``, or ``bilstm`` over ``in_channels``
    features per frame (the layout only decides which features exist).

    Options: ``partition``, ``edge_importance``, ``dropout`` (ST-GCN); ``gcn_scales``,
    ``g3d_scales``, ``dropout`` (MS-G3D); the BiLSTM's sizes (see ``BiLSTMAttention``).

    Example:
        >>> model = build_model("stgcn", "blazepose33", num_classes=6)
        >>> logits = model(torch.randn(8, 3, 90, 33, 1))   # (8, 6)
    """
    return model_spec(name).build(layout, num_classes, in_channels, num_persons, **options)
