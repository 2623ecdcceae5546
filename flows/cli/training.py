"""Commands for ML engineers: train, evaluate, classify."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_video_arguments, check_before_flow
from .common import open_store as _store


def _print_counting(counting: dict | None) -> None:
    """A phase run's repetition counts: RepCount's MAE and OBO, overall and per exercise."""
    if not counting:
        return

    def line(values: dict) -> str:
        mae = "-" if values["mae"] is None else format(values["mae"], ".3f")
        return f"MAE {mae}, OBO {values['obo']:.3f}, mean error {values['mae_repetitions']:.2f} repetitions " \
               f"({values['videos']} videos)"

    print(f"counts: {line(counting)}")
    for name, values in counting["per_exercise"].items():
        print(f"  {name}: {line(values)}")


def _print_metrics(metrics: dict, paths: dict) -> None:
    from posegraph.gcn.evaluation import format_headline

    if metrics.get("evaluated_on"):
        print(metrics["evaluated_on"])
    if "top1_accuracy" in metrics:
        print(format_headline(metrics))
        print("per-class F1: " + ", ".join(f"{name} {score:.2f}" for name, score in metrics["per_class_f1"].items()))
        bands = metrics.get("confidence_bands", {})
        print("accuracy by confidence: " + ", ".join(
            f"{band} {'-' if v['accuracy'] is None else format(v['accuracy'], '.2f')} ({v['count']})" for band, v in bands.items()))
    _print_muscles(metrics.get("muscles"), "muscle groups")
    _print_counting(metrics.get("counting"))
    unseen = metrics.get("muscles_unseen_exercises")
    if unseen:
        _print_muscles(unseen, f"muscle groups of exercises never trained on ({', '.join(unseen['exercises'])}, "
                               f"{unseen['samples']} videos)")
    for name, path in paths.items():
        print(f"{name}: {path}")


def _print_muscles(muscles: dict | None, title: str) -> None:
    from posegraph.gcn.evaluation import format_muscle_headline

    if not muscles:
        return
    print(f"{title}: {format_muscle_headline(muscles)}")
    print("per-group F1: " + ", ".join(f"{group} {'-' if v['f1'] is None else format(v['f1'], '.2f')}"
                                        for group, v in muscles["per_group"].items()))


def command_train(arguments: argparse.Namespace) -> int:
    import os

    from posegraph.gcn.config import load_config

    if arguments.resume:
        from posegraph.gcn.checkpoint import load_checkpoint

        config = load_checkpoint(Path(arguments.resume) / "last.pt").config
        run_dir = arguments.resume
    else:
        from posegraph.gcn.checkpoint import checkpoint_file

        init = str(checkpoint_file(arguments.init)) if arguments.init else None  # a run folder: its best.pt
        config = load_config(arguments.config, arguments.set, model=arguments.model, init=init,
                             finetune=arguments.finetune, muscle_table=arguments.muscle_table)
        if arguments.muscle_table and config.muscles == "none":  # a table given means muscles wanted
            from posegraph.gcn.config import replace

            config = replace(config, muscles="joint")
        from posegraph.flows.training import default_run_dir

        run_dir = arguments.run_dir or default_run_dir(config)
    check_before_flow(arguments.store, muscle_table=config.muscle_table if config.muscles != "none" else None,
                      init=config.init if not arguments.resume else None)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under torchrun: plain training, no Prefect server per process
        from posegraph.gcn.training import train

        train(config, arguments.store, run_dir, resume=bool(arguments.resume), progress=False)
        return 0
    from posegraph.flows.training import train_and_evaluate

    result = train_and_evaluate(config, arguments.store, run_dir, resume=bool(arguments.resume),
                                progress=not arguments.quiet, split=arguments.split)
    print(f"run {result['run_dir']}: best validation accuracy {result['best_val_accuracy']:.3f} "
          f"at epoch {result['best_epoch']}")
    _print_metrics(result["metrics"], result["paths"])
    return 0


def command_evaluate(arguments: argparse.Namespace) -> int:
    from posegraph.flows.training import evaluate_flow

    check_before_flow(arguments.store, [arguments.run_dir])
    result = evaluate_flow(arguments.run_dir, arguments.store, arguments.split)
    if "report" in result:  # a saved ensemble
        from posegraph.flows.training import print_report

        print_report(result["report"], result["paths"])
        return 0
    _print_metrics(result["metrics"], result["paths"])
    return 0


def command_calibrate(arguments: argparse.Namespace) -> int:
    from posegraph.gcn.inference import calibrate_run

    calibrate_run(arguments.run_dir, _store(arguments.store).root)
    return 0


def command_classify(arguments: argparse.Namespace) -> int:
    """Classify each given video (file or stored id) with any classifier: a run folder, a
    checkpoint, a saved ensemble, an ONNX export (torch never imported) or an analysis bundle."""
    from posegraph.app.classifiers import open_classifier

    classifier = open_classifier(arguments.checkpoint, arguments.runtime)
    if not arguments.json and arguments.reject and classifier.heads.class_names and not classifier.calibrated \
            and classifier.heads.exercise_count:
        print(f"note: {arguments.checkpoint} has no calibrated rejection (trained before it existed), so every "
              "video gets one of its classes; `posegraph calibrate RUN_DIR --store STORE` adds it")
    for video in arguments.video:
        sequence = _load_video(video, arguments, classifier.num_persons)
        answer = classifier.answer(sequence, arguments.top_k, reject=arguments.reject)
        _show_answer(video, classifier.name, answer, classifier.frames_that_mattered(sequence), arguments)
    return 0


def _load_video(video: str, arguments: argparse.Namespace, persons: int):
    """A video file's BlazePose skeleton, a stored video's (by id or id prefix) or a landmarks file's,
    as the models read it (its first ``persons`` people)."""
    from posegraph.data.sources import resolve_source

    store = _store(arguments.store) if arguments.store else None
    return resolve_source(video, store, persons=persons, landmarks_fps=arguments.fps)


def _show_answer(video: str, model_name: str, answer, attention, arguments: argparse.Namespace) -> None:
    import json

    if arguments.json:
        result = {"video": video, "model": model_name, "answer": answer.answer, "rejected": answer.rejected,
                  "threshold": answer.threshold,
                  "predictions": [{"class": name, "probability": round(p, 6)} for name, p in answer.ranking]}
        if answer.muscles:
            worked = set(answer.muscles_worked)
            result["muscle_groups"] = [{"group": group, "probability": round(p, 6), "worked": group in worked}
                                       for group, p in answer.muscles]
        if attention is not None:
            result["frame_importance"] = [{"time_s": round(float(t), 4), "weight": round(float(w), 6)}
                                          for t, w in zip(*attention)]
        print(json.dumps(result))
        return
    if len(arguments.video) > 1:
        print(f"== {video}")
    if answer.rejected:
        print(f"none of these: the top class is below the calibrated threshold of {answer.threshold:.0%} "
              "(far from every class the model knows; --no-reject to force an answer)")
    for name, probability in answer.ranking:
        print(f"{probability:7.2%}  {name}")
    if answer.muscles:
        print("muscle groups worked: " + (", ".join(answer.muscles_worked) or "none above 50%"))
        print("  " + ", ".join(f"{group} {probability:.0%}" for group, probability in answer.muscles))
    if attention is not None:
        times, weights = attention
        top = sorted(times[weights.argsort()[::-1][:3]])
        print("frames that mattered most (BiLSTM attention): " + ", ".join(f"{t:.2f} s" for t in top))


def register(commands: argparse._SubParsersAction) -> None:
    trainer = commands.add_parser("train", help="train a classifier (stgcn, msg3d, bilstm) on a store, then evaluate it (Prefect flow)")
    trainer.add_argument("--model", choices=("stgcn", "msg3d", "bilstm"), help="overrides the config's model")
    trainer.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    trainer.add_argument("--config", help="YAML config (see configs/)")
    trainer.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    trainer.add_argument("--run-dir", help="where checkpoints and reports go (default runs/MODEL-TIME)")
    trainer.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped run exactly where it was")
    trainer.add_argument("--init", metavar="CHECKPOINT",
                         help="start from a checkpoint or run folder (transfer learning)")
    trainer.add_argument("--finetune", help="with --init: head, last:K or all (default all)")
    trainer.add_argument("--muscle-table", metavar="YAML", help="your own table of exercises and the muscle groups "
                         "they work (replaces the built-in one; implies --set muscles=joint unless set)")
    trainer.add_argument("--split", default="test", help="split evaluated at the end (default test)")
    trainer.add_argument("--quiet", action="store_true", help="no progress bar")
    trainer.set_defaults(run=command_train)

    evaluator = commands.add_parser("evaluate", help="evaluate a run's best checkpoint (or a saved ensemble) on a split")
    evaluator.add_argument("run_dir", help="a training run folder (its best.pt is evaluated) or an ENSEMBLE.yaml")
    evaluator.add_argument("--store", required=True, help="any store: its videos of --split (all, if it records no splits), classes matched by name")
    evaluator.add_argument("--split", default="test", help="which split (default test)")
    evaluator.set_defaults(run=command_evaluate)

    calibrate = commands.add_parser("calibrate", help="fit a run's calibrated 'none of these' on its validation "
                                                      "split (done after training; for older runs)")
    calibrate.add_argument("run_dir", help="a training run folder (its best.pt is calibrated)")
    calibrate.add_argument("--store", required=True, help="the store the run was trained on (its validation split)")
    calibrate.set_defaults(run=command_calibrate)

    classify = commands.add_parser("classify", help="top-k exercise classes of video files or stored video ids, "
                                                    "or 'none of these'")
    add_video_arguments(classify, many=True)
    classify.add_argument("--checkpoint", required=True,
                          help="any classifier: a checkpoint (RUN/best.pt, or the run folder RUN), a saved ensemble "
                               "(ENSEMBLE.yaml from posegraph ensemble --out), an ONNX export folder, or an "
                               "analysis bundle (its classifier)")
    classify.add_argument("--runtime", default="torch", choices=("torch", "onnx"),
                          help="onnx: --checkpoint is an export folder (posegraph export), run with onnxruntime "
                               "without torch")
    classify.add_argument("--top-k", type=int, default=5, help="how many classes to list (default 5)")
    classify.add_argument("--json", action="store_true", help="one JSON object per video")
    classify.add_argument("--no-reject", dest="reject", action="store_false",
                          help="always answer one of the classes (no calibrated 'none of these')")
    classify.set_defaults(run=command_classify)
