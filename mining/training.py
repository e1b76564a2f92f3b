"""Train warehouse mining scenarios on a time-based split, and run training in the background.

`train_scenario(warehouse, tables, "retail-churn", data_dir, progress=callback)` builds
point-in-time features and labels for several training cut-offs and a later hold-out
cut-off, fits the gradient-boosting pipeline and the logistic baseline, evaluates both on
the hold-out (AUC, precision at top-k, lift, calibration, permutation importance) and saves
a new version in the model registry. `TrainingJobs` runs that in one worker thread, so a
page can start training and poll its progress.

Default split, for data up to month T: hold-out cut-off T-3 (labels at T), training cut-offs
T-6..T-4 (each with six months of transactions behind it). Features never look past their
cut-off; the labels of the later training cut-offs fall after the hold-out cut-off, as the
split asks for. Pass `train_cutoffs=[...]` at least three months before `test_cutoff=` for a
split whose labels were all known on the hold-out date.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from threadpoolctl import threadpool_limits

from datasources import features as F
from datasources.relations import CHURN_LOOKBACK_MONTHS, CHURN_MIN_BALANCE, CHURN_REMAINING_SHARE
from mining.evaluation import holdout_report, permutation_importance_table
from mining.pipelines import MiningInputError, build_pipeline, plan_columns
from mining.registry import ModelRegistry

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
NOT_FEATURES = ["customer_id", "branch_id", "cutoff", "churned", "deposit_at_cutoff"]
TRAIN_CUTOFFS = 3  # training cut-offs, the months just before the hold-out cut-off
TXN_HISTORY_MONTHS = max(F.TXN_WINDOWS)  # months of transactions a cut-off needs
IMPORTANCE_ROWS = 1500  # hold-out rows sampled for permutation importance
MAX_TRAIN_ROWS = 40_000  # rows fitted: every churner and a weighted sample of the others
THREADS = 1  # BLAS / OpenMP threads while fitting: the machine is shared with requests


def _quiet(_fraction: float, _message: str) -> None:
    pass


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


# -- the retail churn scenario -------------------------------------------------------------------
def data_range(warehouse, tables) -> dict:
    """Return the last balance month-end (the data date) and the first transaction date."""
    bal = tables.table("fact_balance_monthly")
    txn = tables.table("fact_transaction")
    last = F.run(warehouse, tables, bal.aggregate(as_of=bal.month_end.max()), "range")
    first = F.run(warehouse, tables, txn.aggregate(first=txn.txn_date.min()), "range")
    as_of, first_txn = last["as_of"].iloc[0], first["first"].iloc[0]
    if pd.isna(as_of) or pd.isna(first_txn):
        raise MiningInputError(_("There is no data to train on in the visible warehouse."))
    return {"as_of": pd.Timestamp(as_of).date(), "first_txn": pd.Timestamp(first_txn).date()}


def default_cutoffs(as_of: datetime.date, first_txn: datetime.date):
    """Return (training cut-offs, hold-out cut-off) for data up to `as_of`.

    The hold-out cut-off is the last month whose label (three months later) is known; the
    training cut-offs are the months before it that have six months of transactions.
    """
    test = F.add_months(as_of, -CHURN_LOOKBACK_MONTHS)
    earliest = F.add_months(first_txn, TXN_HISTORY_MONTHS - 1)
    train = [F.add_months(test, -k) for k in range(TRAIN_CUTOFFS, 0, -1)]
    train = [c for c in train if c >= earliest]
    if not train or test < earliest:
        raise MiningInputError(_("The warehouse has too little history to train this model."))
    return train, test


def churn_dataset(warehouse, tables, cutoffs) -> pd.DataFrame:
    """Return features and churn labels of eligible retail customers at the cut-offs, in
    one warehouse query (one row per customer and cut-off)."""
    feats = F.customer_features(tables, cutoffs)
    labels = F.churn_labels(tables, cutoffs).select(*F.KEYS, "churned")
    frame = F.run(warehouse, tables, feats.join(labels, F.KEYS), "retail-churn:dataset")
    frame["cutoff"] = pd.to_datetime(frame["cutoff"]).dt.strftime("%Y-%m-%d")
    # Rows come back in no set order; sort them so that sampling and fitting repeat exactly.
    return frame.sort_values(F.KEYS, ignore_index=True)


def _describe(frame: pd.DataFrame, target: str = "churned") -> dict:
    return {
        "rows": int(len(frame)),
        "positives": int(frame[target].sum()),
        "positive_rate": float(frame[target].mean()) if len(frame) else None,
    }


def _sample(y: np.ndarray, max_rows: int, seed: int = 0) -> tuple[np.ndarray, float]:
    """Keep every positive and a random share of negatives (at most `max_rows` in all);
    return the kept row indices and the share of negatives kept."""
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    room = max(max_rows - len(positives), min(len(negatives), max_rows // 2))
    if len(negatives) <= room:
        return np.arange(len(y)), 1.0
    kept = np.random.default_rng(seed).choice(negatives, size=room, replace=False)
    return np.sort(np.concatenate([positives, kept])), room / len(negatives)


def _split(options: dict, warehouse, tables, progress: Progress):
    """Return (training cut-offs, hold-out cut-off, data date): given, or the defaults."""
    progress(0.0, lazy_gettext("Reading the data range"))
    span = data_range(warehouse, tables)
    if options.get("test_cutoff") and options.get("train_cutoffs"):
        train = sorted(F.month_end(c) for c in options["train_cutoffs"])
        test = F.month_end(options["test_cutoff"])
    else:
        train, test = default_cutoffs(span["as_of"], span["first_txn"])
    if max(train) >= test:
        raise MiningInputError(_("Training cut-offs must come before the hold-out cut-off."))
    if F.add_months(test, CHURN_LOOKBACK_MONTHS) > span["as_of"]:
        raise MiningInputError(
            _(
                "The hold-out cut-off %(cutoff)s needs three later months of data.",
                cutoff=test.isoformat(),
            )
        )
    return train, test, span["as_of"]


def train_holdout(
    name: str,
    warehouse,
    tables,
    data_dir,
    progress: Progress,
    options: dict,
    *,
    dataset: Callable,
    target: str,
    not_features,
    label: dict,
    no_classes_message,
) -> dict:
    """Train scenario `name` on a time-based split and save it as a new version.

    `dataset(warehouse, tables, cutoffs)` returns one row per customer and cut-off with the
    `target` column (0/1) and a `cutoff` (ISO date string); columns in `not_features` are
    not fitted. Fits the gradient-boosting model and the logistic baseline on a sample of
    the training cut-offs, evaluates both on the hold-out cut-off (metrics, lift,
    calibration, permutation importance, by segment) and returns the saved version's meta
    (with `elapsed_s`, the training data described under the scenario's `label`).
    `no_classes_message` (a lazy string) is raised when a side lacks a class.
    """
    started = time.perf_counter()
    train_cutoffs, test_cutoff, as_of = _split(options, warehouse, tables, progress)
    progress(
        0.05,
        lazy_gettext(
            "Building features for %(count)d cut-offs in the warehouse",
            count=len(train_cutoffs) + 1,
        ),
    )
    frame = dataset(warehouse, tables, [*train_cutoffs, test_cutoff])
    is_test = frame["cutoff"] == test_cutoff.isoformat()
    train, test = frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)
    if train[target].nunique() < 2 or test[target].nunique() < 2:
        raise MiningInputError(str(no_classes_message))

    feature_columns = [c for c in frame.columns if c not in not_features]
    plan = plan_columns(train[feature_columns], keep=feature_columns)
    rows, rate = _sample(train[target].to_numpy(), options.get("max_rows", MAX_TRAIN_ROWS))
    X_train = train.loc[rows, plan.features]
    y_train = train.loc[rows, target].to_numpy()
    X_test, y_test = test[plan.features], test[target].to_numpy()

    with threadpool_limits(limits=THREADS):
        progress(0.4, lazy_gettext("Training the gradient-boosting model"))
        model = build_pipeline(plan, "gbm", negative_rate=rate).fit(X_train, y_train)
        progress(0.7, lazy_gettext("Training the logistic baseline"))
        baseline = build_pipeline(plan, "logistic", negative_rate=rate).fit(X_train, y_train)
        progress(0.8, lazy_gettext("Evaluating on the hold-out cut-off"))
        p_test = model.predict_proba(X_test)[:, 1]
        report = holdout_report(y_test, p_test)
        baseline_report = holdout_report(y_test, baseline.predict_proba(X_test)[:, 1])
        importance = permutation_importance_table(
            model, X_test, y_test, n_repeats=2, max_rows=IMPORTANCE_ROWS
        )
    by_segment = (
        pd.DataFrame({"segment": test["segment"], "actual": y_test, "predicted": p_test})
        .groupby("segment")
        .agg(rows=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean"))
        .reset_index()
        .to_dict("records")
    )

    progress(0.95, lazy_gettext("Saving the model"))
    meta = {
        "model": "HistGradientBoostingClassifier",
        "metrics": {k: v for k, v in report.items() if k not in ("lift", "calibration")},
        "baseline": {
            "model": "LogisticRegression",
            **{k: v for k, v in baseline_report.items() if k not in ("lift", "calibration")},
        },
        "lift": report["lift"],
        "calibration": report["calibration"],
        "importance": importance,
        "by_segment": by_segment,
        "features": plan.features,
        "columns": plan.to_dict(),
        "iterations": int(model[-1].n_iter_),
        "training_data": {
            "source": "warehouse",
            "scope_key": tables.scope_key,
            "as_of": as_of.isoformat(),
            "label": label,
            "train_cutoffs": [c.isoformat() for c in train_cutoffs],
            "test_cutoff": test_cutoff.isoformat(),
            "train": {
                **_describe(train, target),
                "fitted_rows": int(len(rows)),
                "negatives_kept": float(rate),
                "by_cutoff": {c: _describe(g, target) for c, g in train.groupby("cutoff")},
            },
            "test": _describe(test, target),
        },
    }
    meta["elapsed_s"] = round(time.perf_counter() - started, 1)
    saved = ModelRegistry(data_dir).save(name, model, meta)
    progress(1.0, lazy_gettext("Done"))
    return saved


def train_retail_churn(warehouse, tables, data_dir, progress: Progress = _quiet, **options):
    """Train the retail churn model; return the saved version's meta (with `elapsed_s`)."""
    return train_holdout(
        "retail-churn",
        warehouse,
        tables,
        data_dir,
        progress,
        options,
        dataset=churn_dataset,
        target="churned",
        not_features=NOT_FEATURES,
        label={
            "definition": "retail customer with deposits >= min_balance at the cut-off "
            "whose deposits months_ahead months later are below remaining_share of them",
            "min_balance": CHURN_MIN_BALANCE,
            "remaining_share": CHURN_REMAINING_SHARE,
            "months_ahead": CHURN_LOOKBACK_MONTHS,
        },
        no_classes_message=lazy_gettext("Both churned and retained customers are needed to train."),
    )


SCENARIOS: dict[str, Callable] = {"retail-churn": train_retail_churn}


def scenarios() -> dict[str, Callable]:
    """Return every trainable scenario: retail churn here, payroll churn, potential value
    and transaction mining from `mining.scenarios` (imported late: it builds on this module)."""
    from mining.scenarios import EXTRA_SCENARIOS

    return {**SCENARIOS, **EXTRA_SCENARIOS}


def train_scenario(
    warehouse, tables, scenario: str, data_dir, progress: Progress | None = None, **options
) -> dict:
    """Train one scenario on the warehouse as `tables` shows it; return the saved meta.

    `progress(fraction, message)` is called as the work advances (fraction 0..1).
    """
    known = scenarios()
    if scenario not in known:
        raise MiningInputError(_("Unknown mining scenario: %(name)s.", name=scenario))
    return known[scenario](warehouse, tables, data_dir, progress or _quiet, **options)


def score_customers(warehouse, tables, data_dir, cutoff=None, version: int | None = None):
    """Return churn probabilities of the retail customers at a cut-off (default: the data
    date) from a saved retail-churn model, with customer_id, branch_id and segment."""
    model, meta = ModelRegistry(data_dir).load("retail-churn", version)
    cutoff = cutoff or data_range(warehouse, tables)["as_of"]
    frame = F.run(warehouse, tables, F.customer_features(tables, cutoff), "retail-churn:score")
    if frame.empty:
        return pd.DataFrame(columns=["customer_id", "branch_id", "segment", "churn_probability"])
    frame = frame[frame["deposit_balance"] >= CHURN_MIN_BALANCE]
    out = frame[["customer_id", "branch_id", "segment"]].copy()
    out["churn_probability"] = (
        model.predict_proba(frame[meta["features"]])[:, 1] if len(frame) else np.array([])
    )
    return out


# -- background jobs ------------------------------------------------------------------------------
@dataclass
class Job:
    """One training run: its state and the latest progress report."""

    id: str
    scenario: str
    scope_key: str
    state: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    message: object = ""
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    result: dict | None = None
    error: str | None = None


class TrainingJobs:
    """Run training in one background worker; start a job, then poll its status."""

    def __init__(self, warehouse, data_dir, max_workers: int = 1):
        self.warehouse = warehouse
        self.data_dir = data_dir
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="mining")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, scenario: str, tables, **options) -> str:
        """Queue a training run and return its job id; an unfinished run of the same scenario
        and scope is returned instead of starting a second one."""
        if scenario not in scenarios():
            raise MiningInputError(_("Unknown mining scenario: %(name)s.", name=scenario))

        def work(report: Progress) -> dict:
            return train_scenario(
                self.warehouse, tables, scenario, self.data_dir, report, **options
            )

        return self.submit(scenario, tables.scope_key, work)

    def submit(self, name: str, scope_key: str, work: Callable[[Progress], dict]) -> str:
        """Queue any long task `work(progress) -> result dict` under a name and scope; an
        unfinished task of the same name and scope is returned instead of a second one."""
        with self._lock:
            for job in self._jobs.values():
                same = job.scenario == name and job.scope_key == scope_key
                if same and job.state in ("queued", "running"):
                    return job.id
            job = Job(id=uuid.uuid4().hex[:12], scenario=name, scope_key=scope_key)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job.id

    def _update(self, job: Job, **changes) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(job, key, value)

    def _run(self, job: Job, work: Callable[[Progress], dict]) -> None:
        self._update(job, state="running", started_at=_now())

        def report(fraction: float, message) -> None:
            self._update(job, progress=round(float(fraction), 3), message=message)

        try:
            result = work(report)
        except Exception as exc:  # noqa: BLE001 - the job records the failure for the poller
            log.exception("training %s failed", job.scenario)
            self._update(job, state="failed", error=str(exc), finished_at=_now())
            return
        self._update(job, state="done", progress=1.0, result=result, finished_at=_now())

    def status(self, job_id: str) -> dict | None:
        """Return the job as a dict (message translated now), or None for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            data = {f.name: getattr(job, f.name) for f in fields(job)}
        data["message"] = str(data["message"])
        return data

    def jobs(self) -> list[dict]:
        """Return every job, newest first."""
        with self._lock:
            ids = list(self._jobs)
        return [s for s in (self.status(i) for i in reversed(ids)) if s]

    def wait(self, job_id: str, timeout: float | None = None) -> dict | None:
        """Block until the job finishes or `timeout` passes (tests, scripts); return its status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            status = self.status(job_id)
            if status is None or status["state"] in ("done", "failed"):
                return status
            if deadline is not None and time.monotonic() > deadline:
                return status
            time.sleep(0.05)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
