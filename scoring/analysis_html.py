"""The analysis (``posegraph analyse``, an :class:`~.analysis_report.AnalysisReport`) as files: one self-contained HTML page (no script,
no network, inline SVG only, so a browser opens it from disk anywhere), the JSON, and the overlay
video captioned with the counter and the cues (:func:`write_analysis_outputs`, the one writer of
``analyse --out``, ``analyse-store --out`` and the demo).

The page: the answer (exercise, confidence, muscle groups), the repetition counter, the cues, a
timeline with the sets and each repetition (coloured by its score), one bar per repetition's
score, and a joint-by-time heat map of the form scores.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from .analysis_report import AnalysisReport

WIDTH = 760


def _colour(score: float | None) -> str:
    """Red (0) through yellow (50) to green (100); grey without a score."""
    if score is None:
        return "#bbbbbb"
    value = max(0.0, min(100.0, float(score))) / 100.0
    red = int(255 * min(1.0, 2 * (1 - value)))
    green = int(200 * min(1.0, 2 * value))
    return f"#{red:02x}{green:02x}40"


def _timeline(report: AnalysisReport) -> str:
    duration = max(float(report.duration_s), 1e-6)
    scale = (WIDTH - 20) / duration
    parts = [f'<svg id="timeline" width="{WIDTH}" height="70" role="img" aria-label="timeline">',
             f'<rect x="10" y="30" width="{WIDTH - 20}" height="2" fill="#888"/>']
    for item in report.sets:
        x = 10 + item.start_s * scale
        parts.append(f'<rect x="{x:.1f}" y="8" width="{max((item.end_s - item.start_s) * scale, 1):.1f}" '
                     f'height="46" fill="#e8eefc"><title>set {item.set}: {item.count} repetitions</title></rect>')
    for rep in report.repetitions:
        x = 10 + rep.start_s * scale
        width = max((rep.end_s - rep.start_s) * scale - 1, 1)
        parts.append(f'<rect x="{x:.1f}" y="18" width="{width:.1f}" height="26" fill="{_colour(rep.score)}" '
                     f'stroke="#333" stroke-width="0.5"><title>rep {rep.repetition}: {rep.start_s:.2f}-'
                     f'{rep.end_s:.2f} s, score {rep.score}</title></rect>')
        parts.append(f'<text x="{x + width / 2:.1f}" y="36" font-size="10" text-anchor="middle">{rep.repetition}</text>')
    parts.append(f'<text x="10" y="66" font-size="10">0 s</text>'
                 f'<text x="{WIDTH - 10}" y="66" font-size="10" text-anchor="end">{duration:.1f} s</text></svg>')
    return "".join(parts)


def _score_bars(report: AnalysisReport) -> str:
    reps = report.repetitions
    if not reps:
        return "<p>No repetitions counted.</p>"
    step = min(40.0, (WIDTH - 40) / len(reps))
    parts = [f'<svg id="scores" width="{WIDTH}" height="150" role="img" aria-label="score per repetition">',
             '<line x1="30" y1="120" x2="750" y2="120" stroke="#888"/>',
             '<text x="2" y="24" font-size="10">100</text><text x="12" y="122" font-size="10">0</text>']
    for index, rep in enumerate(reps):
        height = rep.score or 0.0
        x = 34 + index * step
        parts.append(f'<rect x="{x:.1f}" y="{120 - height:.1f}" width="{step * 0.8:.1f}" height="{height:.1f}" '
                     f'fill="{_colour(rep.score)}"><title>rep {rep.repetition}: {rep.score}</title></rect>')
        parts.append(f'<text x="{x + step * 0.4:.1f}" y="134" font-size="10" text-anchor="middle">{rep.repetition}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heatmap(report: AnalysisReport) -> str:
    form = report.form
    if form is None or not form.heatmap.joints:
        return "<p>Form not judged (see the notes).</p>"
    joints, times, scores = form.heatmap.joints, form.heatmap.times_s, form.heatmap.scores
    cell_w, cell_h, left = (WIDTH - 120) / max(len(times), 1), 14, 110
    parts = [f'<svg id="heatmap" width="{WIDTH}" height="{cell_h * len(joints) + 20}" role="img" '
             'aria-label="form score per joint over time">']
    for row, (joint, values) in enumerate(zip(joints, scores)):
        y = row * cell_h
        parts.append(f'<text x="{left - 4}" y="{y + 11}" font-size="10" text-anchor="end">{html.escape(joint)}</text>')
        for column, value in enumerate(values):
            parts.append(f'<rect x="{left + column * cell_w:.1f}" y="{y}" width="{cell_w + 0.3:.1f}" '
                         f'height="{cell_h - 1}" fill="{_colour(value)}"/>')
    parts.append(f'<text x="{left}" y="{cell_h * len(joints) + 14}" font-size="10">{times[0]:.1f} s</text>'
                 f'<text x="{WIDTH - 10}" y="{cell_h * len(joints) + 14}" font-size="10" text-anchor="end">'
                 f'{times[-1]:.1f} s</text></svg>')
    return "".join(parts)


def analysis_html(report: AnalysisReport) -> str:
    """The page for one analysis (see the module docstring)."""
    exercise = report.exercise
    top_name, top_p = (exercise.closest.name, exercise.closest.probability) if exercise.closest else ("?", 0.0)
    answer = (f"none of these <small>(closest: {html.escape(top_name)}, {top_p:.0%})</small>"
              if exercise.rejected else f"{html.escape(exercise.answer)} <small>({top_p:.0%})</small>")
    worked = report.worked
    cues = "".join(f"<li>{html.escape(cue.text)}</li>" for cue in report.cues) or "<li>Nothing to fix.</li>"
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes)
    mean = report.mean_score
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>posegraph analysis: {html.escape(report.video)}</title>
<style>body{{font-family:sans-serif;margin:20px;max-width:{WIDTH + 40}px}} .counter{{font-size:48px;font-weight:bold}}
h2{{font-size:18px;margin-top:24px}} small{{color:#555}}</style></head><body>
<h1>{answer}</h1>
<p>{html.escape(report.video)} &middot; {report.duration_s:.1f} s &middot; {html.escape(report.schema)}</p>
<p class="counter" id="counter">{report.count} repetitions</p>
<p>Muscle groups worked: {html.escape(', '.join(worked)) or 'not predicted'}</p>
<p>Form: {'not judged' if mean is None else f'{mean:.0f} of 100'}</p>
<h2>What to work on</h2><ul id="cues">{cues}</ul>
<h2>Timeline</h2>{_timeline(report)}
<h2>Score per repetition</h2>{_score_bars(report)}
<h2>Form per joint over time</h2>{_heatmap(report)}
{f'<h2>Notes</h2><ul>{notes}</ul>' if notes else ''}
</body></html>
"""


def write_analysis_html(report: AnalysisReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(analysis_html(report), encoding="utf-8")
    return path


def frame_notes(report: AnalysisReport, timestamps: np.ndarray, cue_length: int = 48) -> list[str]:
    """Per frame, the counter so far and the cue of the repetition under way, for the overlay's
    captions ("reps 3/6  rep 4: right knee furthest from ...")."""
    reps = report.repetitions
    ends = np.array([rep.end_s for rep in reps])
    cue_of = {}
    for cue in report.cues:
        for number in cue.repetitions:
            cue_of.setdefault(number, cue.text)
    notes = []
    for time in np.asarray(timestamps, dtype=float):
        done = int((ends <= time + 1e-9).sum())
        current = next((rep.repetition for rep in reps if rep.start_s <= time < rep.end_s), None)
        cue = cue_of.get(current, "")
        notes.append(f"reps {done}/{len(reps)}" + (f"  {cue[:cue_length]}" if cue else ""))
    return notes


def write_analysis_outputs(report: AnalysisReport, out: str | Path, name: str, form=None, source=None,
                           video_format: str = "none") -> dict:
    """``OUT/NAME/analysis.json`` (the report with ``files``), ``report.html`` and, where form was
    judged (``form``, the video's :class:`~posegraph.scoring.FormScore`, and its ``source``) and
    ``video_format`` is ``mp4`` or ``gif``, ``overlay.<format>``. Returns the paths written
    (``json``, ``html``, ``video``). ``NAME`` is the file's stem, or a stored id's first 16 digits."""
    folder = Path(out) / (Path(name).stem if Path(name).suffix else name[:16])
    folder.mkdir(parents=True, exist_ok=True)
    files = {"json": str(folder / "analysis.json"), "html": str(write_analysis_html(report, folder / "report.html"))}
    if form is not None and source is not None and video_format != "none":
        from .score_render import render_scores

        files["video"] = str(render_scores(source, form, folder / f"overlay.{video_format}",
                                           notes=frame_notes(report, source.timestamps)))
    (folder / "analysis.json").write_text(json.dumps(report.with_files(files).to_json(), indent=1))
    return files
