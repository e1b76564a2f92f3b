"""The warehouse mining scenarios besides retail churn, and scoring for every scenario.

Each scenario is a supervised model on point-in-time customer features with a label that
looks three months ahead, trained and evaluated like retail churn (`mining.training`):
several training cut-offs, a later hold-out cut-off, gradient boosting with a logistic
baseline, AUC / precision at top-k / lift / calibration / permutation importance.

- `payroll-churn` (代发客户流失): customers paid through the bank in the last three months;
  positive when the payroll stops in the next three months or their deposits fall below
  20% of today's.
- `potential-value` (潜力价值客户): mass and affluent customers; positive when their assets
  (deposits + wealth) grow by at least 20% and 20,000 in the next three months.
- `transaction-mining` (交易挖掘): features from transactions only (stability, activity,
  usage, monthly / quarterly / yearly flows, short-term fund recovery and destinations);
  positive when the customer's deposits leave the bank (the retail churn label).

`score_scenario(...)` scores today's customers (the data date) with the newest model, as
the given table provider shows them (scoped and masked).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask_babel import lazy_gettext

from datasources import features as F
from datasources.relations import CHURN_LOOKBACK_MONTHS, CHURN_MIN_BALANCE
from mining.registry import ModelRegistry
from mining.training import _quiet, data_range, train_holdout

IDENTITY = ["customer_id", "branch_id", "segment"]
NOT_FEATURES = {"customer_id", "branch_id", "cutoff", "target", "churned", "deposit_at_cutoff"}
PV_GROWTH = 1.2  # potential value: assets three months later at least this multiple ...
PV_MIN_GAIN = 20_000.0  # ... and at least this much more


def _as_str_cutoff(frame: pd.DataFrame) -> pd.DataFrame:
    frame["cutoff"] = pd.to_datetime(frame["cutoff"]).dt.strftime("%Y-%m-%d")
    return frame


def _later(cutoffs) -> list:
    return [F.add_months(c, CHURN_LOOKBACK_MONTHS) for c in cutoffs]


# -- payroll-customer churn ------------------------------------------------------------------------
def _payroll_population(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["payroll_months_3m"] > 0]


def payroll_dataset(warehouse, tables, cutoffs) -> pd.DataFrame:
    feats = F.customer_features(tables, cutoffs)
    labels = F.churn_labels(tables, cutoffs).select(*F.KEYS, "churned")
    joined = feats.left_join(labels, F.KEYS).drop("customer_id_right", "cutoff_right")
    frame = _payroll_population(F.run(warehouse, tables, joined, "payroll-churn:dataset"))
    later = F.transaction_features(tables, _later(cutoffs)).select(
        "customer_id", "cutoff", later_payroll="payroll_months_3m"
    )
    after = F.run(warehouse, tables, later, "payroll-churn:labels")
    after["cutoff"] = pd.to_datetime(after["cutoff"]).map(
        lambda d: F.add_months(d.date(), -CHURN_LOOKBACK_MONTHS)
    )
    frame = _as_str_cutoff(frame.copy())
    after = _as_str_cutoff(after)
    frame = frame.merge(after, on=["customer_id", "cutoff"], how="left")
    stopped = frame.pop("later_payroll").fillna(0) == 0
    frame["target"] = (stopped | (frame["churned"].fillna(0) == 1)).astype(int)
    return frame.drop(columns=["churned"])


def payroll_scoring(warehouse, tables, cutoff) -> pd.DataFrame:
    frame = F.run(warehouse, tables, F.customer_features(tables, cutoff), "payroll-churn:score")
    return _payroll_population(frame)


# -- potential value customers ---------------------------------------------------------------------
def _pv_population(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["segment"].isin(["mass", "affluent"])]


def potential_value_dataset(warehouse, tables, cutoffs) -> pd.DataFrame:
    dates = sorted({*cutoffs, *_later(cutoffs)})
    frame = F.run(
        warehouse, tables, F.potential_value_features(tables, dates), "potential-value:dataset"
    )
    frame = _as_str_cutoff(frame)
    wanted = {F.month_end(c).isoformat() for c in cutoffs}
    now = _pv_population(frame[frame["cutoff"].isin(wanted)]).copy()
    later = frame[["customer_id", "cutoff", "assets"]].rename(columns={"assets": "assets_later"})
    later["cutoff"] = later["cutoff"].map(
        lambda d: F.add_months(pd.Timestamp(d).date(), -CHURN_LOOKBACK_MONTHS).isoformat()
    )
    now = now.merge(later, on=["customer_id", "cutoff"], how="left")
    grown = now.pop("assets_later").fillna(0.0)
    now["target"] = (
        (grown >= now["assets"] * PV_GROWTH) & (grown - now["assets"] >= PV_MIN_GAIN)
    ).astype(int)
    return now


def potential_value_scoring(warehouse, tables, cutoff) -> pd.DataFrame:
    expr = F.potential_value_features(tables, cutoff)
    return _pv_population(F.run(warehouse, tables, expr, "potential-value:score"))


# -- transaction-based mining ----------------------------------------------------------------------
def _transaction_frame(warehouse, tables, cutoff) -> pd.DataFrame:
    deposits = F.balance_features(tables, cutoff).select(*F.KEYS, "deposit_balance")
    expr = F.transaction_mining_features(tables, cutoff)
    expr = expr.left_join(deposits, F.KEYS).drop("customer_id_right", "cutoff_right")
    return F.run(warehouse, tables, expr, "transaction-mining:features")


def transaction_dataset(warehouse, tables, cutoffs) -> pd.DataFrame:
    parts = [_transaction_frame(warehouse, tables, c) for c in cutoffs]
    frame = _as_str_cutoff(pd.concat(parts, ignore_index=True))
    labels = F.run(
        warehouse,
        tables,
        F.churn_labels(tables, cutoffs).select(*F.KEYS, "churned"),
        "transaction-mining:labels",
    )
    labels = _as_str_cutoff(labels).rename(columns={"churned": "target"})
    return frame.merge(labels, on=["customer_id", "cutoff"], how="inner")


def transaction_scoring(warehouse, tables, cutoff) -> pd.DataFrame:
    frame = _transaction_frame(warehouse, tables, cutoff)
    return frame[frame["deposit_balance"].fillna(0) >= CHURN_MIN_BALANCE]


# -- retail churn (trained by mining.training; scored here like the others) -------------------
def retail_scoring(warehouse, tables, cutoff) -> pd.DataFrame:
    frame = F.run(warehouse, tables, F.customer_features(tables, cutoff), "retail-churn:score")
    return frame[frame["deposit_balance"] >= CHURN_MIN_BALANCE]


@dataclass(frozen=True)
class Scenario:
    """How a scenario builds its training rows and today's rows to score."""

    name: str
    scoring: Callable
    dataset: Callable | None = None  # None: trained by mining.training (retail churn)
    list_columns: tuple[str, ...] = ()  # shown beside the probability in the customer list
    summary_columns: tuple[str, ...] = ()  # also returned by scoring, for the page's charts
    not_features: frozenset[str] = field(default_factory=frozenset)
    label: dict = field(default_factory=dict)


SCENARIO_SPECS: dict[str, Scenario] = {
    "retail-churn": Scenario(
        "retail-churn",
        retail_scoring,
        list_columns=("deposit_balance", "deposit_change_3m", "n_products", "days_since_last_txn"),
    ),
    "payroll-churn": Scenario(
        "payroll-churn",
        payroll_scoring,
        payroll_dataset,
        list_columns=(
            "deposit_balance",
            "deposit_start_of_year",
            "deposit_avg_daily_quarter",
            "payroll_amount_1m",
        ),
        label={
            "definition": "payroll customer (paid in the last 3 months) whose payroll stops "
            "in the next months_ahead months, or whose deposits fall below 20% of those at "
            "the cut-off",
            "months_ahead": CHURN_LOOKBACK_MONTHS,
        },
    ),
    "potential-value": Scenario(
        "potential-value",
        potential_value_scoring,
        potential_value_dataset,
        list_columns=("assets", "deposit_balance", "deposit_avg_daily_year", "deposit_change_ytd"),
        label={
            "definition": "mass or affluent customer whose assets (deposits + wealth) "
            "months_ahead months later are at least growth times those at the cut-off and "
            "at least min_gain more",
            "growth": PV_GROWTH,
            "min_gain": PV_MIN_GAIN,
            "months_ahead": CHURN_LOOKBACK_MONTHS,
        },
    ),
    "transaction-mining": Scenario(
        "transaction-mining",
        transaction_scoring,
        transaction_dataset,
        list_columns=(
            "deposit_balance",
            "inflow_year",
            "outflow_year",
            "stf_count",
            "stf_out_amount",
        ),
        summary_columns=tuple(f"stf_to_{c}" for c in F.COUNTERPARTY_TYPES),
        not_features=frozenset({"deposit_balance"}),
        label={
            "definition": "retail customer with deposits >= min_balance whose deposits "
            "months_ahead months later are below 20% of them (funds leave the bank)",
            "min_balance": CHURN_MIN_BALANCE,
            "months_ahead": CHURN_LOOKBACK_MONTHS,
        },
    ),
}


def _trainer(spec: Scenario):
    def train(warehouse, tables, data_dir, progress=_quiet, **options):
        return train_supervised(spec, warehouse, tables, data_dir, progress, **options)

    train.__name__ = f"train_{spec.name.replace('-', '_')}"
    return train


def train_supervised(spec: Scenario, warehouse, tables, data_dir, progress=_quiet, **options):
    """Train one scenario on its own rows and labels; save and return the new version's meta."""

    def dataset(warehouse, tables, cutoffs) -> pd.DataFrame:
        frame = spec.dataset(warehouse, tables, cutoffs)
        return frame.sort_values(F.KEYS, ignore_index=True)

    return train_holdout(
        spec.name,
        warehouse,
        tables,
        data_dir,
        progress,
        options,
        dataset=dataset,
        target="target",
        not_features=NOT_FEATURES | spec.not_features,
        label=spec.label,
        no_classes_message=lazy_gettext(
            "Both positive and negative customers are needed to train."
        ),
    )


EXTRA_SCENARIOS = {
    name: _trainer(spec) for name, spec in SCENARIO_SPECS.items() if spec.dataset is not None
}


def score_scenario(
    warehouse, tables, data_dir, scenario: str, cutoff=None, version: int | None = None
) -> tuple[pd.DataFrame, dict]:
    """Return (scores, meta): today's customers of the scenario with `probability`, their
    branch, segment and the scenario's list columns, from the newest (or given) version.

    KeyError when the scenario has no model yet.
    """
    spec = SCENARIO_SPECS[scenario]
    model, meta = ModelRegistry(data_dir).load(scenario, version)
    cutoff = cutoff or data_range(warehouse, tables)["as_of"]
    frame = spec.scoring(warehouse, tables, cutoff)
    wanted = [*spec.list_columns, *spec.summary_columns]
    columns = [*IDENTITY, *(c for c in wanted if c in frame.columns)]
    out = frame[columns].reset_index(drop=True).copy()
    if frame.empty:
        out["probability"] = pd.Series(dtype="float64")
        return out, meta
    out["probability"] = np.asarray(model.predict_proba(frame[meta["features"]])[:, 1])
    out = out.sort_values(["probability", "customer_id"], ascending=[False, True])
    return out.reset_index(drop=True), meta
