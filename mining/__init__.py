"""Train, evaluate and version customer-mining models (SPEC §4.5).

- `pipelines`: the default scikit-learn pipeline for any table (identifiers and free text
  dropped, numeric and low-cardinality categorical columns encoded), gradient boosting with
  a logistic baseline;
- `evaluation`: AUC, precision at top-k, lift by decile, calibration, permutation importance,
  cross-validated AUC;
- `registry`: versioned models on disk with their metrics and training-data description;
- `training`: warehouse scenarios (retail churn) on a time-based split, and a one-worker
  background job runner with progress;
- `cli`: `flask --app app portal mining evaluate|train`.

Features come from `datasources.features`, computed in the warehouse through Ibis.
"""

from portal.errors import Invalid


class MiningInputError(Invalid, ValueError):
    """The data cannot be mined as asked; the message (translated) says why, for the user."""

    code = "mining_input"
