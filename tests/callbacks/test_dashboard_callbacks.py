"""The dashboard pages' callbacks, called as functions by demo users."""

from __future__ import annotations

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pytest
from dash import dcc
from sqlalchemy import select

from callbacks import dashboards as cb
from components.dashboard_charts import EDIT_REMOVE, FORM_ADD, LIST_DUPLICATE
from portal.db import get_db
from portal.models import User
from portal.services import dashboards as svc
from tests.component_tree import find_by_type, texts_in
from tests.conftest import request_as, save_unchecked_dashboard

EN = {"headers": {"Accept-Language": "en"}}
SPEC = {
    "version": 1,
    "charts": [
        {"id": "bar", "type": "bar", "metric": "deposit_balance", "dimension": "branch"},
        {"id": "npl", "type": "kpi", "metric": "npl_ratio"},
        {"id": "grid", "type": "table", "metric": "loan_balance", "dimension": "grade"},
    ],
}


def _create(app, username="analyst", spec=SPEC, title="Deposits") -> str:
    with request_as(app, username, **EN) as user, get_db().session() as s, s.begin():
        return svc.create_dashboard(s, user, app.extensions["metric_catalog"], title, spec).key


def _body(key, chart):
    return {"type": "dash-chart", "dashboard": key, "chart": chart}


def test_each_chart_loads_its_own_body(app):
    key = _create(app)
    with request_as(app, "analyst", **EN):
        bar = cb.load_chart(_body(key, "bar"))
        kpi = cb.load_chart(_body(key, "npl"))
        table = cb.load_chart(_body(key, "grid"))
    figure = find_by_type(bar, dcc.Graph).figure
    assert figure["data"][0]["type"] == "bar" and len(figure["data"][0]["x"]) > 3
    assert any(t.endswith("%") for t in texts_in(kpi))
    grid = find_by_type(table, dag.AgGrid)
    assert grid.rowData and {"d0", "v0", "t0", "c0"} <= set(grid.rowData[0])


def test_the_filters_bar_applies_to_every_chart(app):
    key = _create(app)
    with request_as(app, "analyst", **EN):
        bar = cb.load_chart(_body(key, "bar"), "", None, None, "BJ", None)
        everywhere = cb.load_chart(_body(key, "npl"))
        bj_npl = cb.load_chart(_body(key, "npl"), "", None, None, "BJ", None)
        month = cb.load_chart(_body(key, "bar"), "last_month", None, None, None, None)
        ranged = cb.load_chart(
            _body(key, "bar"), "custom", "2026-01-01", "2026-03-31", "BJ", "DEP-CUR"
        )
    assert find_by_type(bar, dcc.Graph).figure["data"][0]["x"] == ["Beijing Branch"]
    assert texts_in(everywhere)[0] != texts_in(bj_npl)[0]
    assert find_by_type(month, dcc.Graph) is not None
    assert find_by_type(ranged, dcc.Graph).figure["data"][0]["x"] == ["Beijing Branch"]


def test_a_branch_customer_manager_sees_only_beijing(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        bj_cm = s.scalar(select(User).where(User.username == "bj_cm"))
        svc.share_dashboard(s, owner, key, "user", bj_cm.id, "view")
    with request_as(app, "bj_cm", **EN):
        bar = cb.load_chart(_body(key, "bar"))
    assert find_by_type(bar, dcc.Graph).figure["data"][0]["x"] == ["Beijing Branch"]


def test_someone_without_access_gets_an_error_not_data(app):
    key = _create(app)
    with request_as(app, "sh_cm", **EN):
        body = cb.load_chart(_body(key, "bar"))
    assert isinstance(body[0], dbc.Alert)
    assert "This dashboard does not exist." in texts_in(body)
    assert find_by_type(body, dcc.Graph) is None


def test_one_failing_chart_does_not_break_the_others(app, monkeypatch):
    key = _create(app)
    service = app.extensions["metric_service"]
    original = service.query

    def broken(tables, metric_id, **kwargs):
        if metric_id == "npl_ratio":
            raise RuntimeError("warehouse hiccup")
        return original(tables, metric_id, **kwargs)

    monkeypatch.setattr(service, "query", broken)
    with request_as(app, "analyst", **EN):
        failed = cb.load_chart(_body(key, "npl"))
        fine = cb.load_chart(_body(key, "bar"))
        gone = cb.load_chart(_body(key, "no-such-chart"))
    assert "This chart is unavailable right now." in texts_in(failed)
    assert "warehouse hiccup" not in " ".join(texts_in(failed))
    assert find_by_type(fine, dcc.Graph) is not None
    assert "This chart is no longer on the dashboard." in texts_in(gone)


def test_a_broken_saved_dashboard_shows_a_clear_error(app):
    with request_as(app, "analyst", **EN) as user:
        save_unchecked_dashboard(user, {"version": 7, "charts": []})
        body = cb.load_chart(_body("broken", "x"))
        page = next(
            p for p in dash.page_registry.values() if p["path_template"] == "/dashboards/<key>"
        )["layout"](key="broken")
    assert "unsupported version 7" in " ".join(texts_in(body))
    alert = find_by_type(page, dbc.Alert)
    assert alert is not None and "unsupported version 7" in " ".join(texts_in(alert))


def test_the_edit_page_delegation_and_view_page_render(app):
    key = _create(app)
    view = next(p for p in dash.page_registry.values() if p["path_template"] == "/dashboards/<key>")
    with request_as(app, "analyst", **EN):
        page = view["layout"](key=key)
        editor = view["layout"](key=f"{key}/edit")  # the view template also matches /edit
    assert "Deposits" in texts_in(page)
    assert "Add a chart" in texts_in(editor)
    with request_as(app, "bj_cm", **EN):
        refused = view["layout"](key=f"{key}/edit")
    assert "This dashboard does not exist." in texts_in(refused)


def _edit(spec, layout=(), triggered=FORM_ADD, filters=(None, None, None, None, None), **form):
    values = {
        "chart_type": None,
        "metric_id": None,
        "dimension": None,
        "series": None,
        "period": None,
        "top": None,
        "title": None,
        **form,
    }
    return cb.edit_charts(
        1,
        [1] if isinstance(triggered, dict) else [0],
        *filters,
        **values,
        spec=spec,
        grid_layout=list(layout),
        triggered=triggered,
    )


def _previews(grid) -> dict:
    """Return {chart id: preview body} of the editor grid's items."""
    editable = grid[-1]
    return {w.id.split("--", 1)[1]: w.children.children[1] for w in editable.items}


def test_adding_and_removing_charts_in_the_editor(app):
    key = _create(app, spec={"version": 1, "charts": []})
    with request_as(app, "analyst", **EN):
        spec, grid, feedback = _edit(
            svc.empty_spec(),
            chart_type="line",
            metric_id="loan_balance",
            dimension="month",
            series="grade",
            period="last_12_months",
            top=5,
        )
        assert [c["type"] for c in spec["charts"]] == ["line"]
        assert spec["charts"][0]["series_dimension"] == "grade"
        assert "Chart added. Save to keep it." in texts_in(feedback)
        assert (
            find_by_type(_previews(grid)["c1"].children, dcc.Graph) is not None
        )  # rendered in place
        spec, grid, _ = _edit(
            spec,
            [{"i": "dash-edit-grid--c1", "x": 0, "y": 0, "w": 12, "h": 6}],
            chart_type="kpi",
            metric_id="npl_ratio",
            dimension="branch",
            title="NPL",
        )
        assert spec["charts"][0]["layout"] == {"x": 0, "y": 0, "w": 12, "h": 6}  # the grid's
        assert spec["charts"][1]["dimension"] is None and spec["charts"][1]["title"] == "NPL"
        assert spec["charts"][1]["layout"]["y"] == 6
        everywhere = texts_in(_previews(grid)["c2"])
        # a map needs a branch dimension: refused with the reason, the draft unchanged
        bad = _edit(spec, chart_type="map", metric_id="deposit_balance", dimension="segment")
        assert bad[0] is dash.no_update and "a map shows branches" in " ".join(texts_in(bad[2]))
        # new default filters re-render the previews with them
        spec, grid, _ = _edit(
            spec, triggered="edit-dash-filter-branch", filters=("", None, None, "BJ", None)
        )
        beijing = texts_in(_previews(grid)["c2"])
        assert beijing[0] != everywhere[0] and beijing[0].endswith("%")
        spec, grid, _ = _edit(spec, triggered={"type": EDIT_REMOVE, "chart": "c1"})
        assert [c["id"] for c in spec["charts"]] == ["c2"]
        with pytest.raises(dash.exceptions.PreventUpdate):
            cb.edit_charts(
                0, [0], *([None] * 12), spec, [], triggered={"type": EDIT_REMOVE, "chart": "c2"}
            )
        status = cb.save(1, key, "NPL board", spec, [], "last_month", None, None, "BJ", None)
    assert "Saved." in texts_in(status)
    with request_as(app, "analyst", **EN) as user, get_db().session() as s:
        saved = svc.get_dashboard(s, user, key)
        assert saved.title_en == "NPL board"
        assert saved.spec["filters"] == {"period": "last_month", "branch": "BJ"}
        assert [c["id"] for c in saved.spec["charts"]] == ["c2"]


def test_form_offers_the_dimensions_a_metric_allows(app):
    with request_as(app, "analyst", **EN):
        options, value, series, _ = cb.form_dimensions("npl_ratio", "bar", "grade")
        assert "grade" not in {o["value"] for o in options} and value == "branch"
        options, value, series, _ = cb.form_dimensions("npl_ratio", "map", None)
        assert [o["value"] for o in options] == ["branch", "sub_branch"] and series == []
        assert cb.form_dimensions("npl_ratio", "kpi", "branch") == ([], None, [], None)


def test_a_viewer_cannot_save_and_the_dashboard_is_unchanged(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        bj_cm = s.scalar(select(User).where(User.username == "bj_cm"))
        svc.share_dashboard(s, owner, key, "user", bj_cm.id, "view")
    with request_as(app, "bj_cm", **EN):
        status = cb.save(
            1, key, "Hijacked", {"version": 1, "charts": []}, [], "", None, None, None, None
        )
    assert "You may view this dashboard but not change it." in texts_in(status)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s:
        stored = svc.get_dashboard(s, owner, key)
        assert stored.title_en == "Deposits" and len(stored.spec["charts"]) == 3


def test_create_duplicate_and_delete_from_the_list(app):
    with request_as(app, "analyst", **EN):
        href, feedback = cb.create(1, "  ")
        assert href is dash.no_update and "Please give the dashboard a title." in texts_in(feedback)
        href, _ = cb.create(1, "My board")
        key = href.split("/")[2]
        assert href == f"/dashboards/{key}/edit"
        href, _ = cb.duplicate_from_list([1], triggered={"type": LIST_DUPLICATE, "key": key})
        copy_key = href.split("/")[2]
        opened, pending, question = cb.ask_delete([0, 1], triggered={"type": "x", "key": key})
        assert opened and pending == key and "My board" in question
        cards, is_open, status = cb.confirm_delete(1, key)
        assert is_open is False and "Dashboard deleted." in texts_in(status)
        with pytest.raises(dash.exceptions.PreventUpdate):
            cb.ask_delete([0, 0], triggered={"type": "x", "key": copy_key})
    with request_as(app, "analyst", **EN) as user, get_db().session() as s:
        keys = {d["key"] for d in svc.list_dashboards(s, user)}
    assert copy_key in keys and key not in keys
    with request_as(app, "bj_cm", **EN):
        _, _, status = cb.confirm_delete(1, copy_key)
    assert "This dashboard does not exist." in texts_in(status)


def test_sharing_from_the_dialog(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as owner:
        is_open, targets, rows, published = cb.open_share(1, key)
        assert is_open and published is False
        target = next(t["value"] for t in targets if "(bj_cm)" in t["label"])
        rows, feedback = cb.change_share(1, [], target, "edit", key, triggered="dash-share-submit")
        assert "Shared." in texts_in(feedback)
        with get_db().session() as s:
            grant_id = svc.list_shares(s, owner, key)[0]["id"]
        assert cb.publish(True, key) is None
        rows, _ = cb.change_share(
            1, [1], None, None, key, triggered={"type": "dash-share-remove", "grant": grant_id}
        )
        assert "Nobody yet." in texts_in(rows)
    with request_as(app, "bj_cm", **EN):
        _, _, rows, _ = cb.open_share(1, key)  # published: may view, may not manage
        assert "Only the owner or a manager of this dashboard may do that." in texts_in(rows)


def test_the_widget_grid_and_its_layout_conversion():
    from dash import html

    from components.grid import from_grid_layout, item_id, to_grid_layout, widget_grid

    layout = {"a": {"x": 0, "y": 0, "w": 6, "h": 4}, "b": {"x": 10, "y": 2, "w": 6, "h": 3}}
    assert to_grid_layout(layout, "g") == [
        {"i": "g--a", "x": 0, "y": 0, "w": 6, "h": 4},
        {"i": "g--b", "x": 10, "y": 2, "w": 2, "h": 3},  # kept inside the 12 columns
    ]
    assert to_grid_layout(layout)[0]["i"] == "a"
    moved = [{"i": "g--b", "x": 3, "y": 7, "w": 4, "h": 2, "moved": False}, {"i": "g--zz"}]
    expected = {
        "a": {"x": 0, "y": 0, "w": 6, "h": 4},
        "b": {"x": 3, "y": 7, "w": 4, "h": 2},
        "new": {"x": 0, "y": 0, "w": 6, "h": 4},
    }
    assert from_grid_layout(moved, ["a", "b", "new"], layout, grid_id="g") == expected
    assert from_grid_layout(moved, ["a", "b", "new"], layout) == expected
    assert from_grid_layout(moved, ["b"], layout, grid_id="other") == {
        "b": {"x": 10, "y": 2, "w": 2, "h": 3}
    }
    items = [("a", html.Div("A"), "Chart A"), ("b", html.Div("B"))]
    editable = widget_grid("g", items, layout, True)
    assert [w.id for w in editable.items] == [item_id("g", "a"), "g--b"]
    assert editable.items[0].handleText == "Chart A"
    assert editable.itemLayout == to_grid_layout(layout, "g")
    static = widget_grid("g", items, layout, False)
    assert static.className == "widget-grid"
    assert static.children[1].style == {"--gx": 11, "--gy": 3, "--gw": 2, "--gh": 3}
