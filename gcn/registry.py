"""Building models by name."""

from __future__ import annotations

from torch import nn

MODELS = ("stgcn", "msg3d", "bilstm")
# Reference scale counts per layout (MS-G3D configs); other layouts use the openpose ones.
MSG3D_SCALES = {"ntu25": (13, 6), "openpose18": (8, 8)}


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
    if name == "stgcn":
        from .stgcn import STGCN

        return STGCN(layout, num_classes, in_channels, num_persons, **options)
    if name == "msg3d":
        from .msg3d import MSG3D

        gcn_scales, g3d_scales = MSG3D_SCALES.get(layout, (8, 8))
        options = {"gcn_scales": gcn_scales, "g3d_scales": g3d_scales, **options}
        return MSG3D(layout, num_classes, in_channels, num_persons, **options)
    if name == "bilstm":
        from .bilstm import BiLSTMAttention

        return BiLSTMAttention(in_channels, num_classes, **options)
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
