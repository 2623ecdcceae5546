"""Flow: a store's data-quality report (``posegraph store report --flow``), published as a Prefect
Markdown artifact (key ``store-report``) so a scheduled run leaves the report in the UI, and as
HTML where asked. The work is :mod:`posegraph.data.quality`'s."""

from __future__ import annotations

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from posegraph.data import SkeletonStore
from posegraph.data.quality import StoreReport, profile_store
from posegraph.data.quality_render import report_markdown, write_report_html
from posegraph.data.quality_rules import RuleResult, check_rules


@task(name="profile-store", cache_policy=NO_CACHE)
def profile_task(store: str) -> StoreReport:
    return profile_store(SkeletonStore(store, create=False))


@flow(name="store-report")
def store_report_flow(store: str, rules: list[str] | None = None,
                      html: str | None = None) -> tuple[StoreReport, list[RuleResult]]:
    """Profile ``store``, check ``rules``, publish the Markdown as an artifact (and write ``html``)."""
    report = profile_task(store)
    results = check_rules(report, list(rules or []))
    create_markdown_artifact(key="store-report", markdown=report_markdown(report, results),
                             description=f"data quality of {store}")
    if html:
        write_report_html(report, html, results)
    return report, results
