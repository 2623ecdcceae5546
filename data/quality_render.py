"""A :class:`~.quality.StoreReport` as Markdown (stdout, Prefect artifact) and as one self-contained
HTML file with its charts drawn as inline SVG (no scripts, nothing fetched: it opens offline and
can be mailed)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from .quality import Distribution, StoreReport
from .quality_rules import RuleResult


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _pairs(pairs, limit: int = 15) -> str:
    shown = ", ".join(f"{name} {count}" for name, count in pairs[:limit])
    return shown + (f", ... ({len(pairs) - limit} more)" if len(pairs) > limit else "")


def problems_found(report: StoreReport) -> list[str]:
    """One line per problem the profile found (what the Markdown and the HTML list first)."""
    problems = []
    for item in report.subjects_across_splits:
        problems.append(f"subject **{item.subject}** in several splits: {', '.join(item.splits)} ({item.videos} videos)")
    for item in report.duplicates:
        problems.append(f"duplicate ({item.kind}): {', '.join(video[:12] for video in item.video_ids)} "
                        f"({'; '.join(item.paths[:3])})")
    if report.smallest_classes:
        problems.append(f"class imbalance {report.class_imbalance:.1f}x (largest / smallest); classes under half "
                        f"the median: {_pairs(report.smallest_classes)}")
    for distribution in report.distributions:
        if distribution.outlier_count:
            plural = "s" if distribution.outlier_count != 1 else ""
            problems.append(f"{distribution.outlier_count} video{plural} outside the usual {distribution.name} "
                            f"({_fmt(distribution.low_fence)} to {_fmt(distribution.high_fence)} {distribution.unit}): "
                            + ", ".join(f"{item.video_id[:12]} ({_fmt(item.value)})" for item in distribution.outliers[:5]))
    low_joints = [item for item in report.joint_visibility if item.outlier]
    if low_joints:
        problems.append("joints seen far less than the others: " + ", ".join(
            f"{item.joint} ({item.layout}, {item.mean_visibility:.2f})" for item in low_joints))
    for group in report.failures:
        problems.append(f"{group.count} x {group.reason} (e.g. {', '.join(group.examples[:2])})")
    return problems


def report_markdown(report: StoreReport, results: list[RuleResult] = ()) -> str:
    """The report as Markdown: counts, problems first, then the distributions."""
    lines = [f"# Data quality: {report.store}", "", f"{report.videos} videos ({_pairs(report.by_status)}); "
             f"generated {report.generated_at}", ""]
    if results:
        lines += ["## Rules", ""] + [f"- **{'FAILED' if item.failed else 'ok'}** `{item.rule}`: {item.detail}"
                                     for item in results] + [""]
    lines += ["## Problems", ""] + ([f"- {line}" for line in problems_found(report)] or ["none found"]) + [""]
    lines += ["## Videos", "", f"- per label: {_pairs(report.by_label)}", f"- per split: {_pairs(report.by_split)}",
              f"- per subject: {_pairs(report.by_subject)}",
              f"- class imbalance (largest / smallest): {_fmt(report.class_imbalance)}", ""]
    if report.label_by_split:
        splits = sorted({split for counts in report.label_by_split.values() for split in counts})
        lines += ["| label | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
        lines += [f"| {label} | " + " | ".join(str(counts.get(split, 0)) for split in splits) + " |"
                  for label, counts in report.label_by_split.items()] + [""]
    lines += ["## Distributions (stored videos)", "", "| measure | videos | min | q1 | median | q3 | max | outliers |",
              "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {item.name} ({item.unit}) | {item.count} | {_fmt(item.minimum)} | {_fmt(item.q1)} | "
              f"{_fmt(item.median)} | {_fmt(item.q3)} | {_fmt(item.maximum)} | {item.outlier_count} |"
              for item in report.distributions]
    return "\n".join(lines) + "\n"


def _histogram_svg(distribution: Distribution, measured: dict[str, float], bins: int = 30, width: int = 360,
                   height: int = 120) -> str:
    """A histogram of ``measured`` (video id -> value) with the fences as dashed lines."""
    if not measured:
        return "<p>no values</p>"
    values = np.fromiter(measured.values(), dtype=np.float64, count=len(measured))
    low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    scale_x = width / (high - low)
    tallest = max(int(counts.max()), 1)
    bars = "".join(
        f'<rect x="{(edges[index] - low) * scale_x:.1f}" y="{height - count / tallest * (height - 12):.1f}" '
        f'width="{max(width / bins - 1, 1):.1f}" height="{count / tallest * (height - 12):.1f}" fill="#4878a8">'
        f"<title>{_fmt(edges[index])} to {_fmt(edges[index + 1])}: {count}</title></rect>"
        for index, count in enumerate(counts) if count)
    fences = "".join(
        f'<line x1="{(fence - low) * scale_x:.1f}" x2="{(fence - low) * scale_x:.1f}" y1="0" y2="{height}" '
        f'stroke="#c0392b" stroke-dasharray="4 3"/>'
        for fence in (distribution.low_fence, distribution.high_fence) if fence is not None and low <= fence <= high)
    return (f'<svg width="{width}" height="{height + 16}" role="img" aria-label="{distribution.name}">{bars}{fences}'
            f'<text x="0" y="{height + 14}" font-size="11">{_fmt(low)}</text>'
            f'<text x="{width}" y="{height + 14}" font-size="11" text-anchor="end">{_fmt(high)}</text></svg>')


def _bars_svg(pairs, width: int = 360) -> str:
    """Horizontal bars, one per (name, count)."""
    if not pairs:
        return "<p>none</p>"
    tallest = max(count for _, count in pairs)
    rows = "".join(
        f'<text x="0" y="{index * 16 + 12}" font-size="11">{html.escape(str(name)[:24])}</text>'
        f'<rect x="150" y="{index * 16 + 2}" width="{count / tallest * (width - 190):.1f}" height="12" fill="#4878a8"/>'
        f'<text x="{155 + count / tallest * (width - 190):.1f}" y="{index * 16 + 12}" font-size="11">{count}</text>'
        for index, (name, count) in enumerate(pairs[:40]))
    return f'<svg width="{width}" height="{min(len(pairs), 40) * 16 + 4}">{rows}</svg>'


def report_html(report: StoreReport, results: list[RuleResult] = ()) -> str:
    """The report as one HTML page: the Markdown's content as a list, with charts."""
    body = [f"<h1>Data quality: {html.escape(report.store)}</h1>",
            f"<p>{report.videos} videos; generated {html.escape(report.generated_at)}</p>"]
    if results:
        body.append("<h2>Rules</h2><ul>" + "".join(
            f'<li class="{"failed" if item.failed else "ok"}"><b>{"FAILED" if item.failed else "ok"}</b> '
            f"<code>{html.escape(item.rule)}</code>: {html.escape(item.detail)}</li>" for item in results) + "</ul>")
    body.append("<h2>Problems</h2><ul>" + "".join(
        f"<li>{html.escape(line)}</li>" for line in problems_found(report) or ["none found"]) + "</ul>")
    body.append('<h2>Videos</h2><div class="charts">'
                f"<figure><figcaption>per label</figcaption>{_bars_svg(report.by_label)}</figure>"
                f"<figure><figcaption>per split</figcaption>{_bars_svg(report.by_split)}</figure>"
                f"<figure><figcaption>per status</figcaption>{_bars_svg(report.by_status)}</figure></div>")
    body.append('<h2>Distributions (stored videos; dashed: the outlier fences)</h2><div class="charts">' + "".join(
        f"<figure><figcaption>{item.name} ({html.escape(item.unit)}): median {_fmt(item.median)}, "
        f"{item.outlier_count} outliers</figcaption>{_histogram_svg(item, report.video_values.get(item.name, {}))}</figure>"
        for item in report.distributions) + "</div>")
    if report.joint_visibility:
        body.append("<h2>Visibility per joint</h2><table><tr><th>layout</th><th>joint</th><th>mean</th>"
                    "<th>frames below 0.5</th></tr>" + "".join(
                        f'<tr class="{"failed" if item.outlier else ""}"><td>{item.layout}</td><td>{item.joint}</td>'
                        f"<td>{item.mean_visibility:.2f}</td><td>{item.low_share:.0%}</td></tr>"
                        for item in report.joint_visibility) + "</table>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:1200px}.charts{display:flex;flex-wrap:wrap;gap:1.5em}"
             "figure{margin:0}figcaption{font-size:13px;margin-bottom:4px}.failed{color:#c0392b}"
             "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd}")
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>Data quality: {html.escape(report.store)}'
            f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>")


def write_report_html(report: StoreReport, path: str | Path, results: list[RuleResult] = ()) -> Path:
    """Write :func:`report_html` to ``path`` (its folder made); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(report, results), encoding="utf-8")
    return path
