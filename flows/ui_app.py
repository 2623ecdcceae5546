"""The corpus browser: a Streamlit app over one store (``posegraph ui --store S``).

Pages: **Videos** (the table with filters, failure reasons, videos per label and the detection
rates), **Video** (the overlay played in the page, the chosen features, form scores, counted
repetitions and phases on one time axis, a cursor that follows the player's start time),
**SQL** (``posegraph query``'s read-only, bounded path: same refusals, limits and errors; a table,
a chart and a CSV download), **Runs & analyses** (``posegraph analyse`` results in the store,
and the run folders given with ``--runs``: classes, metrics, confusion matrices) and **Data
quality** (``posegraph store report``).

Everything comes from the plain functions of ``posegraph.data`` (browse, query, quality),
``posegraph.scoring.video_timeline`` and ``posegraph.gcn.run_summary``; this file only lays them
out. The store path arrives in ``POSEGRAPH_UI_STORE`` (``posegraph ui`` sets it; run folders in
``POSEGRAPH_UI_RUNS``, separated by ``os.pathsep``). Nothing is fetched from the network.
"""

from __future__ import annotations

import os

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from posegraph.data import SkeletonStore
from posegraph.data.browse import VideoFilter, filter_videos, overlay_video, video_table
from posegraph.data.errors import StoreError
from posegraph.data.quality import failure_reason
from posegraph.data.query import DEFAULT_MEMORY_LIMIT, DEFAULT_TIMEOUT_S, run_query

PAGES = ("Videos", "Video", "SQL", "Runs & analyses", "Data quality")
SHOWN_ROWS = 10_000  # rows of an SQL result drawn in the page; the CSV download has them all
DEFAULT_FEATURES = ("left_knee_angle", "right_knee_angle", "left_elbow_angle", "right_elbow_angle")
DEFAULT_SQL = "SELECT label, split, count(*) AS videos FROM videos GROUP BY ALL ORDER BY videos DESC"


@st.cache_resource(show_spinner=False)
def _open(path: str) -> SkeletonStore:
    return SkeletonStore(path, create=False)


@st.cache_resource(ttl=30, show_spinner="reading the videos table")
def _videos(path: str) -> tuple[pa.Table, pd.DataFrame]:
    """The videos table as Arrow (what the filters read) and as pandas (what the widgets read),
    kept for 30 s and shared, not copied, between reruns (neither is changed in place): a rerun
    used to convert the pandas frame back to Arrow to filter it."""
    table = video_table(_open(path))
    return table, table.to_pandas()


def _store_path() -> str:
    path = os.environ.get("POSEGRAPH_UI_STORE")
    if not path:
        st.error("no store given: start the browser with `posegraph ui --store STORE`")
        st.stop()
    return path


def videos_page(path: str) -> None:
    table, frame = _videos(path)
    st.subheader(f"{len(frame)} videos")
    left, middle, right = st.columns(3)

    def choices(column: str) -> list[str]:
        return sorted(str(value) for value in frame[column].dropna().unique())

    labels = left.multiselect("label", choices("label"), key="f_label")
    splits = left.multiselect("split", choices("split"), key="f_split")
    statuses = middle.multiselect("status", choices("status"), key="f_status")
    subjects = middle.multiselect("subject", choices("subject"), key="f_subject")
    detection = right.slider("detection rate", 0.0, 1.0, (0.0, 1.0), 0.05, key="f_detection")
    longest = float(frame["duration_s"].max()) if frame["duration_s"].notna().any() else 0.0
    duration = right.slider("duration (s)", 0.0, max(longest, 1.0), (0.0, max(longest, 1.0)), key="f_duration")
    text = st.text_input("video id or path contains", key="f_text")
    chosen = VideoFilter(tuple(labels), tuple(splits), tuple(statuses), tuple(subjects),
                         (detection[0] if detection[0] > 0 else None, detection[1] if detection[1] < 1 else None),
                         (duration[0] if duration[0] > 0 else None, duration[1] if duration[1] < longest else None),
                         text)
    shown = filter_videos(table, chosen).to_pandas()
    st.caption(f"{len(shown)} of {len(frame)} videos match")
    st.dataframe(shown, width="stretch", hide_index=True, key="videos_table",
                 column_config={"detection_rate": st.column_config.ProgressColumn("detection rate", min_value=0,
                                                                                  max_value=1, format="%.2f")})
    charts = st.columns(2)
    if len(shown):
        counts = shown.fillna({"label": "(none)", "split": "(none)"}).groupby(["label", "split"]).size()
        charts[0].altair_chart(alt.Chart(counts.reset_index(name="videos")).mark_bar().encode(
            x="videos:Q", y=alt.Y("label:N", sort="-x"), color="split:N").properties(title="videos per label"),
            width="stretch")
        # binned here: the chart then carries 20 rows, not one per video (10,000 rows slowed the page)
        counts, edges = np.histogram(shown["detection_rate"].dropna(), bins=20, range=(0.0, 1.0))
        bins = pd.DataFrame({"from": edges[:-1], "to": edges[1:], "videos": counts})
        charts[1].altair_chart(alt.Chart(bins).mark_bar().encode(
            x=alt.X("from:Q", title="detection rate"), x2="to:Q", y="videos:Q").properties(title="detection rate"),
            width="stretch")
    failed = shown[shown["status"] != "ok"]
    if len(failed):
        st.markdown("**Failures by reason**")
        reasons = failed.apply(lambda row: f"{row['status']}: {failure_reason(row['reason'], row['source_path'])}",
                               axis=1)
        st.dataframe(reasons.value_counts().rename_axis("reason").reset_index(name="videos"), hide_index=True,
                     key="failures_table")
    if len(shown):
        names = _descriptions(shown)
        picked = st.selectbox("open a video", list(names), key="open_video", format_func=names.get)
        st.button("open", key="open_button", on_click=_go_to_video, args=(picked,))


def _go_to_video(video: str) -> None:
    """Before the next run draws the widgets: the page and the video are widget states."""
    st.session_state["video"] = video
    st.session_state["page"] = "Video"


def _descriptions(frame: pd.DataFrame) -> dict[str, str]:
    """Video id -> a short line naming it (made at once: a lookup per option took 12 s for 10,000)."""
    text = (frame["video_id"].str[:12] + "  " + frame["label"].fillna("") + "  " + frame["split"].fillna("") + "  "
            + frame["status"])
    return dict(zip(frame["video_id"], text))


def video_page(path: str) -> None:
    from posegraph.features import FEATURE_NAMES
    from posegraph.scoring.video_timeline import video_timeline

    _, frame = _videos(path)
    stored = frame[frame["status"].isin(["ok", "rejected"])]
    if not len(stored):
        st.info("no stored videos")
        return
    options = stored["video_id"].tolist()
    if st.session_state.get("video") not in options:
        st.session_state["video"] = options[0]
    names = _descriptions(stored)
    video = st.selectbox("video", options, key="video", format_func=names.get)
    row = stored[stored["video_id"] == video].iloc[0]
    store = _open(path)
    timeline = video_timeline(store, video, row["layout"])
    st.caption(f"{row['label'] or 'no label'} · {row['split'] or 'no split'} · subject {row['subject'] or '-'} · "
               f"{len(timeline.times)} frames · {row['source_path'] or ''}")
    end = float(timeline.times[-1]) if len(timeline.times) else 0.0
    cursor = st.slider("time (s)", 0.0, max(end, 0.1), 0.0, 0.1, key="t")
    player, charts = st.columns([2, 3])
    with player:
        try:
            with st.spinner("drawing the skeleton over the video (once; kept in the store's cache)"):
                overlay = overlay_video(store, video, row["layout"])
            st.video(str(overlay), start_time=int(cursor))
        except (ValueError, OSError) as error:
            st.warning(f"no overlay: {error}")
    chosen = charts.multiselect("features", FEATURE_NAMES, [name for name in DEFAULT_FEATURES if name in FEATURE_NAMES],
                                key="features")
    domain = alt.Scale(domain=[0.0, max(end, 0.1)])
    rule = alt.Chart(pd.DataFrame({"t": [cursor]})).mark_rule(color="red").encode(x="t:Q")
    layers = []
    if chosen:
        series = pd.DataFrame({"time_s": timeline.times, **{name: timeline.features[name] for name in chosen}})
        layers.append(alt.Chart(series.melt("time_s", var_name="feature")).mark_line().encode(
            x=alt.X("time_s:Q", scale=domain, title="time (s)"), y="value:Q", color="feature:N").properties(
            height=180, title="features") + rule)
    if timeline.scores:
        scores = pd.concat([pd.DataFrame({"time_s": times, "score": values, "reference": name})
                            for name, (times, values) in timeline.scores.items()])
        layers.append(alt.Chart(scores).mark_line().encode(
            x=alt.X("time_s:Q", scale=domain, title="time (s)"), y=alt.Y("score:Q", scale=alt.Scale(domain=[0, 100])),
            color="reference:N").properties(height=140, title="form score") + rule)
    events = _events(timeline)
    if len(events):
        layers.append(alt.Chart(events).mark_bar(opacity=0.5).encode(
            x=alt.X("start_s:Q", scale=domain, title="time (s)"), x2="end_s:Q", y="track:N", color="what:N",
            tooltip=list(events.columns)).properties(height=90, title="repetitions and phases") + rule)
    if layers:
        charts.altair_chart(alt.vconcat(*layers).resolve_scale(x="shared"), width="stretch")
    else:
        charts.info("choose features to draw")
    if timeline.analysed_repetitions:
        st.markdown("**Repetitions (posegraph analyse)**")
        st.dataframe(pd.DataFrame(timeline.analysed_repetitions), hide_index=True)


def _events(timeline) -> pd.DataFrame:
    """Repetitions and phases as bars on the time axis (a counted turning point as a thin bar)."""
    rows = [{"track": "repetitions", "what": f"repetition {item['repetition']}", "start_s": item["start_s"],
             "end_s": item["end_s"]} for item in timeline.analysed_repetitions if item["start_s"] is not None]
    rows += [{"track": f"counted ({item['method']})", "what": "turning point", "start_s": item["time_s"] - 0.05,
              "end_s": item["time_s"] + 0.05} for item in timeline.repetitions if item["time_s"] is not None]
    rows += [{"track": f"phases ({item['scheme']})", "what": item["phase"], "start_s": item["start_s"],
              "end_s": item["end_s"]} for item in timeline.phases if item["start_s"] is not None]
    return pd.DataFrame(rows)


def sql_page(path: str) -> None:
    st.caption(f"read-only SELECT over the views videos, frames, joints, features, scores, repetitions, phases, "
               f"analyses, analysis_repetitions, analysis_sets (`posegraph schema --store {path}` lists the "
               f"columns); stopped after {DEFAULT_TIMEOUT_S:g} s or {DEFAULT_MEMORY_LIMIT} of memory")
    sql = st.text_area("SQL", DEFAULT_SQL, height=120, key="sql")
    if not st.button("Run", key="run_sql", type="primary"):
        return
    from posegraph.features import FEATURE_NAMES

    try:
        result = run_query(_open(path), sql, feature_columns=FEATURE_NAMES)
    except (StoreError, ValueError) as error:
        st.error(str(error))
        return
    table = result.slice(0, SHOWN_ROWS).to_pandas()
    st.caption(f"{result.num_rows} rows" + (f" (the first {SHOWN_ROWS:,} shown; the CSV has them all)"
                                            if result.num_rows > SHOWN_ROWS else ""))
    st.dataframe(table, hide_index=True, key="sql_result")
    numeric = [column for column in table.columns if pd.api.types.is_numeric_dtype(table[column])]
    if len(table.columns) >= 2 and numeric and table.columns[0] not in numeric[-1:]:
        st.bar_chart(table.head(50), x=table.columns[0], y=numeric[-1])
    st.download_button("download CSV", result.to_pandas().to_csv(index=False).encode(), "query.csv", "text/csv",
                       key="download_csv")


def runs_page(path: str) -> None:
    from posegraph.gcn.run_summary import find_runs

    analyses = run_query(_open(path), "SELECT video_id, exercise, rejected, confidence, repetition_count, mean_score, "
                                      "analysed_at FROM analyses ORDER BY analysed_at DESC").to_pandas()
    st.subheader(f"Analyses in the store ({len(analyses)})")
    if len(analyses):
        st.bar_chart(analyses["exercise"].value_counts())
        st.dataframe(analyses, hide_index=True, key="analyses_table")
    else:
        st.caption("none yet: `posegraph analyse --bundle B --store S VIDEO...` writes them")
    folders = [item for item in os.environ.get("POSEGRAPH_UI_RUNS", "").split(os.pathsep) if item]
    runs = find_runs(folders)
    st.subheader(f"Runs ({len(runs)})")
    if not runs:
        st.caption("no run folders given: start with `posegraph ui --store S --runs runs/`")
        return
    summary = pd.DataFrame([{"run": run.name, "model": run.model, "layout": run.layout, "epochs": run.epochs,
                             "best val accuracy": run.best_val_accuracy,
                             **{f"{split} top-1": metrics.get("top1_accuracy") for split, metrics in run.metrics.items()}}
                            for run in runs])
    st.dataframe(summary, hide_index=True, key="runs_table")
    run = runs[[item.name for item in runs].index(st.selectbox("run", [item.name for item in runs], key="run"))]
    if run.history:
        history = pd.DataFrame(run.history)
        curves = [column for column in ("train_accuracy", "val_accuracy") if column in history]
        if curves:
            st.line_chart(history, x="epoch" if "epoch" in history else None, y=curves)
    for split, metrics in run.metrics.items():
        if "confusion_matrix" not in metrics:
            continue
        names = metrics["class_names"]
        cells = pd.DataFrame([{"true": names[i], "predicted": names[j], "videos": count}
                              for i, line in enumerate(metrics["confusion_matrix"]) for j, count in enumerate(line)])
        st.markdown(f"**{split}**: top-1 {metrics['top1_accuracy']:.3f}, macro F1 {metrics.get('macro_f1', 0):.3f}, "
                    f"{metrics.get('samples')} videos")
        st.altair_chart(alt.Chart(cells).mark_rect().encode(x="predicted:N", y="true:N", color="videos:Q",
                                                            tooltip=["true", "predicted", "videos"]).properties(
            title=f"confusion ({split})"), width="content")


def quality_page(path: str) -> None:
    from posegraph.data.quality import profile_store
    from posegraph.data.quality_render import report_markdown

    st.caption(f"`posegraph store report {path} --html report.html` writes the same as a page with charts")
    if st.button("Profile this store", key="profile"):
        with st.spinner("scanning the store"):
            st.markdown(report_markdown(profile_store(_open(path))))


def main() -> None:
    st.set_page_config(page_title="posegraph corpus browser", layout="wide")
    path = _store_path()
    st.sidebar.title("posegraph")
    st.sidebar.caption(path)
    page = st.sidebar.radio("page", PAGES, key="page")
    try:
        {"Videos": videos_page, "Video": video_page, "SQL": sql_page, "Runs & analyses": runs_page,
         "Data quality": quality_page}[page](path)
    except StoreError as error:
        st.error(str(error))


main()
