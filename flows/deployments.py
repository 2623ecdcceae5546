"""``posegraph deploy``: a flow registered as a deployment on a Prefect work pool, so it can be
started from the Prefect UI or ``prefect deployment run`` and run on any worker of that pool.

The pool is created (type ``process``) when it does not exist, with ``pool_concurrency`` runs at
a time across its workers when given (one GPU training at a time: ``--pool-concurrency 1``); a
deployment's own ``concurrency`` limits its runs too. The deployment's entry point is the flow's
module path (``posegraph.flows.training.train_flow``): a worker runs it with the posegraph
installed on its machine, no code is copied. ``posegraph serve`` (a schedule on one machine)
stays.
"""

from __future__ import annotations

DEPLOYABLE = {
    "extract": ("posegraph.flows.extraction", "extract_corpus", ("source", "store")),
    "train": ("posegraph.flows.training", "train_flow", ("store", "run_dir")),
    "analyse": ("posegraph.flows.analysing", "analyse_store", ("store", "bundle")),
}


def ensure_pool(pool: str, pool_concurrency: int | None = None) -> str:
    """The work pool ``pool``, created as a process pool when missing; returns what was done."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate, WorkPoolUpdate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            existing = client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process", concurrency_limit=pool_concurrency))
            return f"created process work pool {pool!r}" + (
                f" ({pool_concurrency} run(s) at a time)" if pool_concurrency else "")
        if pool_concurrency is not None and existing.concurrency_limit != pool_concurrency:
            client.update_work_pool(pool, WorkPoolUpdate(concurrency_limit=pool_concurrency))
            return f"work pool {pool!r}: {pool_concurrency} run(s) at a time"
        return f"work pool {pool!r} ({existing.type})"


def deploy_flow(kind: str, pool: str, parameters: dict, name: str | None = None, cron: str | None = None,
                concurrency: int | None = None, pool_concurrency: int | None = None) -> tuple[str, str]:
    """Register ``kind`` (extract, train, analyse) on ``pool``; returns ``(full name, pool note)``."""
    import importlib

    from prefect.deployments.runner import EntrypointType

    if kind not in DEPLOYABLE:
        raise ValueError(f"{kind!r}: deployable flows are {', '.join(DEPLOYABLE)}")
    module, function, required = DEPLOYABLE[kind]
    missing = [key for key in required if key not in parameters]
    if missing:
        raise ValueError(f"deploy {kind} needs --param {' --param '.join(f'{key}=...' for key in missing)}")
    note = ensure_pool(pool, pool_concurrency)
    flow = getattr(importlib.import_module(module), function)
    name = name or f"{kind}-{pool}"
    flow.deploy(name=name, work_pool_name=pool, cron=cron, parameters=parameters, concurrency_limit=concurrency,
                build=False, push=False, entrypoint_type=EntrypointType.MODULE_PATH, print_next_steps=False,
                description=f"posegraph {kind} ({module}.{function})")
    return f"{flow.name}/{name}", note
