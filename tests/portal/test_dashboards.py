"""Self-service dashboards: the spec document, commands, permissions and filtered chart data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datasources.relations import FullAccess
from portal.db import get_db
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Grant, Resource, Role, User
from portal.security import current_tables
from portal.services import dashboards as svc
from portal.services.dashboard_demo import DEMO_DASHBOARDS, seed_dashboard_demo
from tests.conftest import request_as, save_unchecked_dashboard

EN = {"headers": {"Accept-Language": "en"}}


def _catalog(app):
    return app.extensions["metric_catalog"]


def _spec(*charts, **extra) -> dict:
    return {"version": 1, "charts": list(charts), **extra}


BAR = {"id": "a", "type": "bar", "metric": "deposit_balance", "dimension": "branch"}
KPI = {"id": "k", "type": "kpi", "metric": "npl_ratio"}


# -- the spec ---------------------------------------------------------------------------------
def test_a_spec_is_normalised_and_charts_are_placed(app):
    with app.test_request_context(**EN):
        spec = svc.validate_spec(
            _spec(
                BAR,
                KPI,
                {
                    "id": "t",
                    "type": "line",
                    "metrics": ["loan_balance", "npl_balance"],
                    "dimension": "month",
                    "layout": {"x": 0, "y": 30, "w": 12, "h": 4},
                },
            ),
            _catalog(app),
        )
    charts = {c["id"]: c for c in spec["charts"]}
    assert spec["version"] == 1 and spec["filters"] == {} and spec["published"] is False
    assert (
        charts["a"]["metrics"] == ["deposit_balance"] and charts["a"]["metric"] == "deposit_balance"
    )
    assert charts["t"]["metric"] == "loan_balance"
    # new charts take the first free spots; the placed one moves up until it meets them
    assert charts["a"]["layout"] == {"x": 0, "y": 0, "w": 6, "h": 5}
    assert charts["k"]["layout"] == {"x": 6, "y": 0, "w": 3, "h": 3}
    assert charts["t"]["layout"] == {"x": 0, "y": 5, "w": 12, "h": 4}
    boxes = [c["layout"] for c in spec["charts"]]
    for i, a in enumerate(boxes):
        assert a["x"] + a["w"] <= 12
        for b in boxes[i + 1 :]:
            assert not svc._overlaps(a, b)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not json", "must be a JSON object"),
        ({"version": 2, "charts": []}, "unsupported version 2"),
        ({"charts": "x"}, "'charts' must be a list"),
        (_spec({"type": "bar"}), "chart 1 has no valid id"),
        (_spec(BAR, BAR), "chart id a is used twice"),
        (_spec({**BAR, "type": "radar"}), "unknown chart type radar"),
        (_spec({**BAR, "metric": "no_such"}), "unknown metric no_such"),
        (_spec({**BAR, "dimension": "channel"}), "cannot be broken down by channel"),
        (_spec({**BAR, "dimension": None}), "needs a dimension"),
        (_spec({**KPI, "dimension": "branch"}), "a KPI card has no dimension"),
        (_spec({**BAR, "type": "map", "dimension": "segment"}), "a map shows branches"),
        (_spec({**BAR, "series_dimension": "branch"}), "must differ from the dimension"),
        (_spec({**BAR, "top": 0.5}), "'top' must be a whole number"),
        (_spec({**BAR, "period": "next_year"}), "the period must be one of"),
        (_spec({**BAR, "period": {"start": "2026-05-01", "end": "2026-01-01"}}), "invalid period"),
        (_spec({**BAR, "layout": {"x": 20, "y": 0, "w": 2, "h": 2}}), "invalid layout"),
        (_spec(BAR, filters={"region": "x"}), "unknown filter region"),
        (_spec(BAR, published="yes"), "'published' must be true or false"),
    ],
)
def test_a_bad_spec_is_refused_with_a_clear_message(app, raw, reason):
    with app.test_request_context(**EN), pytest.raises(Invalid) as caught:
        svc.validate_spec(raw, _catalog(app))
    assert caught.value.code == "bad_dashboard_spec"
    assert caught.value.message.startswith("This dashboard definition is invalid")
    assert reason in caught.value.message


def test_a_broken_saved_spec_gives_an_error_not_a_crash(app):
    with request_as(app, "analyst", **EN) as user:
        save_unchecked_dashboard(user, {"version": 1, "charts": [{"id": "x", "type": "pie"}]})
        with get_db().session() as s:
            resource = svc.get_dashboard(s, user, "broken")
            with pytest.raises(Invalid, match="chart x: it needs a metric"):
                svc.load_spec(resource, _catalog(app))
            # a copy of a broken dashboard is still usable (empty)
            copy = svc.duplicate_dashboard(s, user, _catalog(app), "broken", "en")
            assert copy.spec["charts"] == []


# -- commands and permissions ------------------------------------------------------------------
def _create(app, username="analyst", spec=None, title="Deposits"):
    with request_as(app, username, **EN) as user, get_db().session() as s, s.begin():
        return svc.create_dashboard(s, user, _catalog(app), title, spec or _spec(BAR, KPI)).key


def test_create_save_duplicate_delete(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as user:
        with get_db().session() as s, s.begin():
            resource = svc.get_dashboard(s, user, key, "edit")
            assert resource.owner_id == user.id and resource.title_en == "Deposits"
            assert [c["id"] for c in resource.spec["charts"]] == ["a", "k"]
            svc.save_dashboard(
                s,
                user,
                _catalog(app),
                key,
                _spec(KPI, filters={"branch": "BJ"}),
                title="NPL watch",
                locale="en",
            )
        with get_db().session() as s:
            saved = svc.get_dashboard(s, user, key)
            assert saved.title_en == "NPL watch" and saved.title_zh == "Deposits"
            assert [c["id"] for c in saved.spec["charts"]] == ["k"]
            assert saved.spec["filters"] == {"branch": "BJ"}
        with get_db().session() as s, s.begin():
            copy = svc.duplicate_dashboard(s, user, _catalog(app), key, "en")
            copy_key = copy.key
        assert copy_key != key
        with get_db().session() as s:
            listed = {d["key"]: d for d in svc.list_dashboards(s, user, "en")}
        assert listed[copy_key]["title"] == "NPL watch (copy)" and listed[copy_key]["mine"]
        with get_db().session() as s, s.begin():
            svc.delete_dashboard(s, user, key)
        with get_db().session() as s:
            with pytest.raises(NotFound):
                svc.get_dashboard(s, user, key)
            events = set(
                s.scalars(select(AuditEvent.event_type).where(AuditEvent.actor_name == "analyst"))
            )
    assert {
        "dashboard_create",
        "dashboard_save",
        "dashboard_duplicate",
        "dashboard_delete",
    } <= events


def test_bad_input_leaves_the_stored_dashboard_unchanged(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as user:
        with get_db().session() as s, s.begin():
            before = dict(svc.get_dashboard(s, user, key).spec)
        for bad in (_spec({**BAR, "metric": "nope"}), _spec(BAR, BAR)):
            with pytest.raises(Invalid), get_db().session() as s, s.begin():
                svc.save_dashboard(s, user, _catalog(app), key, bad, title="Changed")
        with (
            pytest.raises(Invalid, match="give the dashboard a title"),
            get_db().session() as s,
            s.begin(),
        ):
            svc.save_dashboard(s, user, _catalog(app), key, _spec(KPI), title="  ")
        with get_db().session() as s:
            after = svc.get_dashboard(s, user, key)
            assert after.spec == before and after.title_zh == "Deposits"


def test_permissions_owner_view_edit_manage(app):
    key = _create(app)
    with request_as(app, "bj_cm", **EN) as stranger, get_db().session() as s:
        with pytest.raises(NotFound):
            svc.get_dashboard(s, stranger, key)
        assert key not in {d["key"] for d in svc.list_dashboards(s, stranger)}
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        bj_cm = s.scalar(select(User).where(User.username == "bj_cm"))
        svc.share_dashboard(s, owner, key, "user", bj_cm.id, "view")
    with request_as(app, "bj_cm", **EN) as viewer:
        with get_db().session() as s:
            assert svc.get_dashboard(s, viewer, key).key == key
            listed = {d["key"]: d for d in svc.list_dashboards(s, viewer)}
            assert listed[key]["can_edit"] is False and listed[key]["mine"] is False
        with pytest.raises(Forbidden), get_db().session() as s:
            svc.save_dashboard(s, viewer, _catalog(app), key, _spec(KPI))
        with pytest.raises(Forbidden), get_db().session() as s:
            svc.share_dashboard(s, viewer, key, "user", viewer.id, "edit")
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        bj_cm = s.scalar(select(User).where(User.username == "bj_cm"))
        svc.share_dashboard(s, owner, key, "user", bj_cm.id, "edit")
        shares = svc.list_shares(s, owner, key, "en")
        assert {(x["permission"], x["subject_type"]) for x in shares} == {
            ("view", "user"),
            ("edit", "user"),
        }
    with request_as(app, "bj_cm", **EN) as editor:
        with get_db().session() as s:
            listed = {d["key"]: d for d in svc.list_dashboards(s, editor)}
            assert listed[key]["can_edit"] is True and listed[key]["can_manage"] is False
        with get_db().session() as s, s.begin():
            svc.save_dashboard(s, editor, _catalog(app), key, _spec(KPI))
        with pytest.raises(Forbidden), get_db().session() as s:  # edit is not manage
            svc.delete_dashboard(s, editor, key)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        for share in svc.list_shares(s, owner, key):
            svc.unshare_dashboard(s, owner, key, share["id"])
    with (
        request_as(app, "bj_cm", **EN) as stranger,
        get_db().session() as s,
        pytest.raises(NotFound),
    ):
        svc.get_dashboard(s, stranger, key)


def test_sharing_is_only_view_or_edit_with_someone_real(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s:
        with pytest.raises(Invalid, match="view or to edit"):
            svc.share_dashboard(s, owner, key, "user", owner.id, "manage")
        with pytest.raises(NotFound, match="Nobody to share with"):
            svc.share_dashboard(s, owner, key, "user", 99999, "view")
        with pytest.raises(NotFound):
            svc.share_dashboard(s, owner, key, "planet", 1, "view")


def test_sharing_with_a_group_and_publishing(app):
    key = _create(app)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        group = s.scalar(select(User).where(User.username == "sh_cm")).groups[0]
        svc.share_dashboard(s, owner, key, "group", group.id, "view")
    with request_as(app, "sh_cm", **EN) as member, get_db().session() as s:
        assert svc.get_dashboard(s, member, key)
    with (
        request_as(app, "ops", **EN) as other,
        get_db().session() as s,
        pytest.raises(NotFound),
    ):
        svc.get_dashboard(s, other, key)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        svc.set_published(s, owner, key, True)
    with request_as(app, "ops", **EN) as other, get_db().session() as s:
        listed = {d["key"]: d for d in svc.list_dashboards(s, other)}
        assert listed[key]["published"] and not listed[key]["can_edit"]
        with pytest.raises(Forbidden):
            svc.set_published(s, other, key, False)
    with request_as(app, "analyst", **EN) as owner, get_db().session() as s, s.begin():
        rid = svc.get_dashboard(s, owner, key).id
        svc.delete_dashboard(s, owner, key)
    with app.app_context(), get_db().session() as s:  # the group's share went with it
        assert s.scalar(select(func.count(Grant.id)).where(Grant.resource_id == rid)) == 0


# -- chart data ---------------------------------------------------------------------------------
def _chart(app, **chart):
    with app.test_request_context(**EN):
        return svc.validate_spec(_spec({"id": "c", **chart}), _catalog(app))["charts"][0]


def test_a_branch_filter_changes_the_chart_data(app):
    service = app.extensions["metric_service"]
    chart = _chart(app, type="bar", metric="deposit_balance", dimension="branch")
    with request_as(app, "leader", **EN):
        everything = svc.chart_data(service, current_tables(), chart, {}, "en")
        bj = svc.chart_data(service, current_tables(), chart, {"branch": "BJ"}, "en")
    assert len({r["branch"] for r in everything["rows"]}) > 3
    assert [r["branch"] for r in bj["rows"]] == ["BJ"]
    expected = service.query(
        FullAccess(app.extensions["warehouse"]), "deposit_balance", by=["branch"]
    )
    by_branch = {r["branch"]: r["value"] for r in expected["rows"]}
    assert bj["rows"][0]["values"][0] == pytest.approx(by_branch["BJ"])
    assert bj["notes"] == []


def test_a_product_filter_a_metric_cannot_take_is_a_note_not_an_error(app):
    service = app.extensions["metric_service"]
    chart = _chart(app, type="bar", metric="budget_attainment", dimension="branch")
    with request_as(app, "leader", **EN):
        plain = svc.chart_data(service, current_tables(), chart, {}, "en")
        filtered = svc.chart_data(service, current_tables(), chart, {"product": "DEP-CUR"}, "en")
    assert filtered["rows"] == plain["rows"]
    assert filtered["notes"] == [
        "Deposit budget attainment cannot be filtered by Product: that filter is not applied to it."
    ]


def test_a_period_filter_overrides_the_charts_own_period(app):
    service = app.extensions["metric_service"]
    chart = _chart(app, type="line", metric="loan_balance", dimension="month")
    with request_as(app, "leader", **EN):
        own = svc.chart_data(service, current_tables(), chart, {}, "en")
        quarter = svc.chart_data(service, current_tables(), chart, {"period": "last_quarter"}, "en")
    assert own["period"]["name"] == "last_12_months" and len(own["rows"]) == 12
    assert quarter["period"]["name"] == "last_quarter" and len(quarter["rows"]) == 3


def test_a_branch_customer_manager_sees_only_bj(app):
    service = app.extensions["metric_service"]
    chart = _chart(app, type="table", metric="deposit_balance", dimension="branch")
    with request_as(app, "bj_cm", **EN):
        mine = svc.chart_data(service, current_tables(), chart, {}, "en")
        other = svc.chart_data(service, current_tables(), chart, {"branch": "SH"}, "en")
    assert [r["branch"] for r in mine["rows"]] == ["BJ"]
    assert other["rows"] == []


def test_multi_metric_series_top_and_map(app):
    service = app.extensions["metric_service"]
    with request_as(app, "leader", **EN):
        tables = current_tables()
        two = svc.chart_data(
            service,
            tables,
            _chart(app, type="line", metrics=["loan_balance", "npl_balance"], dimension="month"),
            {},
            "en",
        )
        series = svc.chart_data(
            service,
            tables,
            _chart(
                app, type="area", metric="loan_balance", dimension="month", series_dimension="grade"
            ),
            {},
            "en",
        )
        top = svc.chart_data(
            service,
            tables,
            _chart(app, type="pie", metric="deposit_balance", dimension="branch", top=3),
            {},
            "en",
        )
        mapped = svc.chart_data(
            service,
            tables,
            _chart(app, type="map", metric="deposit_balance", dimension="branch"),
            {},
            "en",
        )
    assert all(len(r["values"]) == 2 for r in two["rows"])
    assert all(r["values"][1] <= r["values"][0] for r in two["rows"] if r["values"][1])
    assert len({r["grade"] for r in series["rows"]}) >= 3
    values = [r["values"][0] for r in top["rows"]]
    assert len(values) == 3 and values == sorted(values, reverse=True)
    assert "BJ" in mapped["coordinates"] and 39 < mapped["coordinates"]["BJ"][0] < 41


# -- demo content ------------------------------------------------------------------------------
def test_demo_dashboards_are_seeded_once_and_shared_with_business_roles(app):
    with app.app_context():
        with get_db().session() as s, s.begin():
            seed_dashboard_demo(s)  # the demo store may have them already
        with get_db().session() as s, s.begin():
            assert seed_dashboard_demo(s) == 0
        with get_db().session() as s, s.begin():
            s.delete(s.scalar(select(Resource).where(Resource.key == "demo-risk")))
        with get_db().session() as s, s.begin():
            assert seed_dashboard_demo(s) == 1
        with get_db().session() as s:
            grants = s.scalar(
                select(func.count())
                .select_from(Grant)
                .join(Resource, Resource.id == Grant.resource_id)
                .where(Resource.type == "dashboard")
            )
            roles = s.scalar(
                select(func.count())
                .select_from(Role)
                .where(
                    Role.code.in_(
                        ("leader", "analyst", "data_owner", "operator", "customer_manager")
                    )
                )
            )
            assert grants == len(DEMO_DASHBOARDS) * roles
    with request_as(app, "bj_cm", **EN) as user, get_db().session() as s:
        keys = {d["key"] for d in svc.list_dashboards(s, user)}
        assert {d["key"] for d in DEMO_DASHBOARDS} <= keys
        spec = svc.load_spec(svc.get_dashboard(s, user, "demo-risk"), _catalog(app))
        assert {c["type"] for c in spec["charts"]} >= {"kpi", "bar", "area", "map", "table"}
    with request_as(app, "admin", **EN) as admin, get_db().session() as s:
        assert svc.list_dashboards(s, admin) == []
