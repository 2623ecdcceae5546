"""Using a trained checkpoint: evaluate a split, classify one skeleton sequence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from posegraph.data import SkeletonStore

from .checkpoint import load_checkpoint
from .config import TrainConfig
from .dataset import SkeletonDataset
from .evaluation import classification_metrics, softmax, write_report
from .preprocess import normalize, to_layout
from .registry import build_model
from .training import evaluate_logits, pick_device, select_corpus


def load_classifier(path: str | Path, device: str = "auto") -> tuple[torch.nn.Module, dict]:
    """The model of a checkpoint, in eval mode, and the checkpoint's metadata."""
    content = load_checkpoint(path)
    config = TrainConfig(**content["config"])
    model = build_model(content["model"], content["layout"], len(content["class_names"]), content["in_channels"],
                        content["num_persons"], **config.model_options())
    model.load_state_dict(content["state_dict"], strict=True)
    model.to(pick_device(device)).eval()
    return model, content


def evaluate_run(run_dir: str | Path, store_path: str | Path, split: str = "test", checkpoint: str = "best.pt") -> tuple[dict, dict]:
    """Metrics of ``run_dir/checkpoint`` on ``split``, written as JSON and PNG into the run directory."""
    run_dir = Path(run_dir)
    model, content = load_classifier(run_dir / checkpoint)
    config = TrainConfig(**content["config"])
    store = SkeletonStore(store_path, create=False)
    corpus = select_corpus(store, config)
    if corpus.class_names != content["class_names"]:
        raise ValueError(f"the store's classes {corpus.class_names} differ from the checkpoint's {content['class_names']}")
    items = corpus.splits[split] or corpus.splits["val"]
    dataset = SkeletonDataset(store, items, content["layout"], content["num_persons"])
    logits, labels = evaluate_logits(model, dataset, config.eval_batch_size, next(model.parameters()).device)
    metrics = classification_metrics(logits, labels, content["class_names"])
    history_file = run_dir / "history.json"
    history = json.loads(history_file.read_text()) if history_file.exists() else []
    return metrics, write_report(metrics, history, run_dir, split)


def classify_people(model: torch.nn.Module, content: dict, people: np.ndarray, stored_layout: str,
                    top_k: int = 5) -> list[tuple[str, float]]:
    """Top-k ``(class, probability)`` for ``people (M, T, V, 4)`` in ``stored_layout``."""
    persons = content["num_persons"]
    if people.shape[0] < persons:
        padding = np.full((persons - people.shape[0],) + people.shape[1:], np.nan, dtype=people.dtype)
        people = np.concatenate([people, padding])
    data = normalize(to_layout(people[:persons], stored_layout, content["layout"]), content["layout"])
    device = next(model.parameters()).device
    with torch.no_grad():
        logits = model(torch.from_numpy(data)[None].to(device)).float().cpu().numpy()
    probabilities = softmax(logits)[0]
    order = np.argsort(-probabilities)[:top_k]
    return [(content["class_names"][i], float(probabilities[i])) for i in order]


def classify_video_file(video: str | Path, model: torch.nn.Module, content: dict,
                        top_k: int = 5) -> list[tuple[str, float]]:
    """Extract a video file with BlazePose, then rank the checkpoint's classes."""
    people, layout = extract_people(video)
    return classify_people(model, content, people, layout, top_k)


def extract_people(video: str | Path) -> tuple[np.ndarray, str]:
    """BlazePose skeleton of a video file, cleaned: ``(1, T, 33, 4)`` and its layout."""
    from posegraph.skeleton import build_extractor
    from posegraph.skeleton.cleaning import clean

    result = build_extractor("blazepose").extract(video)
    cleaned = clean(result.joints, result.detected)
    if not cleaned.detected.any():
        raise ValueError(f"{video}: no person found in any frame; nothing to classify")
    return cleaned.joints[None], result.layout
