"""Build the default mining pipeline for any table: choose columns, encode, classify.

`plan_columns(X)` sorts columns into numeric and categorical features and drops what is not
a feature: identifiers (unique per row, or named like an id), free text (strings with many
distinct values), constant and date columns. `build_pipeline(plan, model)` returns an
unfitted scikit-learn Pipeline: gradient boosting ("gbm", the default) or a logistic
regression baseline ("logistic"). `binary_target(series)` maps a yes/no style target to 1/0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask_babel import gettext as _
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)

from mining import MiningInputError

MODELS = ("gbm", "logistic")
MAX_CATEGORIES = 50  # strings with more distinct values are free text, not categories
ONE_HOT_LIMIT = 20  # one-hot columns per categorical column at most; the rarest are pooled
ID_SHARE = 0.95  # an id-like name with at least this share of distinct values is an id
_ID_NAME = re.compile(r"(id|key|code|no|number|rownum|index|uuid|unnamed\d*)$")
POSITIVE_WORDS = {"1", "yes", "y", "true", "t", "positive", "churn", "churned", "exited"}
NEGATIVE_WORDS = {"0", "no", "n", "false", "f", "negative", "stay", "stayed", "retained"}


@dataclass
class ColumnPlan:
    """Which columns feed the model, and why the others were dropped."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # column -> reason

    @property
    def features(self) -> list[str]:
        return self.numeric + self.categorical

    def to_dict(self) -> dict:
        return {"numeric": self.numeric, "categorical": self.categorical, "dropped": self.dropped}


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _looks_like_id_name(name: str) -> bool:
    return bool(_ID_NAME.search(_normalised(name)))


def _is_text(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(series)
        or pd.api.types.is_bool_dtype(series)
        or pd.api.types.is_datetime64_any_dtype(series)
    )


def _drop_reason(name: str, series: pd.Series) -> str | None:
    values = series.dropna()
    n, distinct = len(series), values.nunique()
    if distinct <= 1:
        return "constant"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    unique_per_row = distinct == n and n > 1
    if _looks_like_id_name(name) and distinct >= ID_SHARE * len(values):
        return "identifier"
    if unique_per_row and _is_text(series):
        return "identifier"
    if unique_per_row and pd.api.types.is_integer_dtype(series) and values.is_monotonic_increasing:
        return "identifier"  # a row number
    if _is_text(series) and distinct > MAX_CATEGORIES:
        return "free text"
    return None


def plan_columns(X: pd.DataFrame, keep: list[str] | None = None) -> ColumnPlan:
    """Sort the columns of X into numeric / categorical features and dropped columns.

    Columns in `keep` are never dropped as identifiers or free text (used for warehouse
    features, whose meaning is known).
    """
    keep = set(keep or ())
    plan = ColumnPlan()
    for name in X.columns:
        series = X[name]
        reason = None if name in keep else _drop_reason(name, series)
        if reason:
            plan.dropped[str(name)] = reason
        elif pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            plan.numeric.append(name)
        else:
            plan.categorical.append(name)
    if not plan.features:
        raise MiningInputError(_("No usable feature columns are left after dropping identifiers."))
    return plan


def _to_float(x):
    """Return the columns as a float array; missing values (None, pd.NA) become NaN."""
    return pd.DataFrame(x).astype("float64").to_numpy()


def _signed_log(x):
    x = _to_float(x)
    return np.sign(x) * np.log1p(np.abs(x))


def _to_text(x):
    frame = pd.DataFrame(x)
    return frame.astype(object).where(frame.notna(), "(missing)").astype(str).to_numpy()


def _one_hot():
    return make_pipeline(
        FunctionTransformer(_to_text, feature_names_out="one-to-one"),
        OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=ONE_HOT_LIMIT),
    )


def _ordinal():
    """Return an encoder of categories as codes 0..n-1 for the booster's native categorical
    splits; unseen and missing values become NaN."""
    return make_pipeline(
        FunctionTransformer(_to_text, feature_names_out="one-to-one"),
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
    )


GBM_PARAMS = {
    "learning_rate": 0.1,
    "max_iter": 200,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "early_stopping": True,
    "validation_fraction": 0.1,
    "n_iter_no_change": 15,
}


class PriorCorrected(ClassifierMixin, BaseEstimator):
    """Wrap a classifier fitted on every positive and a share `negative_rate` of the
    negatives; rescale its probabilities to the odds of the whole population.

    Cheaper than sample weights, which make the booster's binning many times slower.
    """

    def __init__(self, estimator=None, negative_rate: float = 1.0):
        self.estimator = estimator
        self.negative_rate = negative_rate

    def fit(self, X, y, **fit_params):
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self.classes_ = self.estimator_.classes_
        return self

    def predict_proba(self, X):
        p = self.estimator_.predict_proba(X)[:, 1]
        q = p * self.negative_rate / (p * self.negative_rate + (1.0 - p))
        return np.column_stack([1.0 - q, q])

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] >= 0.5).astype(int)]

    @property
    def n_iter_(self):
        return getattr(self.estimator_, "n_iter_", None)


def build_pipeline(
    plan: ColumnPlan,
    model: str = "gbm",
    random_state: int = 0,
    negative_rate: float = 1.0,
    **params,
):
    """Return an unfitted pipeline for the plan's columns: "gbm" (gradient boosting with
    native categorical splits) or the "logistic" baseline (one-hot, scaled log amounts).

    `params` override the classifier's settings; `negative_rate` < 1 means it will be fitted
    on that share of the negatives, and its probabilities are corrected for it.
    """
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")
    if model == "gbm":
        numeric = FunctionTransformer(_to_float, feature_names_out="one-to-one")  # NaN native
        categorical = _ordinal()
        is_category = [False] * len(plan.numeric) + [True] * len(plan.categorical)
        classifier = HistGradientBoostingClassifier(
            **{**GBM_PARAMS, **params},
            categorical_features=is_category if plan.categorical else None,
            random_state=random_state,
        )
    else:
        numeric = make_pipeline(
            FunctionTransformer(_signed_log, feature_names_out="one-to-one"),
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
        )
        categorical = _one_hot()
        classifier = LogisticRegression(**{"C": 0.5, "max_iter": 2000, **params})
    columns = ColumnTransformer(
        [("numeric", numeric, plan.numeric), ("categorical", categorical, plan.categorical)],
        remainder="drop",
        sparse_threshold=0.0,
    )
    if negative_rate < 1.0:
        classifier = PriorCorrected(classifier, negative_rate)
    return Pipeline([("columns", columns), ("model", classifier)])


def binary_target(series: pd.Series, name: str = "") -> tuple[pd.Series, str]:
    """Return the target as 0/1 (rows with a missing target dropped) and the positive label.

    yes/no, true/false, 1/0 and similar map by meaning; two other values map the rarer one
    to 1. More than two values, or only one, is an error.
    """
    name = name or str(series.name)
    values = series.dropna()
    if values.empty:
        raise MiningInputError(_("The target column %(column)s is empty.", column=name))
    text = values.astype(str).str.strip().str.lower()
    text = text.str.replace(r"\.0+$", "", regex=True)  # 1.0 -> 1
    labels = sorted(text.unique())
    if len(labels) != 2:
        raise MiningInputError(
            _(
                "The target column %(column)s must have exactly two values; it has %(count)d.",
                column=name,
                count=len(labels),
            )
        )
    positive = next((v for v in labels if v in POSITIVE_WORDS), None)
    if positive is None or set(labels) - {positive} - NEGATIVE_WORDS:
        counts = text.value_counts()
        positive = counts.index[-1] if counts.iloc[0] != counts.iloc[-1] else labels[-1]
    y = (text == positive).astype(int)
    original = values[text == positive].iloc[0]
    return y, str(original)


def prepare_table(
    df: pd.DataFrame, target: str, drop=(), keep=None
) -> tuple[pd.DataFrame, pd.Series, ColumnPlan, str]:
    """Split a table into features X and a 0/1 target y; plan the feature columns.

    Columns in `drop` are removed first (e.g. `duration`, which leaks the outcome); unknown
    names are an error, like an unknown target.
    """
    columns = [str(c) for c in df.columns]
    missing = [c for c in [target, *drop] if c not in columns]
    if missing:
        raise MiningInputError(
            _(
                "Column %(column)s is not in the data; the columns are: %(columns)s.",
                column=", ".join(missing),
                columns=", ".join(columns),
            )
        )
    rows = df[df[target].notna()]
    y, positive = binary_target(rows[target], target)
    X = rows.drop(columns=[target, *drop])
    plan = plan_columns(X, keep=keep)
    return X[plan.features], y, plan, positive
