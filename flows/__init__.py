"""Prefect flows and the `posegraph` command line; the only package that imports Prefect."""

import os

# No telemetry from Prefect's temporary server: this machine has no internet, and every
# attempt logs an error.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
