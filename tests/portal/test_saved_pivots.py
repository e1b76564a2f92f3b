"""Saved pivots: save, reopen, overwrite, delete, and who may do which (SPEC §4.2)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import get_db
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Grant, Resource, Role, User, View
from portal.security import current_tables
from portal.services import saved_pivots
from portal.services.pivot import pivot_service
from portal.services.pivot_demo import DEMO_PIVOTS, seed_pivot_demo
from tests.conftest import request_as

SPEC = {
    "dataset": "fact_loan",
    "rows": ["branch"],
    "columns": ["grade"],
    "values": [{"field": "balance", "agg": "sum"}],
    "filters": [{"field": "month", "op": "eq", "value": "2026-11"}],
}


def _user(s, username):
    return s.scalar(select(User).where(User.username == username))


def _pivots(s) -> int:
    return s.scalar(select(func.count()).select_from(Resource).where(Resource.type == "pivot"))


def _validate(spec):
    pivot_service().parse(current_tables(), spec)


def _save(app, username="analyst", spec=SPEC, **kwargs):
    kwargs.setdefault("title_zh", "贷款五级分类")
    headers = {"Accept-Language": "en"}
    with request_as(app, username, headers=headers), get_db().session() as s, s.begin():
        resource = saved_pivots.save_pivot(
            s, _user(s, username), spec, validate=_validate, **kwargs
        )
        return resource.key


def test_save_then_open_records_a_view_and_returns_the_request(app):
    key = _save(app, title_en="Loans by grade", description="五级分类")
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        with get_db().session() as s, s.begin():
            user = _user(s, "analyst")
            opened = saved_pivots.open_pivot(s, user, key, "en")
        with get_db().session() as s:
            resource = s.scalar(select(Resource).where(Resource.key == key))
            views = s.scalar(
                select(func.count()).select_from(View).where(View.resource_id == resource.id)
            )
            audit = s.scalar(
                select(AuditEvent)
                .where(AuditEvent.event_type == "pivot_save")
                .order_by(AuditEvent.id.desc())
            )
    assert opened["spec"] == SPEC and opened["title"] == "Loans by grade"
    assert opened["title_zh"] == "贷款五级分类" and opened["description"] == "五级分类"
    assert opened["is_owner"] and opened["can_edit"] and opened["owner"] == "陈静"
    assert opened["url"] == f"/pivot?id={key}" and opened["favorite"] is False
    assert resource.type == "pivot" and resource.spec == SPEC and views == 1
    assert audit.object_id == key and audit.details["action"] == "create"


def test_one_title_serves_both_languages(app):
    key = _save(app, title_zh=None, title_en="  Only   English ")
    with app.app_context(), get_db().session() as s:
        resource = s.scalar(select(Resource).where(Resource.key == key))
        assert resource.title_en == resource.title_zh == "Only English"


@pytest.mark.parametrize(
    ("spec", "kwargs", "code"),
    [
        ("rows", {}, "invalid_json"),
        ({}, {}, "invalid_json"),
        ({**SPEC, "limit": 5}, {}, "unknown_key"),
        (SPEC, {"title_zh": "", "title_en": " "}, "missing_title"),
        (SPEC, {"title_zh": "x" * 201}, "bad_title"),
        (SPEC, {"title_zh": 5}, "bad_title"),
        (SPEC, {"description": "x" * 2001}, "bad_description"),
        ({**SPEC, "rows": ["nope"]}, {}, "unknown_field"),
        ({**SPEC, "values": []}, {}, "missing_values"),
    ],
)
def test_bad_saves_are_refused_and_store_nothing(app, spec, kwargs, code):
    with app.app_context(), get_db().session() as s:
        before = _pivots(s)
    with pytest.raises(Invalid) as caught:
        _save(app, spec=spec, **kwargs)
    assert caught.value.code == code and caught.value.message
    with app.app_context(), get_db().session() as s:
        assert _pivots(s) == before


def test_others_cannot_open_without_a_grant_then_can_with_one(app):
    key = _save(app)
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        with get_db().session() as s:
            with pytest.raises(Forbidden) as caught:
                saved_pivots.open_pivot(s, _user(s, "bj_cm"), key)
            assert caught.value.code == "pivot_forbidden"
            assert "permission" in caught.value.message
        with get_db().session() as s, s.begin():
            resource = s.scalar(select(Resource).where(Resource.key == key))
            role = s.scalar(select(Role).where(Role.code == "customer_manager"))
            s.add(
                Grant(
                    subject_type="role",
                    subject_id=role.id,
                    resource_id=resource.id,
                    permission="view",
                )
            )
        with get_db().session() as s, s.begin():
            opened = saved_pivots.open_pivot(s, _user(s, "bj_cm"), key)
        assert opened["spec"] == SPEC and not opened["can_edit"] and not opened["is_owner"]


def test_overwriting_needs_the_edit_permission(app):
    key = _save(app)
    changed = {**SPEC, "columns": ["collateral"]}
    with pytest.raises(Forbidden) as caught:
        _save(app, "leader", spec=changed, key=key)
    assert caught.value.code == "pivot_read_only"
    with app.app_context(), get_db().session() as s:
        assert s.scalar(select(Resource).where(Resource.key == key)).spec == SPEC
    with app.app_context(), get_db().session() as s, s.begin():
        resource = s.scalar(select(Resource).where(Resource.key == key))
        leader = _user(s, "leader")
        s.add(
            Grant(
                subject_type="user",
                subject_id=leader.id,
                resource_id=resource.id,
                permission="edit",
            )
        )
    assert _save(app, "leader", spec=changed, key=key, title_zh="改") == key
    with app.app_context(), get_db().session() as s:
        resource = s.scalar(select(Resource).where(Resource.key == key))
        assert resource.spec == changed and resource.title_zh == "改"
        assert resource.owner_id == _user(s, "analyst").id  # the owner stays


def test_unknown_keys_are_not_found(app):
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        with get_db().session() as s:
            for key in ("nope", "", None, 5, "x" * 300):
                with pytest.raises(NotFound) as caught:
                    saved_pivots.get_pivot(s, _user(s, "analyst"), key)
                assert caught.value.code == "pivot_not_found"
        with pytest.raises(NotFound):
            _save(app, key="missing-key")


def test_only_the_owner_deletes(app):
    key = _save(app)
    with request_as(app, "leader"), get_db().session() as s, pytest.raises(Forbidden):
        saved_pivots.delete_pivot(s, _user(s, "leader"), key)
    with request_as(app, "analyst"):
        with get_db().session() as s, s.begin():
            saved_pivots.delete_pivot(s, _user(s, "analyst"), key)
        with get_db().session() as s, pytest.raises(NotFound):
            saved_pivots.find_pivot(s, key)


def test_published_pivots_open_to_everyone_and_stay_published(app):
    key = _save(app)
    with app.app_context(), get_db().session() as s, s.begin():
        resource = s.scalar(select(Resource).where(Resource.key == key))
        resource.spec = {**SPEC, "published": True}
    with request_as(app, "sh_cm"), get_db().session() as s, s.begin():
        opened = saved_pivots.open_pivot(s, _user(s, "sh_cm"), key)
    assert opened["spec"] == SPEC  # the request only, ready for the pivot service
    _save(app, key=key, spec={**SPEC, "columns": []})
    with app.app_context(), get_db().session() as s:
        assert s.scalar(select(Resource).where(Resource.key == key)).spec["published"] is True


def test_demo_seed_is_idempotent_and_shared_by_role(app):
    with app.app_context(), get_db().session() as s, s.begin():
        first = seed_pivot_demo(s)
    with app.app_context(), get_db().session() as s, s.begin():
        again = seed_pivot_demo(s)
    assert again == {"pivots": 0, "reports": 0, "grants": 0}
    assert first["pivots"] in (0, len(DEMO_PIVOTS))  # 0 when setup already seeded them
    with request_as(app, "bj_cm"):
        with get_db().session() as s, s.begin():
            opened = saved_pivots.open_pivot(s, _user(s, "bj_cm"), "demo-retail-payroll-branch")
        assert opened["owner"] == "陈静" and not opened["can_edit"]
    # the system administrator reads no business data
    with request_as(app, "admin"), get_db().session() as s, pytest.raises(Forbidden):
        saved_pivots.get_pivot(s, _user(s, "admin"), "demo-retail-payroll-branch")


@pytest.mark.parametrize("key", sorted(DEMO_PIVOTS))
def test_every_demo_pivot_runs_on_the_small_warehouse(app, key):
    spec = DEMO_PIVOTS[key][4]
    with request_as(app, "leader", headers={"Accept-Language": "zh-CN"}):
        result = pivot_service().pivot(current_tables(), spec, locale="zh_CN")
    leaves = [r for r in result["data"] if r["_level"] == 0]
    assert leaves and result["grand_total"] is not None and not result["truncated"]
    assert result["grand_total"]["v0_total"]
