"""`make demo`: every capability so far, end to end, on generated data.

1. a labelled synthetic skeleton corpus (Prefect flow), three SQL queries over it, its features
   table and a query over that;
2. the same kind of sequences rendered as videos of a drawn person, run through the real
   extraction flow (BlazePose, parallel processes) into a second store;
3. how well BlazePose recovers the drawn figure's known joints (PCK@0.1 of torso size);
4. a rendered overlay of one extracted video;
5. ST-GCN trained on the synthetic store with its defaults and a muscle-group head beside the
   exercise head, evaluated on a held-out subject (metrics, confusion matrix PNG), and used to
   classify one rendered video (with the calibrated "none of these" and the muscle groups worked);
6. the BiLSTM-attention classifier on the 83 biomechanical features of the same store, with its
   defaults and the muscle head, evaluated on the same held-out subject and printed beside ST-GCN;
   then their ensemble (weights searched on the validation subject) beside both, saved and used
   to classify the same video;
7. form scoring: squat and push-up references fitted on good executions of six other subjects,
   rendered and extracted as the judged videos are, then the held-out subject's rendered good
   squat and push-up (from the extracted store: their scores go to its
   ``scores`` table) against the very same videos rendered with a fault (knees caving, hips
   sagging: BlazePose inside ``posegraph score``), with pictures and a query over ``scores``;
8. repetitions counted on every rendered video (label-free, and a trained phase counter);
9. ``posegraph analyse``: an analysis bundle built from the BiLSTM and that reference store, then the
   whole answer (exercise, muscles, sets and repetitions, form per repetition, cues) for a rendered
   video and a real clip, each with its HTML report;
10. live feedback, an ONNX export, and last the store's data-quality report (HTML) with the
   commands that open the corpus browser (``posegraph ui``) and write the report.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from posegraph.skeleton.vocabulary import DEFAULT_FPS

from .demo_form import (
    DEMO_VIDEO_REPETITIONS,
    DEMO_VIDEO_SEED,
    DEMO_VIDEO_SIZE,
    DEMO_VIDEO_SUBJECTS,
    REAL_SQUAT,
    REPOSITORY,
    analyse_demo,
    print_queries,
    reference_store_demo,
    score_demo,
)

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

# The classifiers learn muscle groups beside exercises; the synthetic corpus has lunges and jumping
# jacks, which the source study's table lacks, so the demo uses the table that adds them.
DEMO_MUSCLES = ["muscles=joint", f"muscle_table={REPOSITORY / 'configs' / 'muscle_groups_more.yaml'}"]


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
    from posegraph.data.rendering import render_stored_video
    from posegraph.data.synthetic import generate_corpus, render_corpus
    from posegraph.features.table import build_feature_table
    from posegraph.flows.extraction import run_extraction, summary_text
    from posegraph.flows.synthesis import synthesize_corpus
    from posegraph.gcn.config import load_config
    from posegraph.gcn.evaluation import HEADLINE_METRICS

    store_path = out / "store"
    print(f"== 1. synthetic skeleton corpus -> {store_path} (Prefect flow)")
    synthesize_corpus(str(store_path), subjects=subjects, takes=2, seed=0)
    print_queries(SkeletonStore(store_path), DEMO_QUERIES, store_path)
    built = build_feature_table(SkeletonStore(store_path)).summary()
    print(f"\n$ posegraph features build --store {store_path}\n{built['videos']} videos, {built['frames']} frames "
          f"of 83 biomechanical features")
    print_queries(SkeletonStore(store_path), FEATURE_QUERIES, store_path)

    videos = (out / "videos").absolute()  # stored source paths are absolute
    print(f"\n== 2. rendering synthetic exercise videos -> {videos}")
    sequences = generate_corpus(DEMO_VIDEO_SUBJECTS, takes=1, seed=DEMO_VIDEO_SEED,
                                repetitions=DEMO_VIDEO_REPETITIONS, width=DEMO_VIDEO_SIZE[0],
                                height=DEMO_VIDEO_SIZE[1])
    manifest = render_corpus(sequences, videos)
    print(f"{len(sequences)} videos, manifest {manifest}")

    extracted_path = out / "extracted"
    print(f"\n== 3. extraction flow (BlazePose, {workers} processes) -> {extracted_path}")
    summary = run_extraction(str(manifest), str(extracted_path), workers=workers)
    print(summary_text(summary))
    extracted = SkeletonStore(extracted_path)
    print_queries(extracted, EXTRACTED_QUERIES, extracted_path)

    print("\n== 4. how well BlazePose recovers the drawn figure's joints (PCK@0.1 of torso size)")
    for exercise, score in recovery_report(extracted, sequences, videos).items():
        print(f"  {exercise:<14} {score:.3f}")

    first = next(row for row in extracted.videos().to_pylist() if row["status"] == "ok")
    sheet = render_stored_video(extracted, first["video_id"], out / "overlay.png")
    print(f"\n== 5. overlay of {first['label']} video {first['video_id'][:12]}: {sheet}")

    run_dir = out / "runs" / "stgcn-synthetic"
    print("\n== 6. ST-GCN on the synthetic store with its defaults (the Penn Action recipe), evaluated on a "
          "held-out subject")
    metrics = train_demo_model(store_path, run_dir, load_config(None, DEMO_MUSCLES, model="stgcn"))
    test_video = next(row for row in extracted.videos().to_pylist() if row["split"] == "test")
    print(f"\n== 7. classify a rendered video of the held-out subject ({test_video['label']}): "
          f"posegraph classify {test_video['source_path']} --checkpoint {run_dir / 'best.pt'}")
    classify_file(Path(test_video["source_path"]), run_dir / "best.pt")

    bilstm_dir = out / "runs" / "bilstm-synthetic"
    print("\n== 8. BiLSTM-attention on the 83 biomechanical features (defaults), same held-out subject")
    bilstm = train_demo_model(store_path, bilstm_dir, load_config(None, DEMO_MUSCLES, model="bilstm"))
    print("\n   model    " + "  ".join(f"{key:>17}" for key in HEADLINE_METRICS))
    for name, scores in (("ST-GCN", metrics), ("BiLSTM", bilstm)):
        print(f"   {name:<8} " + "  ".join(f"{scores[key]:>17.3f}" for key in HEADLINE_METRICS))
    ensemble_file = ensemble_demo(store_path, [run_dir / "best.pt", bilstm_dir / "best.pt"], out / "ensembles")
    print(f"\n   the ensemble classifies the same rendered video: posegraph classify {test_video['source_path']} "
          f"--checkpoint {ensemble_file}")
    classify_file(Path(test_video["source_path"]), ensemble_file)
    reference_store = reference_store_demo(out, workers)
    scoring_ok = score_demo(out, reference_store, extracted_path, sequences)
    count_demo(out, store_path, extracted, videos, sequences)
    analyse_demo(out, reference_store, bilstm_dir, extracted_path, Path(test_video["source_path"]))
    live_demo(out, out / "bundle", Path(test_video["source_path"]))
    export_demo(out, out / "bundle", Path(test_video["source_path"]))
    browse_demo(out, store_path)
    chance = 1 / 6
    return 1 if (summary["failed"] or min(metrics["top1_accuracy"], bilstm["top1_accuracy"]) <= chance
                 or not scoring_ok) else 0


def browse_demo(out: Path, store_path: Path) -> None:
    """Step 15: the data-quality report of the store written as HTML, and the commands that open the
    corpus browser on it and write the report."""
    from posegraph.data import SkeletonStore
    from posegraph.data.quality import profile_store
    from posegraph.data.quality_render import write_report_html

    html = out / "report.html"
    print(f"\n== 15. the corpus: posegraph store report {store_path} --html {html}")
    report = profile_store(SkeletonStore(store_path, create=False))
    write_report_html(report, html)
    outliers = sum(item.outlier_count for item in report.distributions)
    print(f"   {report.videos} videos, {len(report.by_label)} labels, {len(report.subjects_across_splits)} subjects "
          f"in more than one split, {len(report.duplicates)} duplicates, {outliers} outlying values; {html}")
    print(f"\nBrowse the corpus (videos, overlays, charts, SQL, runs) in the browser:\n"
          f"  .venv/bin/posegraph ui --store {store_path} --runs {out / 'runs'}\n"
          f"Write the data-quality report:\n"
          f"  .venv/bin/posegraph store report {store_path} --html {html}")


PHASE_DEMO_SETTINGS = ["task=phases", "epochs=6"]  # a short run: enough to count the rendered videos


def count_demo(out: Path, store_path: Path, extracted, videos_folder: Path, sequences) -> None:
    """Steps 10-11: the label-free counter, then a trained phase counter (ST-GCN with the temporal head,
    trained on the synthetic store), on every rendered video and on one real clip when present."""
    from posegraph.app.phase_counting import count_with_model, load_phase_model
    from posegraph.app.video_commands import count_video
    from posegraph.gcn.config import load_config
    from posegraph.scoring import count_repetitions
    from posegraph.scoring.count_report import plot_count

    phase_dir = out / "runs" / "stgcn-phases"
    print(f"\n== 10. a phase counter: posegraph train --model stgcn --store {store_path} "
          f"{' '.join('--set ' + setting for setting in PHASE_DEMO_SETTINGS)}")
    from posegraph.flows.training import train_and_evaluate

    trained = train_and_evaluate(load_config(None, PHASE_DEMO_SETTINGS), str(store_path), str(phase_dir),
                                 progress=False)
    print(f"  balanced frame accuracy (end / middle / within) on the unseen subject: "
          f"{trained['metrics']['balanced_accuracy']:.3f}")
    model, bundle = load_phase_model(phase_dir / "best.pt")

    truth_by_path = {str(Path(s.exercise) / f"{s.subject}_take{s.take}.mp4"): s for s in sequences}
    print("\n== 11. repetitions of the rendered videos (posegraph count): true, label-free counter "
          "(no training), trained phase counter (--checkpoint)")
    label_free_errors, trained_errors, plotted = [], [], None
    for row in extracted.videos().to_pylist():
        if row["status"] != "ok":
            continue
        sequence = truth_by_path[str(Path(row["source_path"]).relative_to(videos_folder))]
        frames = extracted.read_video(row["video_id"])
        fps = row["sampled_fps"] or DEFAULT_FPS
        result = count_repetitions(frames.joints, row["layout"], fps)
        by_phases = count_with_model(model, bundle, frames.joints, row["layout"], frames.timestamps, fps,
                                     row["width"], row["height"])
        label_free_errors.append(abs(result.count - sequence.repetitions))
        trained_errors.append(abs(by_phases.count - sequence.repetitions))
        print(f"  {sequence.exercise:<14} {sequence.subject}  true {sequence.repetitions}  "
              f"label-free {result.count}  trained {by_phases.count}")
        if plotted is None:
            plotted = plot_count(result, frames.timestamps, out / "count.png", row["source_path"])
    print(f"  mean absolute error over {len(label_free_errors)} videos: label-free {np.mean(label_free_errors):.2f}, "
          f"trained {np.mean(trained_errors):.2f}; plot: {plotted}")
    clip = REAL_SQUAT
    if clip.exists():
        report = count_video(str(clip))
        print(f"\n$ posegraph count {clip}   (a real clip, 2 repetitions marked by hand)\n{report.text()}")
        report = count_video(str(clip), checkpoint=phase_dir / "best.pt")
        print(f"\n$ posegraph count {clip} --checkpoint {phase_dir / 'best.pt'}\n{report.text()}")


def live_demo(out: Path, bundle_dir: Path, rendered: Path) -> None:
    """Step 13: ``posegraph live`` on a real clip (the rendered video when the shared clips are absent)
    played at its own frame rate: the JSON events as they come, then the session's report."""
    import json

    from posegraph.app.analysis import Analyser
    from posegraph.app.live_loop import run_live
    from posegraph.scoring.analysis_html import write_analysis_outputs

    clip = REAL_SQUAT
    video = clip if clip.exists() else rendered
    print(f"\n== 13. feedback while exercising: posegraph live --bundle {bundle_dir} --source {video} --realtime "
          f"--out {out / 'live'}")
    result = run_live(Analyser.load(bundle_dir), str(video), lambda event: print(json.dumps(event), flush=True),
                      realtime=True)
    if result.report is None:
        print(f"   {result.error}")
        return
    files = write_analysis_outputs(result.report, out / "live", str(video))
    live = result.report.live
    print(f"   {live.ended}: {result.report.count} repetitions ({live.announced_live} announced live), "
          f"{live.frames_dropped} frames dropped; report {files['html']}")


def export_demo(out: Path, bundle_dir: Path, rendered: Path) -> None:
    """Step 14: the bundle's classifier exported to ONNX (checked against PyTorch), then a clip
    classified from the export with onnxruntime, in a process that never imports torch."""
    import subprocess
    import sys

    from posegraph.app.exporting import export_model

    export_dir = out / "export"
    print(f"\n== 14. a model that leaves the machine: posegraph export {bundle_dir} --format onnx --out {export_dir}")
    export_model(bundle_dir, export_dir, log=lambda line: print(f"   {line}"))
    print(f"\n$ posegraph classify {rendered} --checkpoint {export_dir} --runtime onnx --top-k 3")
    script = ("import sys; from posegraph.flows.cli import main; code = main(sys.argv[1:]); "
              "print('   (torch imported: %s)' % ('torch' in sys.modules)); sys.exit(code)")
    subprocess.run([sys.executable, "-c", script, "classify", str(rendered), "--checkpoint", str(export_dir),
                    "--runtime", "onnx", "--top-k", "3"], check=True)


def ensemble_demo(store_path: Path, checkpoints: list[Path], folder: Path) -> Path:
    """The weighted ensemble of the demo's classifiers (weights searched on the validation subject),
    evaluated on the held-out subject beside its members and saved."""
    from posegraph.flows.training import ensemble_flow, print_report

    out = folder / "stgcn-bilstm.yaml"
    print(f"\n$ posegraph ensemble --checkpoints {' '.join(map(str, checkpoints))} --store {store_path} --out {out}")
    result = ensemble_flow([str(path) for path in checkpoints], str(store_path), out=str(out))
    print_report(result["report"], result["paths"])
    return out


def train_demo_model(store_path: Path, run_dir: Path, config=None) -> dict:
    """Train and evaluate (Prefect flow); ``config`` defaults to ST-GCN with its defaults."""
    from posegraph.flows.training import train_and_evaluate
    from posegraph.gcn.config import load_config
    from posegraph.gcn.evaluation import format_headline

    config = config or load_config(None, [], model="stgcn")
    result = train_and_evaluate(config, str(store_path), str(run_dir), progress=False)
    metrics = result["metrics"]
    print(f"best validation accuracy {result['best_val_accuracy']:.3f} (epoch {result['best_epoch']}); "
          f"test ({metrics['samples']} videos of an unseen subject):")
    print("  " + format_headline(metrics))
    if "muscles" in metrics:
        from posegraph.gcn.evaluation import format_muscle_headline

        print("  muscle groups: " + format_muscle_headline(metrics["muscles"]))
    print(f"  confusion matrix: {result['paths']['confusion_matrix']}")
    print(f"  training curves:  {result['paths'].get('curves')}")
    return metrics


def classify_file(video: Path, checkpoint: Path) -> None:
    """What ``posegraph classify`` prints for one file, with a checkpoint or a saved ensemble."""
    from posegraph.data.sources import file_source
    from posegraph.gcn.ensemble import is_ensemble_file, load_saved
    from posegraph.gcn.inference import answer_sequence, load_classifier

    if is_ensemble_file(checkpoint):
        ensemble, members = load_saved(checkpoint)
        answer = members.answer(file_source(video), ensemble.weights, top_k=3)
    else:
        model, bundle = load_classifier(checkpoint)
        answer = answer_sequence(model, bundle, file_source(video), top_k=3)
    print(f"  answer: {answer.answer}" + ("" if answer.threshold is None else
                                          f" (calibrated; 'none of these' below {answer.threshold:.0%})"))
    for name, probability in answer.ranking:
        print(f"  {probability:7.2%}  {name}")
    if answer.muscles:
        worked = set(answer.muscles_worked)
        print("  muscle groups worked: " + (", ".join(f"{group} {probability:.0%}" for group, probability
                                                      in answer.muscles if group in worked) or "none above 50%"))
