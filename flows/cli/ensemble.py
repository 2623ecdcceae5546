"""``posegraph ensemble``: a weighted average of trained classifiers, evaluated beside its members."""

from __future__ import annotations

import argparse


def command_ensemble(arguments: argparse.Namespace) -> int:
    from posegraph.flows.training import ensemble_flow

    from .common import check_before_flow

    check_before_flow(arguments.store, arguments.checkpoints)
    result = ensemble_flow(arguments.checkpoints, arguments.store, arguments.split, arguments.weights,
                           arguments.search_split, arguments.out)
    if arguments.json:
        import json

        print(json.dumps(result["report"]))
    else:
        from posegraph.flows.training import print_report

        print_report(result["report"], result["paths"])
    return 0


EXAMPLES = """examples:
  posegraph ensemble --checkpoints runs/stgcn/best.pt runs/bilstm/best.pt --store corpus --out stgcn-bilstm.yaml
  posegraph ensemble --checkpoints runs/stgcn runs/msg3d --weights 0.25 0.75 --store corpus
  posegraph classify clip.mp4 --checkpoint stgcn-bilstm.yaml
  posegraph evaluate stgcn-bilstm.yaml --store other-corpus --split test"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "ensemble", help="combine trained classifiers by a weighted average of their logits; evaluate it beside "
                         "each member (Prefect flow)", epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoints", nargs="+", required=True, metavar="CHECKPOINT",
                        help="two or more checkpoints (or run folders, meaning their best.pt); classes matched by name")
    parser.add_argument("--weights", nargs="+", type=float, metavar="W",
                        help="one weight per checkpoint (scaled to sum to 1); default: searched on --search-split")
    parser.add_argument("--store", required=True, help="store whose videos evaluate (and choose the weights of) the ensemble")
    parser.add_argument("--split", default="test", help="split the ensemble is evaluated on (default test)")
    parser.add_argument("--search-split", default="val",
                        help="split the weights are chosen on: 0/100 to 100/0 in steps of 5 for two models, "
                             "steps of 10 for more (default val)")
    parser.add_argument("--out", metavar="ENSEMBLE.yaml",
                        help="save the ensemble (members, weights, how they were chosen); classify and evaluate "
                             "accept it; its metrics go beside it as NAME-metrics-SPLIT.json")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.set_defaults(run=command_ensemble)
