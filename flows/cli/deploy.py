"""``posegraph deploy`` (data and ML engineers): extraction, training or analysis as a Prefect
deployment on a work pool, started from the UI or ``prefect deployment run`` and run by any worker."""

from __future__ import annotations

import argparse


def _parameters(pairs: list[str], settings: list[str]) -> dict:
    import yaml

    parameters = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--param {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        parameters[key.strip()] = yaml.safe_load(value) if value.strip() else None
    if settings:
        parameters["settings"] = list(settings)
    return parameters


def command_deploy(arguments: argparse.Namespace) -> int:
    from posegraph.flows.deployments import deploy_flow

    if arguments.settings and arguments.kind != "train":
        raise ValueError("--set applies to deploy train (the training config's KEY=VALUE)")
    full_name, note = deploy_flow(arguments.kind, arguments.pool, _parameters(arguments.param, arguments.settings),
                                  arguments.name, arguments.cron, arguments.concurrency, arguments.pool_concurrency)
    print(f"{note}; deployment {full_name!r} registered" + (f" on schedule {arguments.cron!r}" if arguments.cron else ""))
    print(f"start a worker:  prefect worker start --pool {arguments.pool}")
    print(f"run it:          prefect deployment run {full_name!r}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    deploy = commands.add_parser(
        "deploy", help="register extract, train or analyse as a Prefect deployment on a work pool",
        description="The deployment runs on any worker of the pool (prefect worker start --pool NAME), started "
                    "from the Prefect UI, `prefect deployment run`, or its --cron schedule. Needs a Prefect server "
                    "(PREFECT_API_URL). The pool is created as a process pool when missing.")
    deploy.add_argument("kind", choices=("extract", "train", "analyse"), help="which flow")
    deploy.add_argument("--pool", required=True, help="the work pool (created, type process, when missing)")
    deploy.add_argument("--name", help="the deployment's name (default KIND-POOL)")
    deploy.add_argument("--cron", help="a schedule, e.g. '0 2 * * *' (default: runs only when started)")
    deploy.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a flow parameter: extract source=, store=; train store=, run_dir=, model=, "
                             "config_file=, split=; analyse store=, bundle=, out=")
    deploy.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="train: a training config setting, as posegraph train --set")
    deploy.add_argument("--concurrency", type=int, help="runs of this deployment at a time")
    deploy.add_argument("--pool-concurrency", type=int,
                        help="runs at a time across the pool's workers (1: one GPU training at a time)")
    deploy.set_defaults(run=command_deploy)
