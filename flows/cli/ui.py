"""``posegraph ui``: the corpus browser (analysts, data engineers), a Streamlit app over one store
(``posegraph/flows/ui_app.py``) served on this machine."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from .common import open_store


def ui_command_line(store: str, port: int, address: str) -> list[str]:
    """The ``streamlit run`` command that serves the app (headless, no usage statistics sent)."""
    app = Path(__file__).resolve().parents[1] / "ui_app.py"
    return [sys.executable, "-m", "posegraph.flows.ui_serve", "run", str(app), "--server.headless", "true",
            "--server.port", str(port), "--server.address", address, "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]


def command_ui(arguments: argparse.Namespace) -> int:
    open_store(arguments.store)  # a wrong path is one line here, not an error page later
    for folder in arguments.runs:
        if not Path(folder).is_dir():
            raise ValueError(f"--runs {folder}: no such folder (give a run folder or a folder of run folders)")
    environment = {**os.environ, "POSEGRAPH_UI_STORE": str(arguments.store),
                   "POSEGRAPH_UI_RUNS": os.pathsep.join(str(Path(folder).resolve()) for folder in arguments.runs)}
    print(f"posegraph ui: the corpus browser of {arguments.store} at http://{arguments.address}:{arguments.port} "
          f"(Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(ui_command_line(str(arguments.store), arguments.port, arguments.address),
                               env=environment)
    except KeyboardInterrupt:
        return 0


def register(commands: argparse._SubParsersAction) -> None:
    ui = commands.add_parser("ui", help="the corpus browser: videos, one video's overlay and charts, SQL, runs "
                                        "(a local web app)")
    ui.add_argument("--store", required=True, help="skeleton store folder (or object-storage URI)")
    ui.add_argument("--runs", action="append", default=[], metavar="FOLDER",
                    help="run folders to show (a run, or a folder of runs); repeatable")
    ui.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    ui.add_argument("--address", default="127.0.0.1",
                    help="address to serve on (default 127.0.0.1: this machine only; 0.0.0.0 for others)")
    ui.set_defaults(run=command_ui)
