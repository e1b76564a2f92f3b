"""The catalog's formula language: what compiles, and what is refused."""

import ibis
import pytest

from datasources.formula import FormulaError, compile_formula, referenced_names

T = ibis.table(
    {"balance": "float64", "grade": "string", "n": "int64", "p__category": "string"}, name="t"
)


def col(name):
    return T[name]


def test_ratio_with_where_compiles_to_sql():
    expr = compile_formula("balance.sum(where=grade.isin(['次级', '可疑'])) / balance.sum()", col)
    sql = ibis.to_sql(expr.name("v"), dialect="duckdb")
    assert "SUM" in sql.upper() and "次级" in sql and "NULLIF" in sql.upper()


def test_joined_names_and_boolean_logic():
    expr = compile_formula("p.category == 'deposit' and not (n > 3 or balance <= 0)", col)
    assert expr.type().is_boolean()
    assert referenced_names("p.category == 'x' and n > 1") == {"p__category", "n"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('id')", "not allowed"),
        ("ifelse.__globals__", "not allowed"),
        ("sum(balance)", "only column methods"),
        ("balance.__class__", "is not allowed"),
        ("balance.to_pandas()", "method 'to_pandas' is not allowed"),
        ("balance ** 2", "operator Pow is not allowed"),
        ("lambda: 1", "'Lambda' is not allowed"),
        ("balance.sum(how='x')", "does not take the argument 'how'"),
        ("[n for n in x]", "'ListComp' is not allowed"),
        ("", "formula is empty"),
        ("balance.sum(", "not valid"),
        ("n in [balance]", "constants only"),
    ],
)
def test_unsafe_or_malformed_formulas_are_refused(text, message):
    with pytest.raises(FormulaError, match=message):
        compile_formula(text, col)


def test_unknown_column_is_reported_by_resolver():
    def strict(name):
        if name not in T.columns:
            raise FormulaError(f"unknown column '{name}'")
        return T[name]

    with pytest.raises(FormulaError, match="unknown column 'nope'"):
        compile_formula("nope.sum()", strict)


def test_a_filtered_sum_over_no_matching_rows_is_zero():
    import duckdb

    con = ibis.duckdb.from_connection(duckdb.connect())
    t = con.create_table("loans", {"balance": [100.0, 50.0], "grade": ["正常", "关注"]})
    ratio = compile_formula(
        "balance.sum(where=grade.isin(['次级'])) / balance.sum()", t.__getitem__
    )
    assert con.execute(t.aggregate(v=ratio))["v"][0] == 0.0
