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
7. form scoring: squat and push-up references fitted on the synthetic store, then the held-out
   subject's rendered good squat and push-up (from the extracted store: their scores go to its
   ``scores`` table) against the very same videos rendered with a fault (knees caving, hips
   sagging: BlazePose inside ``posegraph score``), with pictures and a query over ``scores``;
8. repetitions counted on every rendered video (label-free, and a trained phase counter);
9. ``posegraph analyse``: an analysis bundle built from the BiLSTM and the synthetic store, then the
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

SCORE_QUERY = (
    "the scores view: knees and hips of each stored video",
    "SELECT reference, video_id[:12] AS video, joint, round(avg(score), 1) AS mean_score, "
    "round(min(score), 1) AS lowest, count(*) FILTER (WHERE score < 50) AS frames_below_50 FROM scores "
    "WHERE joint IN ('left_knee', 'right_knee', 'left_hip', 'right_hip') GROUP BY ALL ORDER BY reference, joint")
# (exercise, fault): every rendered fault is the held-out subject's own video with one change.
DEMO_FAULTS = (("squat", "knees_caving"), ("push_up", "hips_sagging"))
SAGGING_MARGIN = 20.0  # points a sagging push-up must score below the good one (measured: 36-44)

DEMO_VIDEO_SUBJECTS = 3  # three subjects: train / val / test splits by subject
DEMO_VIDEO_SIZE = (480, 360)
DEMO_VIDEO_SEED, DEMO_VIDEO_REPETITIONS = 1, 3
REPOSITORY = Path(__file__).resolve().parents[1]
# The classifiers learn muscle groups beside exercises; the synthetic corpus has lunges and jumping
# jacks, which the source study's table lacks, so the demo uses the table that adds them.
DEMO_MUSCLES = ["muscles=joint", f"muscle_table={REPOSITORY / 'configs' / 'muscle_groups_more.yaml'}"]


def _print_queries(store, queries, store_path: Path) -> None:
    from posegraph.data.export import format_table
    from posegraph.data.query import run_query
    from posegraph.features import FEATURE_NAMES

    for title, sql in queries:
        print(f"\n-- {title}\n$ posegraph query \"{sql}\" --store {store_path}")
        print(format_table(run_query(store, sql, feature_columns=FEATURE_NAMES)))


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
    from posegraph.data.rendering import render_stored_video
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
    _print_queries(extracted, EXTRACTED_QUERIES, extracted_path)

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
    scoring_ok = score_demo(out, store_path, extracted_path, sequences)
    count_demo(out, store_path, extracted, videos, sequences)
    analyse_demo(out, store_path, bilstm_dir, extracted_path, Path(test_video["source_path"]))
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


def score_demo(out: Path, store_path: Path, extracted_path: Path, sequences) -> bool:
    """Step 9: fit, score good and faulty executions, draw them. True when the faults show.

    Knees caving hardly moves a whole squat's score (it shows only near the bottom; measured in
    ``benchmarks/scoring.py``), so the squats are judged by their knees' scores; sagging hips
    pull the whole push-up down, so the push-ups are judged by their form scores.
    """
    from posegraph.data import SkeletonStore
    from posegraph.data.synthetic import generate_sequence, make_subjects, render_corpus
    from posegraph.flows.video_commands import score_video
    from posegraph.scoring.score_report import fit_reference, fit_summary

    subjects = sorted({sequence.subject for sequence in sequences})
    held_out = subjects[-1]
    print(f"\n== 9. form scoring: references fitted on the synthetic store; subject {held_out}'s rendered "
          f"good squat and push-up against the same videos rendered with a fault")
    person = next(s for s in make_subjects(DEMO_VIDEO_SUBJECTS, seed=DEMO_VIDEO_SEED) if s.name == held_out)
    extracted = SkeletonStore(extracted_path)
    pictures = out / "scores"
    ok = True
    for exercise, fault in DEMO_FAULTS:
        reference_path = out / "references" / f"{exercise}.json"
        print(f"\n$ posegraph scoring fit --store {store_path} --exercise {exercise} --out {reference_path}")
        print(fit_summary(fit_reference(store_path, exercise, reference_path), reference_path))
        good = next(row for row in extracted.videos().to_pylist()
                    if row["label"] == exercise and row["group"] == held_out and row["status"] == "ok")
        faulty = generate_sequence(exercise, person, 0, DEMO_VIDEO_SEED, repetitions=DEMO_VIDEO_REPETITIONS,
                                   width=DEMO_VIDEO_SIZE[0], height=DEMO_VIDEO_SIZE[1], fault=fault)
        render_corpus([faulty], out / "faulty_videos" / fault)
        faulty_video = out / "faulty_videos" / fault / exercise / f"{held_out}_take0.mp4"
        reports = {}
        for kind, target, store in (("good", good["video_id"][:12], extracted_path),
                                    (fault, str(faulty_video), None)):
            picture = pictures / f"{exercise}_{kind}.png"
            print(f"\n$ posegraph score {target} --reference {reference_path}"
                  + (f" --store {store}" if store else "") + f" --exercise {exercise} --out {picture}")
            reports[kind] = score_video(target, reference_path, store_path=store, exercise=exercise, out=picture)
            print(reports[kind].text())
        good_report, faulty_report = reports["good"], reports[fault]
        if exercise == "squat":
            knees = [good_report.result.joint_names.index(name) for name in ("left_knee", "right_knee")]
            good_knees, faulty_knees = (float(np.nanmean(report.result.joint_scores[:, knees]))
                                        for report in (good_report, faulty_report))
            separated = good_knees > faulty_knees
            print(f"\n   knees (mean score of both): good {good_knees:.1f}, knees caving {faulty_knees:.1f}; "
                  f"whole squat: good {good_report.result.mean_score:.1f}, knees caving "
                  f"{faulty_report.result.mean_score:.1f}")
        else:
            gap = good_report.result.mean_score - faulty_report.result.mean_score
            separated = gap >= SAGGING_MARGIN
            print(f"\n   push-up: good {good_report.result.mean_score:.1f}, hips sagging "
                  f"{faulty_report.result.mean_score:.1f} ({gap:.1f} points lower; at least "
                  f"{SAGGING_MARGIN:.0f} expected)")
        ok &= separated
    _print_queries(extracted, (SCORE_QUERY,), extracted_path)
    print(f"\npictures (joints red = 0 to green = 100, grey = no score): {pictures}/")
    return ok


PHASE_DEMO_SETTINGS = ["task=phases", "epochs=6"]  # a short run: enough to count the rendered videos


def count_demo(out: Path, store_path: Path, extracted, videos_folder: Path, sequences) -> None:
    """Steps 10-11: the label-free counter, then a trained phase counter (ST-GCN with the temporal head,
    trained on the synthetic store), on every rendered video and on one real clip when present."""
    from posegraph.flows.video_commands import count_video
    from posegraph.gcn.phase_counting import count_with_model, load_phase_model
    from posegraph.scoring.count_report import plot_count
    from posegraph.gcn.config import load_config
    from posegraph.scoring import count_repetitions

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
    clip = REPOSITORY.parent / "shared" / "testdata" / "reps" / "workouttracker" / "data" / "raw" / "squats" / "squat_17.mp4"
    if clip.exists():
        report = count_video(str(clip))
        print(f"\n$ posegraph count {clip}   (a real clip, 2 repetitions marked by hand)\n{report.text()}")
        report = count_video(str(clip), checkpoint=phase_dir / "best.pt")
        print(f"\n$ posegraph count {clip} --checkpoint {phase_dir / 'best.pt'}\n{report.text()}")


def analyse_demo(out: Path, store_path: Path, run_dir: Path, extracted_path: Path, rendered: Path) -> None:
    """Step 12: an analysis bundle from the BiLSTM and the synthetic store, then ``posegraph analyse``
    on a rendered video of the held-out subject and on a real clip when present, with HTML reports."""
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import resolve_source
    from posegraph.gcn.analysis import Analyser, analyse, analysis_text
    from posegraph.gcn.analysis_bundle import build_bundle
    from posegraph.scoring.analysis_html import write_analysis_outputs

    bundle_dir = out / "bundle"
    print(f"\n== 12. the whole answer per video: posegraph bundle build --classifier {run_dir} --store {store_path} "
          f"--out {bundle_dir}")
    build_bundle(run_dir, store_path, bundle_dir, log=lambda line: print(f"  {line}"))
    analyser = Analyser.load(bundle_dir)
    clip = REPOSITORY.parent / "shared" / "testdata" / "reps" / "workouttracker" / "data" / "raw" / "squats" / "squat_17.mp4"
    extracted = SkeletonStore(extracted_path)
    for video in [rendered] + ([clip] if clip.exists() else []):
        print(f"\n$ posegraph analyse {video} --bundle {bundle_dir} --out {out / 'analysis'} --video-format none")
        if video == clip:
            print("   (a real squat: this bundle's classifier has seen only drawn figures, and its 12 validation "
                  "videos are too few to calibrate 'none of these', so expect a wrong answer; see "
                  "benchmarks/README.md, crosssource.py, for models trained on real skeletons)")
        source = resolve_source(video, extracted)
        document, _ = analyse(analyser, source, str(video))
        print(analysis_text(document))
        print(f"report: {write_analysis_outputs(document, out / 'analysis', str(video))['html']}")


def live_demo(out: Path, bundle_dir: Path, rendered: Path) -> None:
    """Step 13: ``posegraph live`` on a real clip (the rendered video when the shared clips are absent)
    played at its own frame rate: the JSON events as they come, then the session's report."""
    import json

    from posegraph.gcn.analysis import Analyser
    from posegraph.gcn.live_loop import run_live
    from posegraph.scoring.analysis_html import write_analysis_outputs

    clip = REPOSITORY.parent / "shared" / "testdata" / "reps" / "workouttracker" / "data" / "raw" / "squats" / "squat_17.mp4"
    video = clip if clip.exists() else rendered
    print(f"\n== 13. feedback while exercising: posegraph live --bundle {bundle_dir} --source {video} --realtime "
          f"--out {out / 'live'}")
    result = run_live(Analyser.load(bundle_dir), str(video), lambda event: print(json.dumps(event), flush=True),
                      realtime=True)
    if result.document is None:
        print(f"   {result.error}")
        return
    files = write_analysis_outputs(result.document, out / "live", str(video))
    live = result.document["live"]
    print(f"   {live['ended']}: {result.document['count']} repetitions ({live['announced_live']} announced live), "
          f"{live['frames_dropped']} frames dropped; report {files['html']}")


def export_demo(out: Path, bundle_dir: Path, rendered: Path) -> None:
    """Step 14: the bundle's classifier exported to ONNX (checked against PyTorch), then a clip
    classified from the export with onnxruntime, in a process that never imports torch."""
    import subprocess
    import sys

    from posegraph.gcn.onnx_export import export_onnx

    export_dir = out / "export"
    print(f"\n== 14. a model that leaves the machine: posegraph export {bundle_dir} --format onnx --out {export_dir}")
    export_onnx(bundle_dir, export_dir, log=lambda line: print(f"   {line}"))
    print(f"\n$ posegraph classify {rendered} --checkpoint {export_dir} --runtime onnx --top-k 3")
    script = ("import sys; from posegraph.flows.cli import main; code = main(sys.argv[1:]); "
              "print('   (torch imported: %s)' % ('torch' in sys.modules)); sys.exit(code)")
    subprocess.run([sys.executable, "-c", script, "classify", str(rendered), "--checkpoint", str(export_dir),
                    "--runtime", "onnx", "--top-k", "3"], check=True)


def ensemble_demo(store_path: Path, checkpoints: list[Path], folder: Path) -> Path:
    """The weighted ensemble of the demo's classifiers (weights searched on the validation subject),
    evaluated on the held-out subject beside its members and saved."""
    from posegraph.flows.cli.ensemble import print_report
    from posegraph.flows.training import ensemble_flow

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
    from posegraph.gcn.ensemble import is_ensemble_file, load_saved
    from posegraph.data.sources import file_source
    from posegraph.gcn.inference import answer_sequence, load_classifier
    from posegraph.gcn.preprocess import PeopleSequence

    if is_ensemble_file(checkpoint):
        ensemble, members = load_saved(checkpoint)
        answer = members.answer(PeopleSequence.from_source(file_source(video)), ensemble.weights, top_k=3)
    else:
        model, bundle = load_classifier(checkpoint)
        answer = answer_sequence(model, bundle, PeopleSequence.from_source(file_source(video)), top_k=3)
    print(f"  answer: {answer.answer}" + ("" if answer.threshold is None else
                                          f" (calibrated; 'none of these' below {answer.threshold:.0%})"))
    for name, probability in answer.ranking:
        print(f"  {probability:7.2%}  {name}")
    if answer.muscles:
        worked = set(answer.muscles_worked)
        print("  muscle groups worked: " + (", ".join(f"{group} {probability:.0%}" for group, probability
                                                      in answer.muscles if group in worked) or "none above 50%"))
