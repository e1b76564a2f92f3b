"""The pivot page: layout, run, drill-down, export, save and reopen, called as functions."""

from __future__ import annotations

import base64
import io
import re
import sys
from unittest.mock import patch

import dash
import openpyxl
import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import select

from callbacks import pivot as cb
from portal.db import get_db
from portal.models import AuditEvent, Resource, View
from portal.security import current_tables
from portal.services.pivot import pivot_service
from portal.services.pivot_export import safe_text, to_csv, to_xlsx
from tests.component_tree import find_by_id, texts_in
from tests.conftest import request_as

EN = {"headers": {"Accept-Language": "en"}}
ZH = {"headers": {"Accept-Language": "zh-CN"}}
# mode, dataset, rows, columns, values, metrics, period, filters, sort, top
CONTROLS = (
    "dataset",
    "fact_loan",
    ["region", "branch"],
    ["grade"],
    ["sum:balance", "count:"],
    [],
    "this_month",
    ['{"field": "month", "op": "eq", "value": "2026-11"}'],
    "",
    None,
)


@pytest.fixture
def app(pivot_demo_app):
    return pivot_demo_app


def _run(*controls, fmt="negative"):
    with patch.object(cb, "ctx") as fake:
        fake.triggered_id = "pivot-run"
        return cb.run_pivot(1, fmt, False, *controls)


def _leaves(defs) -> list[dict]:
    out = []
    for d in defs:
        out.extend(_leaves(d["children"]) if "children" in d else [d])
    return out


def test_spec_and_controls_round_trip():
    spec = {
        "dataset": "fact_transaction",
        "rows": ["branch"],
        "columns": ["channel"],
        "values": [{"field": "amount", "agg": "sum"}, {"agg": "count"}],
        "filters": [{"field": "channel", "op": "in", "value": ["atm", "pos"]}],
        "sort": {"by": "v0", "desc": True},
        "top": {"n": 5, "by": "v0"},
    }
    c = cb.controls_from_spec(spec)
    filters = [cb.filter_option(f, {})["value"] for f in c["filters"]]
    again = cb.spec_from_controls(
        c["mode"], c["dataset"], c["rows"], c["columns"], c["values"], c["metrics"],
        c["period"], filters, c["sort"], c["top"],
    )  # fmt: skip
    assert again == spec
    metric = {"rows": ["branch"], "values": [{"metric": "npl_ratio"}], "period": "ytd"}
    c = cb.controls_from_spec(metric)
    assert c["mode"] == "metrics" and c["metrics"] == ["npl_ratio"] and c["period"] == "ytd"
    assert cb.spec_from_controls("metrics", None, ["branch"], [], [], ["npl_ratio"], "ytd",
                                 [], "", None) == metric  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "op", "field", "expected"),
    [
        ("2026-10", "eq", {"type": "date"}, "2026-10"),
        ("atm, pos，counter", "in", {"type": "string"}, ["atm", "pos", "counter"]),
        ("1,000.5", "gt", {"type": "float64"}, 1000.5),
        ("12", "eq", {"type": "int64"}, 12),
        ("是", "eq", {"type": "boolean"}, True),
        ("no", "eq", {"type": "boolean"}, False),
    ],
)
def test_filter_values_are_typed(app, raw, op, field, expected):
    with app.test_request_context():
        assert cb.parse_filter_value(raw, op, field) == expected


def test_new_page_layout_in_both_languages(app):
    page = sys.modules["pages.pivot"]
    with request_as(app, "analyst", **ZH):
        texts = texts_in(page.layout())
    assert "透视分析" in texts and "行" in texts and "运行" in texts
    with request_as(app, "analyst", **EN):
        layout = page.layout()
    texts = texts_in(layout)
    assert "Pivot analysis" in texts and "Run" in texts
    assert find_by_id(layout, "pivot-autorun").data is True  # the default pivot runs at once
    assert find_by_id(layout, "pivot-dataset").value == "fact_transaction"


def test_opening_a_saved_pivot_fills_the_builder_records_a_view_and_runs(app):
    page = sys.modules["pages.pivot"]
    with request_as(app, "bj_cm", **EN):
        layout = page.layout(id="demo-retail-payroll-branch")
        with get_db().session() as s:
            resource = s.scalar(
                select(Resource).where(Resource.key == "demo-retail-payroll-branch")
            )
            views = s.scalars(select(View).where(View.resource_id == resource.id)).all()
    assert find_by_id(layout, "pivot-title").children == "Payroll customers by branch and segment"
    assert find_by_id(layout, "pivot-autorun").data is True
    assert find_by_id(layout, "pivot-dataset").value == "dim_customer"
    assert find_by_id(layout, "pivot-rows").value == ["branch", "sub_branch"]
    assert find_by_id(layout, "pivot-share-url").value.endswith(
        "/pivot?id=demo-retail-payroll-branch"
    )
    assert find_by_id(layout, {"type": "favorite-star", "resource": resource.id}) is not None
    assert len(views) == 1 and find_by_id(layout, "pivot-open-error") is None


def test_a_pivot_the_user_may_not_open_shows_a_clear_error(app):
    page = sys.modules["pages.pivot"]
    with request_as(app, "admin", **EN):
        layout = page.layout(id="demo-risk-loan-grade")
    error = find_by_id(layout, "pivot-open-error")
    assert error is not None and "permission" in " ".join(texts_in(error))
    assert find_by_id(layout, "pivot-autorun").data is False
    with request_as(app, "admin", **ZH):
        missing = page.layout(id="no-such-pivot")
    assert "不存在" in " ".join(texts_in(find_by_id(missing, "pivot-open-error")))


def test_run_shows_subtotals_totals_and_the_service_numbers(app):
    with request_as(app, "leader", **EN):
        defs, rows, style, box, notice, summary, spec, meta = _run(*CONTROLS)
        expected = pivot_service().pivot(current_tables(), spec, locale="en")
    assert box == {"display": "block"} and notice is None
    assert [r["_level"] for r in rows] == [r["_level"] for r in expected["data"]]
    total = rows[-1]
    assert total["_level"] == "total" and total["_h0"] == "Grand total"
    assert total["v0_total"] == expected["grand_total"]["v0_total"]
    subtotal = next(r for r in rows if r["_level"] == 1)
    assert subtotal["_h0"].endswith(" subtotal") and subtotal["_h1"] == ""
    headers = [d["headerName"] for d in defs[:2]]
    assert headers == ["Region", "Branch"] and defs[0]["pinned"] == "left"
    leaves = _leaves(defs[2:])
    assert leaves[0]["field"] == "v0_c0" and "d3.format(',.2f')" in str(leaves[0]["valueFormatter"])
    assert leaves[1]["valueFormatter"]["function"].endswith("d3.format(',.0f')(params.value)")
    assert leaves[0]["cellClassRules"] == {"pivot-negative": "params.value < 0"}
    assert "Sum of Loan balance in all" in " ".join(texts_in(summary))
    assert meta["row_keys"][-1] == {} and meta["columns"] == ["grade"]
    with request_as(app, "leader", **EN):
        scaled = _leaves(_run(*CONTROLS, fmt="scale")[0][2:])
    assert any("styleConditions" in leaf.get("cellStyle", {}) for leaf in scaled)


def test_bad_controls_show_a_translated_alert(app):
    bad = list(CONTROLS)
    bad[4] = ["sum:grade"]
    with request_as(app, "leader", **ZH):
        out = _run(*bad)
    assert out[3] == {"display": "none"} and out[6] is None
    assert "不能" in " ".join(texts_in(out[4])) or texts_in(out[4])
    with request_as(app, "leader", **EN):
        out = _run(*bad)
    assert "cannot be applied" in " ".join(texts_in(out[4]))


def test_the_cell_limit_notice_is_shown(app):
    app.extensions["pivot_service"].cell_limit = 20
    with request_as(app, "leader", **EN):
        out = _run(*CONTROLS)
    assert "more than the limit of 20" in " ".join(texts_in(out[4]))


def _drill(meta, clicked=None, trigger="pivot-grid", state=None):
    with patch.object(cb, "ctx") as fake:
        fake.triggered_id = trigger
        return cb.drill(clicked, None, None, meta, state)


def test_drill_down_pages_through_a_cells_rows(app):
    with request_as(app, "leader", **EN):
        *_, spec, meta = _run(*CONTROLS)
        bj = next(i for i, k in enumerate(meta["row_keys"]) if k.get("branch") == "BJ")
        normal = next(c for c, key in meta["header"].items() if key == ["正常"])
        out = _drill(meta, {"colId": f"v1_{normal}", "rowId": str(bj)})
        is_open, title, defs, rows, page, prev_off, next_off, state, alert = out
        count = pivot_service().pivot(current_tables(), spec)["data"][bj][f"v1_{normal}"]
        assert is_open and alert is None and "Branch = BJ" in title and "Loan grade = 正常" in title
        assert len(rows) == min(50, count) and all(r["grade"] == "正常" for r in rows)
        assert f"{count} rows" in page and prev_off
        assert next_off == (count <= 50)
        if count > 50:
            again = _drill(meta, trigger="pivot-drill-next", state=state)
            assert again[7]["page"] == 2 and len(again[3]) == min(50, count - 50)
        with pytest.raises(PreventUpdate):  # a row header cell is not a value: nothing to drill
            _drill(meta, {"colId": "_h0", "rowId": "0"})


def test_bj_cm_never_sees_another_branch_or_raw_pii(app):
    controls = (
        "dataset", "dim_customer", ["sub_branch"], [], ["count:"], [], "this_month", [], "", None,
    )  # fmt: skip
    with request_as(app, "bj_cm", **EN):
        _defs, rows, *_rest, spec, meta = _run(*controls)
        assert {r["sub_branch"] for r in rows if r["_level"] == 0} == {"BJ-CY"}
        out = _drill(meta, {"colId": "v0_total", "rowId": str(len(rows) - 1)})
        detail = out[3]
        assert detail and {r["branch_id"] for r in detail} == {"BJ-CY"}
        assert all(re.fullmatch(r".\*+", r["name"]) for r in detail)
        assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", r["phone"]) for r in detail)
        other = dict(meta, row_keys=[{"sub_branch": "SH-PD"}])
        assert _drill(other, {"colId": "v0_total", "rowId": "0"})[3] == []
        download, alert = _export(spec, "pivot-export-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"]))).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "Beijing Chaoyang Sub-branch" in cells
    assert not any("Shanghai" in c or "SH-" in c for c in cells)


def test_metric_pivots_do_not_drill(app):
    with request_as(app, "leader", **EN):
        controls = ("metrics", None, ["branch"], [], [], ["npl_ratio"], "last_month", [], "", None)
        *_, meta = _run(*controls)
        out = _drill(meta, {"colId": "v0_total", "rowId": "0"})
    assert "not on catalog metrics" in " ".join(texts_in(out[8]))


def _export(spec, trigger, saved=None):
    with patch.object(cb, "ctx") as fake:
        fake.triggered_id = trigger
        return cb.export(1, None, spec, saved)


def _close(expected):
    """What an exported cell must equal: nothing for an empty cell, else the number to 12 digits."""
    return None if expected is None else pytest.approx(expected, rel=1e-12)


def test_excel_export_keeps_the_shape_and_the_numbers(app):
    with request_as(app, "leader", **EN):
        *_, spec, _meta = _run(*CONTROLS)
        result = pivot_service().pivot(current_tables(), spec, locale="en")
        download, alert = _export(spec, "pivot-export-xlsx", {"title": "Loans", "key": "k1"})
    assert alert is None and download["filename"] == "Loans.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(download["content"])))
    ws = book.active
    assert ws["A1"].value == "Loans" and ws["A3"].value == "Region" and ws["B3"].value == "Branch"
    assert ws.cell(row=3, column=3).value == result["header"][0]["label"][0]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "C3:D3" in merged  # a grade spans its two values
    assert (
        ws.cell(row=4, column=3).value == "Sum of Loan balance"
        and ws.cell(row=4, column=4).value == "Row count"
    )
    first = result["data"][0]
    assert ws.cell(row=5, column=2).value == first["branch_label"]
    # The export runs the pivot again; DuckDB's parallel sums may differ in the last bits.
    assert ws.cell(row=5, column=3).value == _close(first["v0_c0"])
    assert ws.cell(row=5, column=3).number_format == "#,##0.00"
    assert ws.cell(row=5, column=4).number_format == "#,##0"
    last = ws.max_row
    assert ws.cell(row=last, column=1).value == "Grand total" and ws.cell(row=last, column=1).font.b
    n = len(result["header"]) * 2
    assert ws.cell(row=last, column=2 + n - 1).value == _close(result["grand_total"]["v0_total"])
    with app.app_context(), get_db().session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "pivot_export"))
    assert event.details["format"] == "xlsx" and event.object_id == "k1"


def test_csv_export_and_formula_injection():
    assert safe_text("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert [safe_text(x) for x in ("+1", "-2", "@x", "ok", None)] == ["'+1", "'-2", "'@x", "ok", ""]
    result = {
        "rows": ["branch"], "columns": [], "fields": {"branch": "=Branch"},
        "values": [{"label": "@Sum", "agg": "sum", "field": "amount"},
                   {"label": "NPL", "metric": "npl_ratio", "format": "percent"}],
        "header": [{"id": "total", "key": [], "label": ["Total"], "total": True}],
        "data": [
            {"_level": 0, "branch": "=cmd|' /C calc'!A0", "v0_total": -5.5, "v1_total": 0.0123},
            {"_level": "total", "branch": None, "v0_total": -5.5, "v1_total": 0.0123},
        ],
        "notice": None,
    }  # fmt: skip
    text = to_csv(result).decode("utf-8-sig").splitlines()
    assert text[0] == "'=Branch,'@Sum,NPL"
    assert text[1] == "'=cmd|' /C calc'!A0,-5.5,0.0123"
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(result, "+title"))).active
    assert ws["A1"].value == "'+title" and ws["A3"].value == "'=Branch"
    assert ws["A4"].value == "'=cmd|' /C calc'!A0" and ws["B4"].value == -5.5
    assert ws["C4"].number_format == "0.00%"


def test_export_before_running_asks_to_run_first(app):
    with request_as(app, "leader", **EN):
        download, alert = _export(None, "pivot-export-csv")
    assert download is None and "Run the pivot first" in " ".join(texts_in(alert))


def _save(title_zh, title_en, overwrite, saved, controls=CONTROLS):
    return cb.save(1, title_zh, title_en, overwrite, saved, *controls)


def test_save_then_overwrite_or_refuse(app):
    with request_as(app, "analyst", **EN):
        is_open, info, feedback, url, title = _save("贷款", "Loans", False, None)
        assert is_open is False and info["title"] == "Loans" and info["can_edit"]
        assert url.endswith(f"/pivot?id={info['key']}") and title == "Loans"
        changed = list(CONTROLS)
        changed[3] = ["collateral"]
        again = _save("贷款", "Loans v2", True, info, tuple(changed))
        assert again[1]["key"] == info["key"] and again[1]["title"] == "Loans v2"
    with request_as(app, "leader", **EN):
        refused = _save("x", "x", True, info)
        assert refused[1] is dash.no_update and "save it as a new pivot" in " ".join(
            texts_in(refused[2])
        )
        empty = _save("", "", False, None)
        assert "Give the pivot a title" in " ".join(texts_in(empty[2]))
    with app.app_context(), get_db().session() as s:
        resource = s.scalar(select(Resource).where(Resource.key == info["key"]))
        assert resource.spec["columns"] == ["collateral"] and resource.title_en == "Loans v2"


def test_add_filter_builds_chips_and_refuses_empty_values(app):
    with request_as(app, "analyst", **EN):
        options, values, feedback = cb.add_filter(
            1, "dataset", "fact_transaction", "channel", "in", "atm, pos", [], []
        )
        assert values == ['{"field": "channel", "op": "in", "value": ["atm", "pos"]}']
        assert options[0]["label"] == "Channel is one of atm, pos" and feedback is None
        _o, _v, problem = cb.add_filter(
            1, "dataset", "fact_transaction", "channel", "eq", " ", [], []
        )
        assert "Type a value" in " ".join(texts_in(problem))
