"""Catalog metrics read from the monthly rollups (agg_*) when a query needs nothing finer.

The pivot service already reads the rollups of `datasources.pivot_rollup` in place of their
facts; this module gives the metric queries the same aggregate awareness. A metric query's
first stage (`datasources.preaggregate.TwoStagePlan`) groups the fact rows by the columns the
rest of the query needs and computes partial sums, counts and extremes. When every one of
those columns is a key of the fact's rollup, every measured column is summarised in it, and
the period falls on whole months (or the rollup keeps the metric's own month-end column),
`RollupPlan` computes the same stage from the rollup instead: a sum of the rollup's sums, a
sum of its counts, a minimum of its minima. The numbers are the same — a test compares every
metric that routes against the facts — but the rows read drop from millions to thousands.

Anything else reads the facts, exactly as before: a distinct count of customers, a filter on a
column the rollup does not keep (a loan's start date), a customer dimension, a period that
starts or ends inside a month of a daily fact. Row-level scope applies to a rollup as to its
fact: it keeps `branch_id`, and it is obtained from the same scoped table provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasources.periods import Period, month_end
from datasources.pivot_rollup import MONTH, ROLLUPS, ROW_COUNT, Rollup, rollup_table
from datasources.preaggregate import TwoStagePlan

# Columns that are never NULL in their fact (the row's identifier): their count is the row count.
ROW_IDENTIFIERS: dict[str, frozenset[str]] = {
    "fact_transaction": frozenset({"txn_id"}),
    "fact_loan": frozenset({"loan_id"}),
}
COMBINE = {"sum": "sum", "count": "sum", "min": "min", "max": "max"}


@dataclass(frozen=True)
class RollupChoice:
    """Why a plan reads a rollup or not (for tests, EXPLAIN-like logging and the benchmark)."""

    table: str | None
    reason: str


def month_aligned(period: Period, by_month: bool) -> bool:
    """Return whether a daily fact's filter on `period` selects whole months only.

    Per month the query reads from the month before the start (by month) or from the start of
    the previous period (current vs previous bucket) to the end.
    """
    if period.start.day != 1 or period.end != month_end(period.end):
        return False
    return by_month or period.previous_start.day == 1


class RollupPlan(TwoStagePlan):
    """A TwoStagePlan whose stage 1 reads the fact's monthly rollup when it holds everything."""

    def __init__(self, tables, joins: dict, table: str, time_column: str, *, whole_months: bool):
        super().__init__(tables, joins, table)
        self.time_column = time_column
        self.whole_months = whole_months
        self.filter_columns: set[str] = set()  # fact columns stage-1 predicates refer to
        self.late_formulas: list[str] = []  # metric filters on joined columns (after the join)
        self.late_filters: list = []  # (MetricFilter, Dimension) on joined columns
        self.enabled = True
        self._choice: RollupChoice | None = None
        self._found = None

    def filter_stage1_on(self, columns, build) -> None:
        """Filter the fact rows with `build(table)`, which refers to `columns` of the fact.

        Predicates on the month of the time column only (the period, a month filter) pass no
        columns: the rollup's month answers them when the period is whole months.
        """
        self.filter_columns |= set(columns)
        self.filter_stage1(build)

    # -- choosing --------------------------------------------------------------------------
    def choice(self) -> RollupChoice:
        """Return the rollup this plan reads (its table name) or why it reads the facts."""
        if self._choice is None:
            self._choice = self._choose()
        return self._choice

    def _choose(self) -> RollupChoice:
        rollup: Rollup | None = ROLLUPS.get(self.table)
        if not self.enabled:
            return RollupChoice(None, "rollups disabled")
        if rollup is None:
            return RollupChoice(None, f"{self.table} has no rollup")
        if self.time_column == rollup.month_column:
            pass  # the rollup keeps the month-end column itself: any period works
        elif self.time_column == rollup.date_column:
            if not self.whole_months:
                return RollupChoice(None, "the period does not fall on whole months")
        else:
            return RollupChoice(None, f"{rollup.table} does not keep {self.time_column}")
        # The period predicate and month filters are registered without columns (they only
        # need the month); any other use of a daily date column is not in the rollup's keys,
        # so it keeps the facts.
        columns = self.key_columns | self.filter_columns
        if not columns <= rollup.key_columns:
            missing = ", ".join(sorted(columns - rollup.key_columns))
            return RollupChoice(None, f"{rollup.table} does not keep {missing}")
        measures = set()
        identifiers = ROW_IDENTIFIERS.get(self.table, frozenset())
        for column, agg in self.partials.values():
            if agg == "count" and column in identifiers:
                continue
            if column not in rollup.measures or agg not in COMBINE:
                return RollupChoice(None, f"{rollup.table} does not summarise {column}")
            measures.add(column)
        if not self.partials:  # only distinct counts: the facts are needed
            return RollupChoice(None, "no partial aggregates to read")
        found = rollup_table(
            self.tables,
            self.table,
            columns=columns,
            month=self.time_column == rollup.date_column,
            measures=measures,
        )
        if found is None:
            return RollupChoice(None, f"{rollup.table} is not in this warehouse")
        self._found = found
        return RollupChoice(rollup.table, "every column and measure is in the rollup")

    # -- building ---------------------------------------------------------------------------
    def stage1(self):
        if self.choice().table is None:
            return super().stage1()
        rollup, t = self._found
        if rollup.date_column == self.time_column:
            # The month of the day stands in for the day: predicates and month keys on whole
            # months give the same rows (month_aligned checked that the period allows it).
            t = t.rename({self.time_column: MONTH})
        if self.stage1_predicates:
            t = t.filter([build(t) for build in self.stage1_predicates])
        keys = {name: t[name] for name in sorted(self.key_columns)}
        keys.update({name: build(t) for name, build in self.computed_keys.items()})
        identifiers = ROW_IDENTIFIERS.get(self.table, frozenset())
        partials = {}
        for name, (column, agg) in self.partials.items():
            if agg == "count" and column in identifiers:
                partials[name] = t[ROW_COUNT].sum()
            else:
                partials[name] = getattr(t[rollup.partial(agg, column)], COMBINE[agg])()
        return t.group_by(**keys).aggregate(**partials)
