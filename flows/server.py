"""One Prefect API for the whole run.

Without ``PREFECT_API_URL``, Prefect starts a temporary local server per *process*. Worker
processes spawned by the process-pool task runner would each start their own (seconds of CPU
each, on the cores meant for extraction). Starting the temporary server once in the parent
and exporting its address makes the workers report to it instead.
"""

from __future__ import annotations

import os


def share_temporary_server() -> str | None:
    """Start (once) the temporary server and export its URL for child processes.

    Does nothing when an API URL is already configured (a real Prefect server or Cloud).
    Returns the URL in use, or None when Prefect is configured otherwise.
    """
    from prefect.settings import get_current_settings

    if os.environ.get("PREFECT_API_URL") or get_current_settings().api.url:
        return os.environ.get("PREFECT_API_URL") or get_current_settings().api.url
    from prefect.server.api.server import SubprocessASGIServer

    from posegraph.flows.lifeline import tie_children_to_this_process

    tie_children_to_this_process()  # before the start, not after: a kill -9 during it must stop the server too
    server = SubprocessASGIServer()  # the same singleton Prefect's own client would start
    if not server.running:
        server.start()
    os.environ["PREFECT_API_URL"] = server.api_url
    return server.api_url
