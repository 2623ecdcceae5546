"""Models and training: ST-GCN and MS-G3D graph classifiers, the BiLSTM-attention sequence classifier,
the repetition-phase model, datasets, one training loop for every family, evaluation.

Every model and family is described once, in ``model_table`` (its config keys, defaults and
builder); ``families`` says how each family trains, evaluates and applies its models. A trained
model is one typed :class:`~.bundle.ModelBundle` (``checkpoint.load_checkpoint``), built
for use by its family (``families``, ``phases``) in ``inference.load_classifier``. Training
(``training``) and inference (``inference``) never import each other: both use ``corpus`` (which
videos a run uses), ``device``, ``calibration`` and ``losses``.

Importing this package imports no torch: an exported model (``onnx_runtime``) is applied with the
numpy-only modules (``answers``, ``model_inputs``, ``preprocess``, ``heads``, ``rejection``) on a
machine without it. ``MODELS`` and ``build_model`` load the registry (and torch) when first used.
"""

__all__ = ["MODELS", "build_model"]


def __getattr__(name: str):
    if name in __all__:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
