"""BiLSTM + multi-head self-attention over biomechanical feature sequences.

The second model family (background: mediapipe-biomech-bilstm-attention, sections 4.5 and 5):
not a graph model, its input is a window of per-frame features ``(N, T, F)`` (83 by default),
already standardised with missing values filled (``posegraph.gcn.sequence.FeatureScaler``).

BiLSTM(64 per direction) -> LayerNorm -> dropout -> BiLSTM(32 per direction) -> LayerNorm ->
4-head self-attention, key dim 32 per head -> add residual -> LayerNorm -> average and max pooling
over time, concatenated -> Dense 64 -> Dense 32 (each ReLU, BatchNorm, dropout) -> logits.
"""

from __future__ import annotations

import torch
from torch import nn

FEATURES = 83  # posegraph.features.build_features


class BiLSTMBlock(nn.Module):
    """Bidirectional LSTM over time, LayerNorm over its ``2 * hidden`` outputs, dropout.

    Shapes:
        x: ``(N, T, F_in)`` -> ``(N, T, 2 * hidden)``.
    """

    def __init__(self, in_features: int, hidden: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_features, hidden, batch_first=True, bidirectional=True)
        self.norm = nn.LayerNorm(2 * hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.norm(self.lstm(x)[0]))


class SelfAttentionBlock(nn.Module):
    """Keras-style ``MultiHeadAttention(num_heads, key_dim)`` as self-attention, then residual + LayerNorm.

    Written out because ``nn.MultiheadAttention`` ties the per-head width to ``embed_dim / heads``
    (16 here), while Keras projects q, k and v to ``heads x key_dim`` (4 x 32 = 128) and back to the
    input width. Value width = key width (Keras' default), biases on, no attention dropout. The
    source puts a LayerNorm after attention; we add the input first (post-norm residual, as in
    the Transformer), which keeps the LSTM features reachable if attention learns little.

    Shapes:
        x: ``(N, T, E)`` -> ``(N, T, E)`` and attention ``(N, heads, T, T)`` (rows sum to 1).
    """

    def __init__(self, embed: int, heads: int = 4, key_dim: int = 32) -> None:
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        self.query, self.key, self.value = (nn.Linear(embed, heads * key_dim) for _ in range(3))
        self.output = nn.Linear(heads * key_dim, embed)
        self.norm = nn.LayerNorm(embed)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, frames, _ = x.shape

        def split(projection: nn.Linear) -> torch.Tensor:  # (N, T, H*D) -> (N, H, T, D)
            return projection(x).view(batch, frames, self.heads, self.key_dim).transpose(1, 2)

        query, key, value = split(self.query), split(self.key), split(self.value)
        attention = torch.softmax(query @ key.transpose(-2, -1) / self.key_dim ** 0.5, dim=-1)
        mixed = (attention @ value).transpose(1, 2).reshape(batch, frames, -1)
        return self.norm(x + self.output(mixed)), attention


def dense_block(in_features: int, out_features: int, dropout: float) -> nn.Sequential:
    """Linear -> ReLU -> BatchNorm1d -> dropout. Shapes: ``(N, in)`` -> ``(N, out)``."""
    return nn.Sequential(nn.Linear(in_features, out_features), nn.ReLU(inplace=True),
                         nn.BatchNorm1d(out_features), nn.Dropout(dropout))


class BiLSTMAttention(nn.Module):
    """Exercise classifier over windows of per-frame features.

    Args:
        num_features: features per frame (``FEATURES`` = 83 biomechanical features).
        num_classes: output classes.
        lstm1, lstm2: hidden units per direction of the two BiLSTMs.
        heads, key_dim: attention heads and the query/key/value width of each.
        dropout_lstm: dropout after the first BiLSTM's LayerNorm.
        dense: widths of the two dense layers; dropout_dense: their dropouts.

    Shapes:
        input: ``(N, T, F)``, finite (missing features filled with 0) -> ``(N, num_classes)`` logits;
        with ``return_attention=True`` also attention ``(N, heads, T, T)``.

    Example:
        >>> model = BiLSTMAttention(FEATURES, num_classes=15)
        >>> logits, attention = model(torch.randn(8, 20, 83), return_attention=True)
        >>> frame_importance(attention).shape   # (8, 20)
    """

    def __init__(self, num_features: int, num_classes: int, lstm1: int = 64, lstm2: int = 32,
                 heads: int = 4, key_dim: int = 32, dropout_lstm: float = 0.2,
                 dense: tuple[int, int] = (64, 32), dropout_dense: tuple[float, float] = (0.3, 0.2)) -> None:
        super().__init__()
        self.lstm1 = BiLSTMBlock(num_features, lstm1, dropout_lstm)
        self.lstm2 = BiLSTMBlock(2 * lstm1, lstm2)
        self.attention = SelfAttentionBlock(2 * lstm2, heads, key_dim)
        self.dense1 = dense_block(4 * lstm2, dense[0], dropout_dense[0])  # average ++ max pooling
        self.dense2 = dense_block(dense[0], dense[1], dropout_dense[1])
        self.classifier = nn.Linear(dense[1], num_classes)

    def forward(self, x: torch.Tensor, return_attention: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        x, attention = self.attention(self.lstm2(self.lstm1(x)))
        pooled = torch.cat([x.mean(dim=1), x.amax(dim=1)], dim=1)
        logits = self.classifier(self.dense2(self.dense1(pooled)))
        return (logits, attention) if return_attention else logits

    def units(self) -> list[nn.Module]:
        """The five blocks in order (for fine-tuning the last K): lstm1, lstm2, attention, dense1, dense2."""
        return [self.lstm1, self.lstm2, self.attention, self.dense1, self.dense2]

    def head(self) -> nn.Module:
        return self.classifier


def frame_importance(attention: torch.Tensor) -> torch.Tensor:
    """Mean attention each frame receives, over heads and query frames; sums to 1 over frames.

    Shapes:
        attention ``(N, heads, T, T)`` -> ``(N, T)``.
    """
    return attention.mean(dim=(1, 2))
