"""Data mining: the CSV pipeline on real data, warehouse features, training, registry, CLI."""

from __future__ import annotations

import datetime
import os
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from datasources import features as F
from datasources.relations import FullAccess
from datasources.scope import Principal, ScopedTables
from datasources.warehouse import Warehouse
from mining.cli import mining
from mining.evaluation import calibration_bins, lift_table, precision_at_k
from mining.pipelines import MiningInputError, binary_target, plan_columns, prepare_table
from mining.registry import ModelRegistry
from mining.training import TrainingJobs, score_customers, train_scenario
from portal.cli import portal_cli


def _find_datasets() -> Path:
    """Return shared/datasets: $PORTAL_DATASETS_DIR, or beside the clone (as CI lays it out)."""
    candidates = [
        os.environ.get("PORTAL_DATASETS_DIR"),
        Path(__file__).resolve().parents[2].parent / "shared" / "datasets",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "Churn_Modelling.csv").exists():
            return Path(candidate)
    return Path(candidates[1])


DATASETS = _find_datasets()


@pytest.fixture(autouse=True)
def _public_datasets_present(request):
    """Skip loudly without the public datasets; in CI (PORTAL_REQUIRE_SERVICES=1) fail."""
    if "cli" not in request.fixturenames or (DATASETS / "Churn_Modelling.csv").exists():
        return
    message = f"public datasets not found at {DATASETS} (set PORTAL_DATASETS_DIR)"
    if os.environ.get("PORTAL_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(f"!!! {message} !!!")


CUTOFF = datetime.date(2026, 6, 30)
AUC_LINE = re.compile(r"(\d+)\D+AUC\D*(\d\.\d+) ± (\d\.\d+)")


@pytest.fixture
def cli(make_app):
    """Return a function running `flask portal mining ...` on a fresh app (registering the
    group if the lead has not yet)."""
    if "mining" not in portal_cli.commands:
        portal_cli.add_command(mining)
    app = make_app()

    def invoke(*args):
        return app.test_cli_runner().invoke(args=["portal", "mining", *args])

    invoke.app = app
    return invoke


def _auc(output: str) -> float:
    match = AUC_LINE.search(output)
    assert match, output
    return float(match.group(2))


# -- CSV files -------------------------------------------------------------------------------------
def test_churn_modelling_cross_validated_auc(cli):
    result = cli("evaluate", "--csv", str(DATASETS / "Churn_Modelling.csv"), "--target", "Exited")
    assert result.exit_code == 0, result.output
    assert _auc(result.output) >= 0.85
    assert "10,000" in result.output and "20.4%" in result.output
    for column in ("RowNumber", "CustomerId", "Surname"):
        assert column in result.output  # reported as dropped


def test_bank_marketing_semicolons_yes_no_and_drop(cli):
    path = str(DATASETS / "bank-marketing.csv")
    result = cli("evaluate", "--csv", path, "--target", "y", "--drop", "duration", "--cv", "3")
    assert result.exit_code == 0, result.output
    assert _auc(result.output) > 0.7
    assert AUC_LINE.search(result.output).group(1) == "3"
    assert "4,521" in result.output and "yes" in result.output


def test_identifier_and_free_text_columns_are_dropped():
    n = 300
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "RowNumber": np.arange(1, n + 1),
            "client_id": rng.permutation(n) + 10_000,
            "account_no": [f"AC{i:06d}" for i in rng.permutation(n)],
            "Surname": [f"name{i % 120}" for i in range(n)],
            "comment": [f"free text number {i}" for i in range(n)],
            "constant": 1,
            "salary": rng.normal(5000, 900, n),  # unique per row but a real feature
            "age": rng.integers(18, 80, n),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "target": rng.integers(0, 2, n),
        }
    )
    X, y, plan, positive = prepare_table(frame, "target")
    assert plan.dropped == {
        "RowNumber": "identifier",
        "client_id": "identifier",
        "account_no": "identifier",
        "Surname": "free text",
        "comment": "identifier",
        "constant": "constant",
    }
    assert plan.numeric == ["salary", "age"] and plan.categorical == ["city"]
    assert list(X.columns) == ["salary", "age", "city"] and positive == "1"
    with pytest.raises(MiningInputError):
        plan_columns(frame[["RowNumber", "Surname"]])


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        (["yes", "no", "no"], "yes"),
        (["N", "Y", "N"], "Y"),
        ([True, False, False], "True"),
        ([1.0, 0.0, None], "1.0"),
        (["stay", "leave", "stay"], "leave"),  # unknown words: the rarer value
    ],
)
def test_binary_target_mapping(values, positive):
    y, label = binary_target(pd.Series(values, name="t"))
    assert label == positive
    assert list(y) == [1 if str(v) == positive else 0 for v in values if v is not None]


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_bad_inputs_give_one_line_errors(cli, tmp_path):
    """Each error is one line naming what is wrong (checked by names, in any language)."""
    bank = str(DATASETS / "bank-marketing.csv")
    cases = [
        (("--csv", bank, "--target", "nope"), "nope"),  # unknown target
        (("--csv", bank, "--target", "job"), "12"),  # twelve values, not two
        (("--csv", bank, "--target", "y", "--drop", "nothing"), "nothing"),
        (("--csv", _write(tmp_path, "empty.csv", b""), "--target", "y"), "empty.csv"),
        (("--csv", _write(tmp_path, "head.csv", b"a,b,y\n"), "--target", "y"), "head.csv"),
        (("--csv", _write(tmp_path, "one.csv", b"a,y\n1,1\n2,1\n"), "--target", "y"), "1"),
        (("--csv", _write(tmp_path, "x.csv", b"\x00\x01\x02\xff" * 50), "--target", "y"), "x.csv"),
        (("--csv", str(tmp_path / "missing.csv"), "--target", "y"), "missing.csv"),
        (("--csv", str(tmp_path), "--target", "y"), tmp_path.name),
    ]
    for args, expected in cases:
        result = cli("evaluate", *args)
        assert result.exit_code != 0, (args, result.output)
        assert result.output.startswith("Error: "), result.output
        assert result.output.strip().count("\n") == 0, result.output
        assert expected in result.output, (args, result.output)
        assert "Traceback" not in result.output


# -- evaluation ---------------------------------------------------------------------------------
def test_lift_precision_and_calibration():
    y = np.array([1] * 10 + [0] * 90)
    scores = np.linspace(1, 0, 100)
    lift = lift_table(y, scores)
    assert len(lift) == 10 and lift[0]["rate"] == 1.0 and lift[0]["lift"] == pytest.approx(10.0)
    assert lift[0]["cumulative_capture"] == 1.0 and lift[-1]["cumulative_lift"] == 1.0
    assert precision_at_k(y, scores, 0.1) == 1.0 and precision_at_k(y, scores, 20) == 0.5
    bins = calibration_bins(y, scores)
    assert sum(b["rows"] for b in bins) == 100 and bins[-1]["observed"] == 1.0


def test_registry_versions(tmp_path):
    registry = ModelRegistry(tmp_path)
    assert registry.latest("demo") is None
    first = registry.save("demo", {"weights": [1, 2]}, {"metrics": {"auc": float("nan")}})
    second = registry.save("demo", {"weights": [3]}, {"metrics": {"auc": 0.8}})
    assert (first["version"], second["version"]) == (1, 2)
    assert first["metrics"]["auc"] is None  # NaN is not JSON
    assert [v["version"] for v in registry.versions("demo")] == [1, 2]
    model, meta = registry.load("demo")
    assert model == {"weights": [3]} and meta["version"] == 2 and meta["sklearn_version"]
    assert registry.load("demo", 1)[0] == {"weights": [1, 2]}
    assert (tmp_path / "models" / "demo" / "v2" / "meta.json").exists()
    with pytest.raises(ValueError):
        registry.save("../escape", {}, {})
    with pytest.raises(KeyError):
        registry.load("demo", 7)


# -- warehouse features ----------------------------------------------------------------------
FEATURE_SETS = ("customer_features", "potential_value_features", "transaction_mining_features")


def _features(url: str, tables_for=FullAccess, cutoff=CUTOFF, names=FEATURE_SETS) -> dict:
    warehouse = Warehouse(url)
    tables = tables_for(warehouse)
    out = {}
    for name in names:
        frame = F.run(warehouse, tables, getattr(F, name)(tables, cutoff), name)
        out[name] = frame.sort_values("customer_id", ignore_index=True)
    warehouse.close()
    return out


def test_features_are_point_in_time(warehouse_path, tmp_path):
    """Features at a cut-off are the same on a copy of the warehouse without later rows."""
    copy = tmp_path / "before_cutoff.duckdb"
    shutil.copyfile(warehouse_path, copy)
    con = duckdb.connect(str(copy))
    later = {
        "fact_balance_monthly": "month_end",
        "fact_transaction": "txn_date",
        "fact_channel_usage": "month_end",
        "fact_loan": "month_end",
        "fact_budget": "month_end",
        "dim_customer": "open_date",
        "dim_date": "date",
        "ext_industry_news": "publish_date",
    }
    for table, column in later.items():
        con.execute(f"DELETE FROM {table} WHERE {column} > ?", [CUTOFF])
    con.close()

    full = _features(f"duckdb://{warehouse_path}")
    truncated = _features(f"duckdb://{copy}")
    for name, frame in full.items():
        assert len(frame) > 500, name
        pd.testing.assert_frame_equal(frame, truncated[name], check_exact=False, rtol=1e-9)
    assert full["transaction_mining_features"]["stf_count"].sum() > 0

    # The check has teeth: a month later, the copy has no balances while the warehouse has.
    month_later = F.add_months(CUTOFF, 1)
    names = ["customer_features"]
    after_full = _features(f"duckdb://{warehouse_path}", cutoff=month_later, names=names)
    after_cut = _features(f"duckdb://{copy}", cutoff=month_later, names=names)
    assert after_full["customer_features"]["deposit_balance"].sum() > 0
    assert after_cut["customer_features"]["deposit_balance"].sum() == 0


def test_features_are_scoped(warehouse_url):
    bj_cm = Principal(1, "bj_cm", "BJ-CY", frozenset({"customer_manager"}))
    scoped = _features(warehouse_url, lambda wh: ScopedTables(wh, bj_cm))
    full = _features(warehouse_url)
    for name, frame in scoped.items():
        assert len(frame) > 0 and set(frame["branch_id"]) == {"BJ-CY"}, name
        expected = full[name][full[name]["branch_id"] == "BJ-CY"].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            frame, expected, check_dtype=False, check_exact=False, rtol=1e-9
        )


def test_churn_labels_follow_the_relation_definition(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    tables = FullAccess(warehouse)
    labels = F.run(warehouse, tables, F.churn_labels(tables, CUTOFF), "labels")
    con = duckdb.connect(warehouse_url.removeprefix("duckdb://"), read_only=True)
    expected = con.execute(
        """
        WITH dep AS (
          SELECT customer_id, month_end, sum(end_balance) AS total
          FROM fact_balance_monthly JOIN dim_product USING (product_id)
          WHERE category = 'deposit' GROUP BY ALL)
        SELECT c.customer_id,
               (coalesce(later.total, 0) < 0.2 * now.total)::INT AS churned
        FROM dim_customer c
        JOIN dep now ON now.customer_id = c.customer_id AND now.month_end = DATE '2026-06-30'
        LEFT JOIN dep later
          ON later.customer_id = c.customer_id AND later.month_end = DATE '2026-09-30'
        WHERE c.customer_type = 'retail' AND now.total >= 1000
        ORDER BY 1
        """
    ).df()
    con.close()
    warehouse.close()
    got = labels.sort_values("customer_id", ignore_index=True)
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert got["churned"].tolist() == expected["churned"].tolist()
    assert 0 < got["churned"].mean() < 0.2


# -- training ------------------------------------------------------------------------------------
def test_train_command_registers_a_version(cli):
    result = cli("train", "--scenario", "retail-churn")
    assert result.exit_code == 0, result.output
    assert "AUC" in result.output and "retail-churn" in result.output and "v1" in result.output
    settings = cli.app.config["PORTAL_SETTINGS"]
    meta = ModelRegistry(settings.data_dir).latest("retail-churn")
    assert meta["version"] == 1
    assert meta["metrics"]["auc"] > 0.75 and meta["baseline"]["auc"] > 0.6
    assert meta["metrics"]["top_decile_lift"] > 2 and len(meta["lift"]) == 10
    assert meta["calibration"] and meta["importance"][0]["importance"] > 0
    data = meta["training_data"]
    assert data["train_cutoffs"] == ["2026-05-31", "2026-06-30", "2026-07-31"]
    assert data["test_cutoff"] == "2026-08-31" and data["test"]["positives"] > 0
    assert "tenure_months" in meta["features"] and "customer_id" not in meta["features"]

    warehouse = cli.app.extensions["warehouse"]
    scores = score_customers(warehouse, FullAccess(warehouse), settings.data_dir)
    assert len(scores) > 500 and scores["churn_probability"].between(0, 1).all()


def test_background_training_jobs(warehouse_url, tmp_path):
    warehouse = Warehouse(warehouse_url)
    jobs = TrainingJobs(warehouse, tmp_path)
    try:
        tables = FullAccess(warehouse)
        job_id = jobs.start("retail-churn", tables)
        assert jobs.start("retail-churn", tables) == job_id  # one run at a time per scope
        assert jobs.status(job_id)["state"] in ("queued", "running")
        done = jobs.wait(job_id, timeout=120)
        assert done["state"] == "done" and done["progress"] == 1.0, done
        assert done["result"]["version"] == 1 and done["message"] == "Done"
        assert (tmp_path / "models" / "retail-churn" / "v1" / "model.joblib").exists()
        bad = jobs.start(
            "retail-churn", tables, train_cutoffs=["2026-09-30"], test_cutoff="2026-08-31"
        )
        failed = jobs.wait(bad, timeout=60)
        assert failed["state"] == "failed" and "cut-off" in failed["error"]
        assert [j["id"] for j in jobs.jobs()] == [bad, job_id]
        assert jobs.status("unknown") is None
        with pytest.raises(MiningInputError):
            jobs.start("no-such-scenario", tables)
        with pytest.raises(MiningInputError, match="2026-10-31"):  # its labels are not known
            train_scenario(
                warehouse,
                tables,
                "retail-churn",
                tmp_path,
                train_cutoffs=["2026-07-31"],
                test_cutoff="2026-10-31",
            )
    finally:
        jobs.shutdown()
        warehouse.close()
