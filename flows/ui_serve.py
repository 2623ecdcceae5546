"""Serves the corpus browser (``python -m posegraph.flows.ui_serve run APP ...``, what ``posegraph
ui`` starts): Streamlit's own command line, with the app's libraries imported first. Streamlit
imports an app's modules when the first browser connects; importing them here, while the server
starts, takes that second off the first page (measured in ``benchmarks/ui.py``)."""

from __future__ import annotations

import sys

import altair  # noqa: F401
import pandas  # noqa: F401

import posegraph.data.browse  # noqa: F401
import posegraph.data.quality  # noqa: F401
import posegraph.scoring.video_timeline  # noqa: F401

if __name__ == "__main__":
    from streamlit.web.cli import main

    sys.exit(main())
