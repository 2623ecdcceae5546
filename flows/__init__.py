"""Prefect flows and the `posegraph` command line; the only package that imports Prefect."""

import os

# No telemetry from Prefect's temporary server: this machine has no internet, and every
# attempt logs an error.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Nor from the client: Prefect otherwise prints its telemetry notice on the first import in a
# terminal, and every worker process started then printed it again. DO_NOT_TRACK=0 opts back in.
os.environ.setdefault("DO_NOT_TRACK", "1")
