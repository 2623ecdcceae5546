"""`make demo`: every capability so far, end to end, on generated data.

1. a labelled synthetic skeleton corpus (Prefect flow), three SQL queries over it, its features
   table and a query over that;
2. the same kind of sequences rendered as videos of a drawn person, run through the real
   extraction flow (BlazePose, parallel processes) into a second store;
3. how well BlazePose recovers the drawn figure's known joints (PCK@0.1 of torso size);
4. a rendered overlay of one extracted video;
5. ST-GCN trained on the synthetic store, evaluated on a held-out subject (metrics, confusion
   matrix PNG), and used to classify one rendered video;
6. the BiLSTM-attention classifier on the 83 biomechanical features of the same store, with its
   defaults, evaluated on the same held-out subject and printed beside ST-GCN.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

DEMO_QUERIES = (
    ("videos per exercise and split",
     "SELECT label, split, count(*) AS videos, sum(frame_count) AS frames, "
     "round(avg(detection_rate), 3) AS detection_rate FROM videos "
     "GROUP BY label, split ORDER BY label, split"),
    ("deepest squats: lowest hip position per video (y grows downwards)",
     "SELECT v.group AS subject, f.video_id[:12] AS video, v.repetitions, "
     "round(max((f.y[24] + f.y[25]) / 2), 3) AS lowest_hips "
     "FROM frames f JOIN videos v USING (video_id, layout) WHERE v.label = 'squat' AND f.detected "
     "GROUP BY ALL ORDER BY lowest_hips DESC LIMIT 5"),
    ("least visible joints across the corpus",
     "SELECT joint_name, round(avg(visibility), 3) AS mean_visibility, "
     "count(*) FILTER (WHERE visibility < 0.5) AS frames_below_half "
     "FROM joints WHERE detected GROUP BY joint_name ORDER BY mean_visibility LIMIT 5"),
)

FEATURE_QUERIES = (
    ("the features view: joint angles and hand distance per exercise",
     "SELECT label, round(avg(left_knee_angle), 1) AS knee_deg, round(avg(left_elbow_angle), 1) AS elbow_deg, "
     "round(avg(hand_distance), 2) AS hands_body_lengths FROM features JOIN videos USING (video_id, layout) "
     "GROUP BY label ORDER BY knee_deg"),
)

EXTRACTED_QUERIES = (
    ("extraction results per exercise",
     "SELECT label, count(*) AS videos, sum(frame_count) AS frames, round(avg(detection_rate), 3) AS "
     "detection_rate, round(avg(mean_visibility), 3) AS visibility, "
     "sum(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) AS ok FROM videos GROUP BY label ORDER BY label"),
    ("interpolated joints per exercise",
     "SELECT v.label, count(*) FILTER (WHERE j.interpolated) AS interpolated_joints, count(*) AS joints "
     "FROM joints j JOIN videos v USING (video_id, layout) GROUP BY v.label ORDER BY v.label"),
)

DEMO_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "stgcn_synthetic.yaml"
DEMO_VIDEO_SUBJECTS = 3  # three subjects: train / val / test splits by subject
DEMO_VIDEO_SIZE = (480, 360)


def _print_queries(store, queries, store_path: Path) -> None:
    from posegraph.data.export import format_table
    from posegraph.data.query import run_query

    for title, sql in queries:
        print(f"\n-- {title}\n$ posegraph query \"{sql}\" --store {store_path}")
        print(format_table(run_query(store, sql)))


def recovery_report(store, sequences, videos_folder: Path) -> dict[str, float]:
    """PCK@0.1 of torso size per exercise: extracted joints against the drawn figure's joints."""
    from posegraph.skeleton.metrics import pck

    truth_by_path = {str(Path(s.exercise) / f"{s.subject}_take{s.take}.mp4"): s for s in sequences}
    scores = defaultdict(list)
    for row in store.videos().to_pylist():
        if row["status"] == "failed":
            continue
        relative = str(Path(row["source_path"]).relative_to(videos_folder))
        sequence = truth_by_path[relative]
        frames = store.read_video(row["video_id"])
        size = np.array([sequence.width, sequence.height])
        truth = sequence.clean_joints[frames.frame_indices, :, :2] * size
        estimate = np.where(frames.detected[:, None, None], frames.joints[:, :, :2], np.nan) * size
        scores[sequence.exercise].append(pck(estimate, truth, 0.1))
    report = {exercise: float(np.nanmean(values)) for exercise, values in sorted(scores.items())}
    report["all"] = float(np.nanmean([v for values in scores.values() for v in values]))
    return report


def run_demo(out: Path, subjects: int = 6, workers: int = 2) -> int:
    from posegraph.data import SkeletonStore
    from posegraph.data.synthetic import generate_corpus, render_corpus
    from posegraph.features.table import build_feature_table
    from posegraph.flows.extraction import run_extraction, summary_text
    from posegraph.flows.synthesis import synthesize_corpus
    from posegraph.flows.visualize import render_stored_video
    from posegraph.gcn.config import load_config
    from posegraph.gcn.evaluation import HEADLINE_METRICS

    store_path = out / "store"
    print(f"== 1. synthetic skeleton corpus -> {store_path} (Prefect flow)")
    synthesize_corpus(str(store_path), subjects=subjects, takes=2, seed=0)
    _print_queries(SkeletonStore(store_path), DEMO_QUERIES, store_path)
    built = build_feature_table(SkeletonStore(store_path)).summary()
    print(f"\n$ posegraph features build --store {store_path}\n{built['videos']} videos, {built['frames']} frames "
          f"of 83 biomechanical features")
    _print_queries(SkeletonStore(store_path), FEATURE_QUERIES, store_path)

    videos = out / "videos"
    print(f"\n== 2. rendering synthetic exercise videos -> {videos}")
    sequences = generate_corpus(DEMO_VIDEO_SUBJECTS, takes=1, seed=1, repetitions=3,
                                width=DEMO_VIDEO_SIZE[0], height=DEMO_VIDEO_SIZE[1])
    manifest = render_corpus(sequences, videos)
    print(f"{len(sequences)} videos, manifest {manifest}")

    extracted_path = out / "extracted"
    print(f"\n== 3. extraction flow (BlazePose, {workers} processes) -> {extracted_path}")
    summary = run_extraction(str(manifest), str(extracted_path), workers=workers)
    print(summary_text(summary))
    extracted = SkeletonStore(extracted_path)
    _print_queries(extracted, EXTRACTED_QUERIES, extracted_path)

    print("\n== 4. how well BlazePose recovers the drawn figure's joints (PCK@0.1 of torso size)")
    for exercise, score in recovery_report(extracted, sequences, videos).items():
        print(f"  {exercise:<14} {score:.3f}")

    first = next(row for row in extracted.videos().to_pylist() if row["status"] == "ok")
    sheet = render_stored_video(extracted, first["video_id"], out / "overlay.png")
    print(f"\n== 5. overlay of {first['label']} video {first['video_id'][:12]}: {sheet}")

    run_dir = out / "runs" / "stgcn-synthetic"
    print(f"\n== 6. ST-GCN on the synthetic store ({DEMO_CONFIG.name}), evaluated on a held-out subject")
    metrics = train_demo_model(store_path, run_dir)
    test_video = next(row for row in extracted.videos().to_pylist() if row["split"] == "test")
    print(f"\n== 7. classify a rendered video of the held-out subject ({test_video['label']}): "
          f"posegraph classify {test_video['source_path']} --checkpoint {run_dir / 'best.pt'}")
    classify_file(Path(test_video["source_path"]), run_dir / "best.pt")

    bilstm_dir = out / "runs" / "bilstm-synthetic"
    print("\n== 8. BiLSTM-attention on the 83 biomechanical features (defaults), same held-out subject")
    bilstm = train_demo_model(store_path, bilstm_dir, load_config(None, [], model="bilstm"))
    print("\n   model    " + "  ".join(f"{key:>17}" for key in HEADLINE_METRICS))
    for name, scores in (("ST-GCN", metrics), ("BiLSTM", bilstm)):
        print(f"   {name:<8} " + "  ".join(f"{scores[key]:>17.3f}" for key in HEADLINE_METRICS))
    chance = 1 / 6
    return 1 if summary["failed"] or min(metrics["top1_accuracy"], bilstm["top1_accuracy"]) <= chance else 0


def train_demo_model(store_path: Path, run_dir: Path, config=None) -> dict:
    """Train and evaluate (Prefect flow); ``config`` defaults to the demo's ST-GCN config file."""
    from posegraph.flows.training import train_and_evaluate
    from posegraph.gcn.config import load_config
    from posegraph.gcn.evaluation import format_headline

    if config is None and not DEMO_CONFIG.exists():
        raise FileNotFoundError(f"{DEMO_CONFIG} is missing: run the demo from a posegraph checkout")
    config = config or load_config(DEMO_CONFIG)
    result = train_and_evaluate(config, str(store_path), str(run_dir), progress=False)
    metrics = result["metrics"]
    print(f"best validation accuracy {result['best_val_accuracy']:.3f} (epoch {result['best_epoch']}); "
          f"test ({metrics['samples']} videos of an unseen subject):")
    print("  " + format_headline(metrics))
    print(f"  confusion matrix: {result['paths']['confusion_matrix']}")
    print(f"  training curves:  {result['paths'].get('curves')}")
    return metrics


def classify_file(video: Path, checkpoint: Path) -> None:
    from posegraph.gcn.inference import classify_video_file, load_classifier

    model, content = load_classifier(checkpoint)
    for name, probability in classify_video_file(video, model, content, top_k=3):
        print(f"  {probability:7.2%}  {name}")
