"""``--fail-on`` rules over a :class:`~.quality.StoreReport`, for CI and cron: each rule either holds
or fails with what it found.

Rules (written as on the command line):

- ``subjects-across-splits``: a subject (``group``) has videos in more than one split;
- ``duplicates``: the same content is stored more than once (same bytes, or the same skeleton);
- ``class-imbalance>R``: the largest class has more than R times the videos of the smallest;
- ``failed>S``: more than S of the videos failed or were rejected (S a share, ``5%``, or a count, ``10``);
- ``MEASURE<V[:S]`` / ``MEASURE>V[:S]``: more than S of the stored videos (default: any) have the
  measure below / above V. Measures: ``detection-rate``, ``mean-visibility``, ``interpolated``,
  ``fps``, ``short-side`` (px), ``duration`` (s). Example: ``detection-rate<0.5:5%``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .quality import MEASURES, STORED, StoreReport

_MEASURE_NAMES = {name.replace("_", "-"): name for name, _, _ in MEASURES}
_THRESHOLD = re.compile(r"^(?P<measure>[a-z-]+)(?P<op>[<>])(?P<value>-?[\d.]+)(:(?P<share>[\d.]+%?))?$")


class RuleError(ValueError):
    """A ``--fail-on`` rule that cannot be read."""


@dataclass(frozen=True)
class RuleResult:
    rule: str
    failed: bool
    detail: str


def _share(text: str, total: int, rule: str) -> float:
    """A share (``5%``) or a count (``10``) as a number of videos."""
    try:
        return float(text[:-1]) / 100 * total if text.endswith("%") else float(text)
    except ValueError:
        raise RuleError(f"--fail-on {rule!r}: {text!r} is not a share (5%) or a count (10)") from None


def check_rule(report: StoreReport, rule: str) -> RuleResult:
    """Whether ``rule`` fails on ``report``; :class:`RuleError` names the rules when it cannot be read."""
    text = rule.strip().lower()
    if text == "subjects-across-splits":
        found = report.subjects_across_splits
        return RuleResult(rule, bool(found), f"{len(found)} subjects in more than one split"
                          + (": " + ", ".join(f"{item.subject} ({'/'.join(item.splits)})" for item in found[:5])
                             if found else ""))
    if text == "duplicates":
        found = report.duplicates
        return RuleResult(rule, bool(found), f"{len(found)} groups of duplicate content"
                          + (": " + "; ".join(f"{item.kind}: {', '.join(item.video_ids)[:80]}" for item in found[:3])
                             if found else ""))
    if text.startswith("class-imbalance>"):
        limit = _number(text.split(">", 1)[1], rule)
        ratio = report.class_imbalance
        return RuleResult(rule, ratio is not None and ratio > limit,
                          f"largest class / smallest = {ratio:.1f}" if ratio is not None else "fewer than 2 classes")
    if text.startswith("failed>"):
        failed = report.videos - sum(count for status, count in report.by_status if status == "ok")
        limit = _share(text.split(">", 1)[1], report.videos, rule)
        return RuleResult(rule, failed > limit, f"{failed} of {report.videos} videos failed or were rejected")
    match = _THRESHOLD.match(text)
    if not match or match["measure"] not in _MEASURE_NAMES:
        raise RuleError(f"--fail-on {rule!r}: not a rule; use subjects-across-splits, duplicates, "
                        f"class-imbalance>R, failed>S, or MEASURE<V[:S] / MEASURE>V[:S] with MEASURE one of "
                        f"{', '.join(_MEASURE_NAMES)} (e.g. detection-rate<0.5:5%)")
    name, value = _MEASURE_NAMES[match["measure"]], _number(match["value"], rule)
    values = report.video_values.get(name, {})
    beyond = sorted(video for video, measured in values.items()
                    if (measured < value if match["op"] == "<" else measured > value))
    stored = sum(count for status, count in report.by_status if status in STORED)
    limit = _share(match["share"], stored, rule) if match["share"] else 0
    return RuleResult(rule, len(beyond) > limit,
                      f"{len(beyond)} of {len(values)} stored videos have {match['measure']} {match['op']} {value:g}"
                      + (f" (allowed: {match['share']})" if match["share"] else "")
                      + (": " + ", ".join(video[:12] for video in beyond[:5]) if beyond else ""))


def _number(text: str, rule: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise RuleError(f"--fail-on {rule!r}: {text!r} is not a number") from None


def check_rules(report: StoreReport, rules: list[str]) -> list[RuleResult]:
    """Every rule's result."""
    return [check_rule(report, rule) for rule in rules]


def validate_rules(rules: list[str]) -> None:
    """:class:`RuleError` for the first rule that cannot be read (before the store is scanned)."""
    empty = StoreReport(store="", generated_at="", videos=0, by_status=(), by_label=(), by_split=(), by_subject=(),
                        label_by_split={}, subjects_across_splits=(), distributions=(), joint_visibility=(),
                        duplicates=(), class_imbalance=None, smallest_classes=(), failures=())
    for rule in rules:
        check_rule(empty, rule)
