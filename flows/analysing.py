"""The batch analysis flow: every stored video (or every video of a folder or manifest, extracted
first) analysed with one bundle, the results written to the store's ``analyses`` and
``analysis_repetitions`` tables (SQL views ``analyses``, ``analysis_repetitions``,
``analysis_sets``), with the extraction flow's retries, progress bar and summary.

A video that fails (after its retries) is recorded with its reason and the others go on; the run
can be repeated (``--skip-analysed`` leaves videos analysed with the same bundle alone).
"""

from __future__ import annotations

import time

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from posegraph.data import SkeletonStore

WRITE_EVERY = 25  # analyses per store commit: a crash loses at most this many


@task(name="analyse-video", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def analyse_stored_video(analyser, store_path: str, video_id: str, layout: str, out: str | None):
    """One stored video's analysis report and its store rows (raises for a video that cannot be analysed)."""
    from posegraph.data.sources import stored_source
    from posegraph.app.analysis import analyse, analysis_rows
    from posegraph.scoring.analysis_html import write_analysis_outputs

    source = stored_source(SkeletonStore(store_path, create=False), video_id, layout)
    report, _ = analyse(analyser, source, video_id)
    if out:
        write_analysis_outputs(report, out, video_id)
    return report, analysis_rows(report, source, str(analyser.bundle.root))


@flow(name="analyse-store", log_prints=True)
def analyse_store(store: str, bundle: str, out: str | None = None, skip_analysed: bool = False,
                  progress: bool = False) -> dict:
    """Analyse every ``ok`` video of ``store`` with ``bundle`` (module docstring)."""
    from posegraph.data.delta import sql_string
    from posegraph.data.query import run_query
    from posegraph.app.analysis import Analyser

    started = time.perf_counter()
    analyser = Analyser.load(bundle)
    skeletons = SkeletonStore(store, create=False)
    rows = [row for row in skeletons.videos().to_pylist() if row["status"] == "ok"]
    if skip_analysed:
        done = run_query(skeletons, "SELECT video_id, layout FROM analyses WHERE bundle = "
                                    f"{sql_string(str(analyser.bundle.root))}")
        seen = {(row["video_id"], row["layout"]) for row in done.to_pylist()}
        rows = [row for row in rows if (row["video_id"], row["layout"]) not in seen]
    bar = _progress_bar(len(rows)) if progress else None
    outcomes, pending = [], []
    for row in rows:
        try:
            report, analysis = analyse_stored_video(analyser, store, row["video_id"], row["layout"], out)
            pending.append(analysis)
            outcomes.append({"video_id": row["video_id"], "path": row["source_path"], "status": "analysed",
                             "exercise": report.exercise.answer, "count": report.count, "reason": None})
        except Exception as error:  # noqa: BLE001 - failed after retries: record it, go on
            outcomes.append({"video_id": row["video_id"], "path": row["source_path"], "status": "failed",
                             "exercise": None, "count": None, "reason": f"{type(error).__name__}: {error}"})
        if len(pending) >= WRITE_EVERY:
            skeletons.write_analyses(pending)
            pending = []
        if bar is not None:
            bar.update()
            bar.set_postfix_str(f"{outcomes[-1]['status']}: {row['video_id'][:12]}")
    if pending:
        skeletons.write_analyses(pending)
    if bar is not None:
        bar.close()
    failed = [outcome for outcome in outcomes if outcome["status"] == "failed"]
    summary = {"videos": len(outcomes), "analysed": len(outcomes) - len(failed), "failed": len(failed),
               "seconds": round(time.perf_counter() - started, 1), "outcomes": outcomes}
    text = summary_text(summary)
    create_table_artifact(key="analysis-summary", table=[{k: o[k] for k in ("path", "status", "exercise", "count",
                                                                             "reason")} for o in outcomes],
                          description=f"Analysis of {store} with {bundle}: {text}")
    print(text)
    if failed:
        return Failed(message=f"{len(failed)} of {len(outcomes)} videos could not be analysed; every other "
                              "analysis was stored", data=summary)
    return summary


def summary_text(summary: dict) -> str:
    lines = [f"{summary['analysed']} of {summary['videos']} videos analysed, {summary['failed']} failed, "
             f"in {summary['seconds']} s; SQL views: analyses, analysis_sets, analysis_repetitions"]
    lines += [f"  failed: {o['path'] or o['video_id']}: {o['reason']}" for o in summary["outcomes"]
              if o["status"] == "failed"]
    return "\n".join(lines)


def _progress_bar(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="video", desc="analyse")


def run_analysis(store: str, bundle: str, out: str | None = None, skip_analysed: bool = False,
                 progress: bool = False) -> dict:
    """Run :func:`analyse_store`; its summary even when some videos failed."""
    state = analyse_store(store, bundle, out, skip_analysed, progress, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    return {**result, "flow_state": state.name}
