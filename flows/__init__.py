"""Prefect flows and the `posegraph` command line; the only package that imports Prefect."""
