"""Prefect flows and the `posegraph` command line; the only package that imports Prefect.

Flows and tasks are thin: each wraps a plain function of the package that owns the work
(``posegraph.data.corpus_extraction`` for extraction, ``posegraph.data.sources`` for reading a
video, ``posegraph.gcn`` for models), so tests and benchmarks reach the work without Prefect.
"""

import os

# No telemetry from Prefect's temporary server: this machine has no internet, and every
# attempt logs an error.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Nor from the client: Prefect otherwise prints its telemetry notice on the first import in a
# terminal, and every worker process started then printed it again. DO_NOT_TRACK=0 opts back in.
os.environ.setdefault("DO_NOT_TRACK", "1")
# Prefect waits 20 s for its temporary server by default; on a busy 2-core machine (a training run
# beside a test suite) starting it took longer and `posegraph synth` failed with "Timed out while
# attempting to connect to ephemeral Prefect API server". A dedicated server is unaffected.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
