"""The metric catalog: the shipped file is valid and rich; malformed entries fail loudly."""

import copy
import json

import pytest
import yaml

from datasources.catalog import DEFAULT_PATH, CatalogError, load_catalog, parse_catalog

RAW = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def test_shipped_catalog_meets_the_spec():
    catalog = load_catalog()
    assert len(catalog.metrics) >= 15
    assert len(catalog.dimensions) >= 10
    for metric in catalog.metrics.values():
        assert metric.name.zh and metric.name.en and metric.description.zh and metric.description.en
        assert metric.owner and metric.unit and metric.format
        assert metric.dimensions
        assert metric.upstream, metric.id
    required = {
        "deposit_balance",
        "loan_balance",
        "npl_ratio",
        "new_loans",
        "customer_count",
        "active_customers",
        "churn_rate",
        "payroll_customers",
        "ebank_penetration",
        "budget_attainment",
    }
    assert required <= set(catalog.metrics)
    assert catalog.metric("npl_ratio").upstream[-1] == "fact_loan"


def test_cli_lists_the_catalog_as_json(app):
    result = app.test_cli_runner().invoke(args=["portal", "metrics", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    ids = {m["id"] for m in data["metrics"]}
    assert "deposit_balance" in ids and len(data["dimensions"]) >= 10
    npl = next(m for m in data["metrics"] if m["id"] == "npl_ratio")
    assert npl["name"] == {"zh": "不良率", "en": "NPL ratio"}


def _broken(mutate):
    raw = copy.deepcopy(RAW)
    mutate(raw)
    with pytest.raises(CatalogError) as info:
        parse_catalog(raw, source="test.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda r: r["metrics"]["deposit_balance"].pop("name"),
            "metric 'deposit_balance': 'name' needs non-empty 'zh' and 'en'",
        ),
        (
            lambda r: r["metrics"]["deposit_balance"]["name"].update(en=""),
            "metric 'deposit_balance': 'name' needs non-empty",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(expression="balanse.sum()"),
            "metric 'loan_balance': expression: fact_loan has no column 'balanse'",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(expression="balance.sum("),
            "metric 'loan_balance': expression: formula is not valid",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(expression="balance.drop()"),
            "metric 'loan_balance': expression: method 'drop' is not allowed",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(table="fact_loans"),
            "metric 'loan_balance': unknown table 'fact_loans'",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(time_column="txn_date"),
            "metric 'loan_balance': time_column 'txn_date' is not a column of fact_loan",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(time_grain="daily"),
            "metric 'loan_balance': time_grain must be 'snapshot' or 'flow'",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(format="money"),
            "metric 'loan_balance': format 'money' is not one of",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(owner="marketing"),
            "metric 'loan_balance': owner 'marketing' is not a department",
        ),
        (
            lambda r: r["metrics"]["loan_balance"]["dimensions"].append("planet"),
            "metric 'loan_balance': unknown dimension 'planet'",
        ),
        (
            lambda r: r["metrics"]["loan_balance"]["dimensions"].append("channel"),
            "metric 'loan_balance': dimension 'channel' needs column 'channel', which fact_loan cannot reach",
        ),
        (
            lambda r: r["metrics"]["loan_balance"].update(colour="red"),
            "metric 'loan_balance': unknown field(s) colour",
        ),
        (
            lambda r: r["metrics"]["npl_ratio"].update(
                filter="product.category == 'loan'", table="dim_date"
            ),
            "metric 'npl_ratio'",
        ),
        (
            lambda r: r["metrics"]["churn_rate"]["ratio"].update(numerator="churned"),
            "metric 'churn_rate': ratio refers to unknown metric 'churned'",
        ),
        (
            lambda r: r["metrics"]["budget_attainment"]["dimensions"].append("segment"),
            "metric 'budget_attainment': dimension 'segment' is not allowed for its part 'deposit_budget'",
        ),
        (
            lambda r: r["dimensions"]["branch"].pop("key"),
            "dimension 'branch': needs a 'key' formula",
        ),
        (
            lambda r: r["joins"]["org"].update(key="nope"),
            "join 'org': table 'org' has no column 'nope'",
        ),
        (lambda r: r.pop("metrics"), "section 'metrics' is missing or empty"),
    ],
)
def test_malformed_entries_name_the_entry_and_the_problem(mutate, expected):
    message = _broken(mutate)
    assert expected in message
    assert message.startswith("test.yaml: ")


def test_unreadable_file(tmp_path):
    bad = tmp_path / "metrics.yaml"
    bad.write_text("metrics: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        load_catalog(bad)
