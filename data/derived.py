"""One small spec per derived table: what identifies a write, how rows are checked and converted,
and which stored rows a write replaces. :meth:`SkeletonStore._write_derived` is the one write path
that follows them (features, scores, repetitions, analyses and their repetitions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ..skeleton import get_layout
from .arrow import (analyses_table, analysis_repetitions_table, check_analysis_rows, check_feature_rows,
                    check_repetition_rows, check_score_rows, features_table, repetitions_table, scores_table,
                    variable_lists)
from .schema import FEATURE_KEYS, features_schema, scores_schema


@dataclass(frozen=True)
class DerivedTable:
    """How one derived table is written.

    ``key``: the row attributes that identify one write (a later item with the same key replaces
    an earlier one in the same call); ``replaces``: the attributes besides ``video_id`` and
    ``layout`` that select the stored rows a write replaces (scores keep other references' rows);
    ``check`` raises ``ValueError`` saying what is wrong with an item; ``table_of`` converts it.
    """

    name: str
    key: tuple[str, ...]
    check: Callable[[Any], None]
    table_of: Callable[[Any], pa.Table]
    replaces: tuple[str, ...] = ()

    def key_of(self, rows: Any) -> tuple:
        return tuple(getattr(rows, attribute) for attribute in self.key)

    def replaced_keys(self, items: Sequence[Any]) -> list[dict[str, str]]:
        """Per item, the ``replaces`` columns and their values (empty when a video's rows all go)."""
        if not self.replaces:
            return []
        return [{"video_id": item.video_id, **{column: getattr(item, column) for column in self.replaces}}
                for item in items]


def features_table_spec(names: Sequence[str]) -> DerivedTable:
    """The features table for feature columns ``names`` (the caller's; storage does not know them)."""
    schema = features_schema(names)
    return DerivedTable("features", ("video_id", "layout"),
                        lambda rows: check_feature_rows(rows, len(schema) - len(FEATURE_KEYS)),
                        lambda rows: features_table(rows, schema))


SCORES = DerivedTable(
    "scores", ("video_id", "layout", "reference", "method"), check_score_rows,
    lambda rows: variable_lists(scores_table(rows, scores_schema(rows.layout, get_layout(rows.layout).num_joints))),
    replaces=("reference", "method"))

REPETITIONS = DerivedTable("repetitions", ("video_id", "layout"), check_repetition_rows, repetitions_table)

ANALYSES = DerivedTable("analyses", ("video_id", "layout"), check_analysis_rows, analyses_table)
ANALYSIS_REPETITIONS = DerivedTable("analysis_repetitions", ("video_id", "layout"), check_analysis_rows,
                                    analysis_repetitions_table)
