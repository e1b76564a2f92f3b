"""Evaluate binary classifiers: AUC, precision at top-k, lift, calibration, importance.

Every result is plain floats, ints, lists and dicts, so it can go into `meta.json` and a
JSON API unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.inspection import permutation_importance
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score


def auc(y, scores) -> float:
    """Return the ROC AUC, or NaN when only one class is present."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return float("nan")
    return float(roc_auc_score(y, scores))


def _top(scores, k) -> np.ndarray:
    """Return the indices of the top-k scores; k is a count, or a share of rows if 0 < k < 1."""
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    count = int(np.ceil(k * n)) if 0 < k < 1 else int(k)
    count = max(1, min(n, count))
    return np.argsort(-scores, kind="stable")[:count]


def precision_at_k(y, scores, k=0.1) -> float:
    """Return the positive rate among the k highest-scored rows (k a count or a share)."""
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return float("nan")
    return float(y[_top(scores, k)].mean())


def _deciles(scores, bins: int) -> np.ndarray:
    """Return each row's score bin: 1 holds the highest scores; bins have equal sizes."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(len(order))
    return rank * bins // max(len(order), 1) + 1


def lift_table(y, scores, bins: int = 10) -> list[dict]:
    """Return the lift chart: per score decile (1 = highest), its rate and lift over the base.

    Each row: bin, rows, positives, rate, lift, cumulative_capture (share of all positives
    found in bins 1..this one) and cumulative_lift.
    """
    y = np.asarray(y, dtype=float)
    if len(y) == 0:
        return []
    base = y.mean()
    frame = pd.DataFrame({"bin": _deciles(scores, bins), "y": y})
    grouped = frame.groupby("bin")["y"].agg(["size", "sum"]).sort_index()
    total_pos = max(y.sum(), 1e-12)
    rows, cum_rows, cum_pos = [], 0, 0.0
    for b, (size, pos) in grouped.iterrows():
        cum_rows += int(size)
        cum_pos += float(pos)
        rate = pos / size
        rows.append(
            {
                "bin": int(b),
                "rows": int(size),
                "positives": int(pos),
                "rate": float(rate),
                "lift": float(rate / base) if base > 0 else float("nan"),
                "cumulative_capture": float(cum_pos / total_pos),
                "cumulative_lift": float(cum_pos / cum_rows / base) if base > 0 else float("nan"),
            }
        )
    return rows


def calibration_bins(y, probabilities, bins: int = 10) -> list[dict]:
    """Return calibration by probability decile: mean predicted vs observed rate, and size."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if len(y) == 0:
        return []
    frame = pd.DataFrame({"bin": bins + 1 - _deciles(p, bins), "y": y, "p": p})
    grouped = frame.groupby("bin").agg(
        rows=("y", "size"), observed=("y", "mean"), predicted=("p", "mean")
    )
    return [
        {
            "bin": int(b),
            "rows": int(r.rows),
            "predicted": float(r.predicted),
            "observed": float(r.observed),
        }
        for b, r in grouped.sort_index().iterrows()
    ]


def permutation_importance_table(
    model, X: pd.DataFrame, y, n_repeats: int = 3, max_rows: int = 5000, random_state: int = 0
) -> list[dict]:
    """Return the drop in AUC when each input column is shuffled, largest first.

    Computed on at most `max_rows` rows (a stratified sample) to bound the time.
    """
    y = np.asarray(y)
    if len(X) > max_rows:
        rng = np.random.default_rng(random_state)
        idx = _stratified_sample(y, max_rows, rng)
        X, y = X.iloc[idx], y[idx]
    if len(np.unique(y)) < 2:
        return []
    groups = _output_groups(model, X)
    if groups is None:
        result = permutation_importance(
            model, X, y, scoring="roc_auc", n_repeats=n_repeats, random_state=random_state
        )
        means, stds = result.importances_mean, result.importances_std
    else:
        means, stds = _permute_encoded(model, X, y, groups, n_repeats, random_state)
    rows = [
        {"feature": str(name), "importance": float(mean), "std": float(std)}
        for name, mean, std in zip(X.columns, means, stds, strict=True)
    ]
    return sorted(rows, key=lambda r: -r["importance"])


def _output_groups(model, X: pd.DataFrame) -> list[list[int]] | None:
    """Map each input column of a `mining.pipelines` gradient-boosting pipeline to its
    encoded columns, or None when the pipeline has another shape (use the slow path).

    Encoding is row by row (pass-through numbers, one-hot categories), so shuffling an
    input column equals shuffling its encoded columns together: encode once, not per column.
    """
    steps = getattr(model, "named_steps", {})
    columns = steps.get("columns")
    if columns is None or "model" not in steps or not hasattr(columns, "output_indices_"):
        return None
    out: dict[str, list[int]] = {}
    for name, transformer, cols in columns.transformers_:
        if name == "remainder":
            continue
        block = columns.output_indices_[name]
        width = block.stop - block.start
        if name == "numeric" and width == len(cols):
            sizes = [1] * len(cols)
        elif name == "categorical" and width == len(cols):
            sizes = [1] * len(cols)  # ordinal codes
        elif name == "categorical":
            encoder = transformer[-1]
            infrequent = getattr(encoder, "infrequent_categories_", None) or [None] * len(cols)
            sizes = [
                len(cats) - (len(rare) - 1 if rare is not None else 0)
                for cats, rare in zip(encoder.categories_, infrequent, strict=True)
            ]
        else:
            return None
        if sum(sizes) != width:
            return None
        start = block.start
        for col, size in zip(cols, sizes, strict=True):
            out[col] = list(range(start, start + size))
            start += size
    if set(out) != set(X.columns):
        return None
    return [out[c] for c in X.columns]


def _permute_encoded(model, X, y, groups, n_repeats: int, random_state: int):
    encoded = np.array(model.named_steps["columns"].transform(X), dtype=float)
    classifier = model.named_steps["model"]
    base = auc(y, classifier.predict_proba(encoded)[:, 1])
    rng = np.random.default_rng(random_state)
    means, stds = [], []
    for idx in groups:
        saved = encoded[:, idx].copy()
        drops = []
        for _repeat in range(n_repeats):
            encoded[:, idx] = saved[rng.permutation(len(encoded))]
            drops.append(base - auc(y, classifier.predict_proba(encoded)[:, 1]))
        encoded[:, idx] = saved
        means.append(np.mean(drops))
        stds.append(np.std(drops))
    return np.array(means), np.array(stds)


def _stratified_sample(y: np.ndarray, size: int, rng) -> np.ndarray:
    """Sample rows with at least a quarter positives when there are enough of them: AUC does
    not depend on the class ratio, and more positives make the importance less noisy."""
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y != 1)
    take_pos = min(len(positives), max(size // 4, round(size * len(positives) / len(y))))
    take_neg = min(len(negatives), size - take_pos)
    picked = [
        rng.choice(positives, size=take_pos, replace=False),
        rng.choice(negatives, size=take_neg, replace=False),
    ]
    return np.sort(np.concatenate(picked))


def cross_validated_auc(pipeline, X: pd.DataFrame, y, cv: int = 5, random_state: int = 0) -> dict:
    """Return the stratified k-fold AUC of an unfitted pipeline: mean, std and each fold."""
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    scores = cross_val_score(clone(pipeline), X, np.asarray(y), cv=folds, scoring="roc_auc")
    return {"auc": float(scores.mean()), "std": float(scores.std()), "folds": scores.tolist()}


def holdout_report(y, probabilities, bins: int = 10) -> dict:
    """Return every hold-out measure of one model's probabilities."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    lift = lift_table(y, p, bins)
    return {
        "auc": auc(y, p),
        "precision_at_5pct": precision_at_k(y, p, 0.05),
        "precision_at_10pct": precision_at_k(y, p, 0.10),
        "top_decile_lift": lift[0]["lift"] if lift else float("nan"),
        "top_decile_capture": lift[0]["cumulative_capture"] if lift else float("nan"),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "rows": int(len(y)),
        "lift": lift,
        "calibration": calibration_bins(y, p, bins),
    }
