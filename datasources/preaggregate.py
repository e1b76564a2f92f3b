"""Aggregate before joining: the fast plan for metric queries over large fact tables.

Joining ten million fact rows to a 57-row branch table and then grouping costs several times
more in DuckDB than grouping the facts by `branch_id` first and joining the handful of
resulting rows. This module rewrites a metric query that way whenever its formula allows:

  stage 1  the fact table, filtered by predicates on its own columns, grouped by the join keys
           and own columns the rest of the query needs (plus the period bucket), computing
           partial aggregates: sum, count, min, max of each measured column;
  stage 2  stage 1 joined to the dimension relations, filtered by predicates on joined
           columns, grouped by the requested dimensions, finishing each aggregate from its
           partials (a sum of sums, a sum of counts, sum/count for a mean, a min of mins).

Count-distinct stays exact by keeping its column among the stage-1 keys. A formula whose
aggregates cannot be split this way (an aggregate of an expression, say) returns None, and
the caller uses the plain join-then-group plan; both give the same numbers (tests compare).
"""

from __future__ import annotations

import ast

from datasources.formula import (
    JOIN_SEPARATOR,
    NotDecomposable,
    aggregate_calls,
    compile_formula,
    referenced_names,
)
from datasources.relations import build_source, relation


def _partial_names(method: str, column: str) -> list[tuple[str, str]]:
    """Return (partial column, stage-1 aggregate) pairs an aggregate of `column` needs."""
    if method == "sum":
        return [(f"_p_sum_{column}", "sum")]
    if method == "count":
        return [(f"_p_cnt_{column}", "count")]
    if method == "mean":
        return [(f"_p_sum_{column}", "sum"), (f"_p_cnt_{column}", "count")]
    if method in ("min", "max"):
        return [(f"_p_{method}_{column}", method)]
    return []  # nunique: the column itself is a stage-1 key


class TwoStagePlan:
    """Collects what stage 1 must keep, then builds both stages."""

    def __init__(self, tables, joins: dict, table: str):
        self.tables = tables
        self.joins = joins
        self.table = table
        self.base = relation(tables, table)
        self.base_columns = set(self.base.columns)
        self.key_columns: set[str] = set()  # base columns kept as stage-1 keys
        self.computed_keys: dict = {}  # name -> function(table) -> expression
        self.partials: dict[str, tuple[str, str]] = {}  # name -> (column, aggregate)
        self.stage1_predicates: list = []  # functions(table) -> boolean expression
        self.aliases: set[str] = set()

    # -- collecting -------------------------------------------------------------------------
    def is_base_only(self, text: str) -> bool:
        """Return whether a formula refers to columns of the fact table only."""
        return all(
            JOIN_SEPARATOR not in n and n in self.base_columns for n in referenced_names(text)
        )

    def need_formula(self, text: str) -> None:
        """Keep every column `text` refers to: base columns as keys, joined ones via join keys."""
        for name in referenced_names(text):
            if JOIN_SEPARATOR in name:
                alias = name.split(JOIN_SEPARATOR, 1)[0]
                if alias not in self.joins or self.joins[alias].on not in self.base_columns:
                    raise NotDecomposable(alias)
                self.aliases.add(alias)
                self.key_columns.add(self.joins[alias].on)
            elif name in self.base_columns:
                self.key_columns.add(name)
            else:
                raise NotDecomposable(name)

    def add_key(self, name: str, build) -> None:
        """Keep a computed stage-1 key, `build(table)` (the period bucket, the month)."""
        self.computed_keys[name] = build

    def filter_stage1(self, build) -> None:
        """Filter the fact rows before grouping with `build(table)`."""
        self.stage1_predicates.append(build)

    def need_measure(self, text: str) -> None:
        """Register the partial aggregates a measure formula needs."""
        for method, target, where in aggregate_calls(text):
            if not isinstance(target, ast.Name) or target.id not in self.base_columns:
                raise NotDecomposable(method)
            if where is not None:
                self.need_formula(ast.unparse(where))
            if method == "nunique":
                self.key_columns.add(target.id)
            for partial, agg in _partial_names(method, target.id):
                self.partials[partial] = (target.id, agg)

    # -- building ---------------------------------------------------------------------------
    def stage1(self):
        t = self.base
        if self.stage1_predicates:
            t = t.filter([build(t) for build in self.stage1_predicates])
        keys = {name: t[name] for name in sorted(self.key_columns)}
        keys.update({name: build(t) for name, build in self.computed_keys.items()})
        partials = {name: getattr(t[col], agg)() for name, (col, agg) in self.partials.items()}
        return t.group_by(**keys).aggregate(**(partials or {"_p_rows": t.count()}))

    def stage2_source(self):
        return build_source(self.tables, self.joins, self.table, self.aliases, base=self.stage1())

    def finish(self, source, text: str):
        """Compile the measure over stage 2, finishing each aggregate from its partials."""

        def column(name: str):
            if name not in source.columns:
                raise NotDecomposable(name)
            return source[name]

        def aggregate(method, target, where):
            col = target.id
            if method == "sum":
                result = source[f"_p_sum_{col}"].sum(where=where)
                return result.fill_null(0) if where is not None else result
            if method == "count":
                return source[f"_p_cnt_{col}"].sum(where=where).fill_null(0)
            if method == "mean":
                total = source[f"_p_sum_{col}"].sum(where=where)
                return total / source[f"_p_cnt_{col}"].sum(where=where).nullif(0)
            if method in ("min", "max"):
                return getattr(source[f"_p_{method}_{col}"], method)(where=where)
            if method == "nunique":
                return source[col].nunique(where=where)
            raise NotDecomposable(method)

        return compile_formula(text, column, aggregate)
