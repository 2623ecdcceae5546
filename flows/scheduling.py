"""Serving the extraction flow as a Prefect deployment on a cron schedule.

Every scheduled run scans the source again; videos already in the store with the same
content hash and settings are skipped, so a run only extracts new or changed files.
"""

from __future__ import annotations

from dataclasses import asdict

from posegraph.data.corpus_extraction import ExtractionOptions
from posegraph.flows.extraction import extract_corpus, task_runner


def extraction_deployment(source: str, store: str, options: ExtractionOptions, cron: str,
                          name: str = "nightly-extraction", workers: int | None = None,
                          dask_address: str | None = None, dask_workers: int | None = None):
    """The deployment (not yet served): the flow, its parameters and its schedule."""
    configured = extract_corpus.with_options(task_runner=task_runner(workers, dask_address, options, dask_workers))
    return configured.to_deployment(
        name=name, cron=cron,
        parameters={"source": source, "store": store, "options": asdict(options)},
        description=f"Extract new or changed videos under {source} into {store}.")


def serve_extraction(source: str, store: str, options: ExtractionOptions, cron: str,
                     name: str = "nightly-extraction", workers: int | None = None,
                     dask_address: str | None = None, dask_workers: int | None = None) -> None:
    """Serve the deployment until interrupted (Ctrl-C)."""
    from prefect import serve

    print(f"serving '{name}' on schedule '{cron}': {source} -> {store} (Ctrl-C to stop)")
    serve(extraction_deployment(source, store, options, cron, name, workers, dask_address, dask_workers))
