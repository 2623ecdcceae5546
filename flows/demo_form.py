"""`make demo`'s form steps: references from good executions extracted as the judged videos are,
form scores of a good and a faulty take, and ``posegraph analyse`` (steps 9 and 12), with the
settings of the rendered videos that :mod:`.demo` shares.

Why a reference store of its own: a reference fitted on the synthetic store's skeletons judged
BlazePose's reading of the drawn figure, so even a good rendered push-up scored 50-56 (its ankles
5.8: where BlazePose puts a drawn ankle is not where the generator did) and the blame of a sagging
one fell on the ankles and knees. Fitted on six other subjects' good executions rendered and
extracted the same way (about 40 s more), the good push-up scores 92, the sagging one 76 with
its hips blamed first, the good squat 93 and the caving one's left knee first (measured on
2026-12-07).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DEMO_VIDEO_SUBJECTS = 3  # three subjects: train / val / test splits by subject
DEMO_VIDEO_SIZE = (480, 360)
DEMO_VIDEO_SEED, DEMO_VIDEO_REPETITIONS = 1, 3
REFERENCE_SUBJECTS, REFERENCE_SEED = 6, 11  # other people than the demo videos' (seed 1)
REPOSITORY = Path(__file__).resolve().parents[1]
REAL_SQUAT = REPOSITORY.parent / "shared" / "testdata" / "reps" / "workouttracker" / "data" / "raw" / "squats" / "squat_17.mp4"

# (exercise, fault): every rendered fault is the held-out subject's own video with one change.
DEMO_FAULTS = (("squat", "knees_caving"), ("push_up", "hips_sagging"))
SAGGING_MARGIN = 10.0  # points a sagging push-up must score below the good one (measured: 15.9)
SCORE_QUERY = (
    "the scores view: knees and hips of each stored video",
    "SELECT reference, video_id[:12] AS video, joint, round(avg(score), 1) AS mean_score, "
    "round(min(score), 1) AS lowest, count(*) FILTER (WHERE score < 50) AS frames_below_50 FROM scores "
    "WHERE joint IN ('left_knee', 'right_knee', 'left_hip', 'right_hip') GROUP BY ALL ORDER BY reference, joint")


def print_queries(store, queries, store_path: Path) -> None:
    """Each ``(title, sql)`` as the ``posegraph query`` command and its table."""
    from posegraph.data.export import format_table
    from posegraph.data.query import run_query
    from posegraph.features import FEATURE_NAMES

    for title, sql in queries:
        print(f"\n-- {title}\n$ posegraph query \"{sql}\" --store {store_path}")
        print(format_table(run_query(store, sql, feature_columns=FEATURE_NAMES)))


def reference_store_demo(out: Path, workers: int) -> Path:
    """Step 9, first part: good executions of :data:`REFERENCE_SUBJECTS` other subjects, every
    exercise, rendered and run through the extraction flow into their own store."""
    from posegraph.data.synthetic import generate_corpus, render_corpus
    from posegraph.flows.extraction import run_extraction, summary_text

    store_path = out / "reference_store"
    print(f"\n== 9. form references: good executions of {REFERENCE_SUBJECTS} other subjects, rendered and "
          f"extracted as the judged videos are (BlazePose) -> {store_path}")
    sequences = generate_corpus(REFERENCE_SUBJECTS, takes=1, seed=REFERENCE_SEED, repetitions=DEMO_VIDEO_REPETITIONS,
                                width=DEMO_VIDEO_SIZE[0], height=DEMO_VIDEO_SIZE[1])
    manifest = render_corpus(sequences, out / "reference_videos")
    print(summary_text(run_extraction(str(manifest), str(store_path), workers=workers)))
    return store_path


def score_demo(out: Path, reference_store: Path, extracted_path: Path, sequences) -> bool:
    """Step 9: fit on the reference store, score good and faulty executions, draw them. True when
    the faults show and the sagging push-up's hips are among its worst joints.

    Knees caving hardly moves a whole squat's score (it shows only near the bottom; measured in
    ``benchmarks/scoring.py``), so the squats are judged by their knees' scores; sagging hips
    pull the whole push-up down, so the push-ups are judged by their form scores and by where
    the blame falls.
    """
    from posegraph.data import SkeletonStore
    from posegraph.data.synthetic import generate_sequence, make_subjects, render_corpus
    from posegraph.app.video_commands import score_video
    from posegraph.scoring.score_report import fit_reference, fit_summary

    subjects = sorted({sequence.subject for sequence in sequences})
    held_out = subjects[-1]
    print(f"\n   form scoring: subject {held_out}'s rendered good squat and push-up against the same videos "
          f"rendered with a fault")
    person = next(s for s in make_subjects(DEMO_VIDEO_SUBJECTS, seed=DEMO_VIDEO_SEED) if s.name == held_out)
    extracted = SkeletonStore(extracted_path)
    pictures = out / "scores"
    ok = True
    for exercise, fault in DEMO_FAULTS:
        reference_path = out / "references" / f"{exercise}.json"
        print(f"\n$ posegraph scoring fit --store {reference_store} --exercise {exercise} --out {reference_path}")
        print(fit_summary(fit_reference(reference_store, exercise, reference_path), reference_path))
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
            blamed = [worst.joint for worst in faulty_report.result.worst_joints]
            separated = gap >= SAGGING_MARGIN and any(joint.endswith("_hip") for joint in blamed)
            print(f"\n   push-up: good {good_report.result.mean_score:.1f}, hips sagging "
                  f"{faulty_report.result.mean_score:.1f} ({gap:.1f} points lower; at least "
                  f"{SAGGING_MARGIN:.0f} expected); blamed first: {', '.join(blamed)} (a hip expected)")
        ok &= separated
    print_queries(extracted, (SCORE_QUERY,), extracted_path)
    print(f"\npictures (joints red = 0 to green = 100, grey = no score): {pictures}/")
    return ok


def analyse_demo(out: Path, reference_store: Path, run_dir: Path, extracted_path: Path, rendered: Path) -> None:
    """Step 12: an analysis bundle from the BiLSTM and the reference store, then ``posegraph analyse``
    on a rendered video of the held-out subject and on a real clip when present, with HTML reports."""
    from posegraph.data import SkeletonStore
    from posegraph.data.sources import resolve_source
    from posegraph.app.analysis import Analyser, analyse, analysis_text
    from posegraph.app.analysis_bundle import build_bundle
    from posegraph.scoring.analysis_html import write_analysis_outputs

    bundle_dir = out / "bundle"
    print(f"\n== 12. the whole answer per video: posegraph bundle build --classifier {run_dir} --store {reference_store} "
          f"--split all --out {bundle_dir}")
    build_bundle(run_dir, reference_store, bundle_dir, split=None, log=lambda line: print(f"  {line}"))
    analyser = Analyser.load(bundle_dir)
    clip = REAL_SQUAT
    extracted = SkeletonStore(extracted_path)
    for video in [rendered] + ([clip] if clip.exists() else []):
        print(f"\n$ posegraph analyse {video} --bundle {bundle_dir} --out {out / 'analysis'} --video-format none")
        if video == clip:
            print("   (a real squat: this bundle's classifier has seen only drawn figures, and its 12 validation "
                  "videos are too few to calibrate 'none of these', so expect a wrong answer; see "
                  "benchmarks/README.md, crosssource.py, for models trained on real skeletons)")
        source = resolve_source(video, extracted)
        report, _ = analyse(analyser, source, str(video))
        print(analysis_text(report))
        print(f"report: {write_analysis_outputs(report, out / 'analysis', str(video))['html']}")
