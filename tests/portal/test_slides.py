"""Slide sets (screens), default sets per audience and each user's own carousel slides."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from datasources.relations import FullAccess
from portal.db import get_db
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Resource, User, UserSetting
from portal.services import slides as S
from tests.conftest import request_as


@pytest.fixture
def seeded(app):
    with app.app_context(), get_db().session() as s, s.begin():
        S.seed_screen_demo(s)  # the demo store may have them already (setup seeds them)
        keys = set(s.scalars(select(Resource.key).where(Resource.type == "screen")))
        assert {"executive", "retail", "risk", "ebank"} <= keys
    return app


def _user(s, username: str) -> User:
    return s.scalar(select(User).where(User.username == username))


def _keys(sets) -> list[str]:
    return [x["key"] for x in sets]


def test_seeding_is_idempotent_and_keeps_an_administrators_edits(seeded):
    with seeded.app_context(), get_db().session() as s, s.begin():
        admin = _user(s, "admin")
        S.save_set(
            s,
            admin,
            {
                "key": "retail",
                "title_zh": "零售（自定义）",
                "title_en": "Retail (custom)",
                "slides": ["customer_count"],
                "audience": {"roles": ["customer_manager"]},
                "default": True,
            },
        )
    with seeded.app_context(), get_db().session() as s, s.begin():
        assert S.seed_screen_demo(s) == 0
        count = s.scalar(
            select(func.count()).select_from(Resource).where(Resource.type == "screen")
        )
        assert count == 4
        retail = s.scalar(
            select(Resource).where(Resource.type == "screen", Resource.key == "retail")
        )
        assert retail.title_en == "Retail (custom)" and retail.spec["slides"] == ["customer_count"]


def test_each_audience_sees_its_sets_and_gets_its_default(seeded):
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}), get_db().session() as s:
        expected = {
            "leader": (["executive", "retail", "risk", "ebank"], "executive"),
            "analyst": (["retail", "risk", "ebank"], "retail"),
            "bj_cm": (["retail"], "retail"),
            "ops": (["ebank"], "ebank"),
            "admin": (["executive", "retail", "risk", "ebank"], "executive"),
            "auditor": ([], None),
        }
        for username, (sets, default) in expected.items():
            user = _user(s, username)
            assert _keys(S.list_sets(s, user, "en")) == sets, username
            found = S.default_set_for(s, user, "en")
            assert (found["key"] if found else None) == default, username


def test_a_set_for_a_branch_reaches_its_sub_branches_only(seeded):
    with seeded.app_context(), get_db().session() as s, s.begin():
        S.save_set(
            s,
            _user(s, "admin"),
            {
                "key": "beijing",
                "title_zh": "北京分行",
                "title_en": "Beijing branch",
                "slides": [
                    "deposit_balance",
                    {"metric": "loan_balance", "breakdown": "sub_branch"},
                ],
                "audience": {"branches": ["BJ"]},
            },
        )
    with seeded.app_context(), get_db().session() as s:
        assert "beijing" in _keys(S.list_sets(s, _user(s, "bj_cm")))  # sits in BJ-CY
        assert "beijing" not in _keys(S.list_sets(s, _user(s, "sh_cm")))
        with pytest.raises(Forbidden):
            S.get_set(s, _user(s, "sh_cm"), "beijing")
        found = S.get_set(s, _user(s, "bj_cm"), "beijing", "zh_CN")
        assert found["title"] == "北京分行"
        assert found["slides"] == [
            {"metric": "deposit_balance", "breakdown": "branch"},
            {"metric": "loan_balance", "breakdown": "sub_branch"},
        ]
        with pytest.raises(NotFound):
            S.get_set(s, _user(s, "bj_cm"), "no-such-set")


def test_the_user_chooses_their_own_slides(seeded):
    with request_as(seeded, "bj_cm", headers={"Accept-Language": "en"}) as user:
        with get_db().session() as s:
            shown = S.user_slides(s, user, "en")
        assert shown["source"] == "set" and shown["set"] == "retail" and shown["notice"] is None
        assert shown["slides"][0] == {"metric": "customer_count", "breakdown": "branch"}
        with get_db().session() as s, s.begin():
            saved = S.save_user_slides(s, user, ["npl_ratio", "transaction_amount"])
        assert saved == [
            {"metric": "npl_ratio", "breakdown": "branch"},
            {"metric": "transaction_amount", "breakdown": "branch"},
        ]
        with get_db().session() as s:
            shown = S.user_slides(s, user, "en")
            setting = s.scalar(select(UserSetting).where(UserSetting.user_id == user.id))
        assert shown["source"] == "user" and [x["metric"] for x in shown["slides"]] == [
            "npl_ratio",
            "transaction_amount",
        ]
        assert setting.key == "carousel" and setting.value["version"] == 1
        with get_db().session() as s, s.begin():
            S.reset_user_slides(s, user)
        with get_db().session() as s:
            assert S.user_slides(s, user, "en")["source"] == "set"


@pytest.mark.parametrize(
    "ids, code",
    [
        ([], "no_slides"),
        ("deposit_balance", "bad_slides"),
        ([1, 2], "bad_slides"),
        (["deposit_balance", "deposit_balance"], "duplicate_slide"),
        (["deposit_balance", "no_such_metric"], "unknown_metric"),
        (["deposit_balance"] * 13, "too_many_slides"),
    ],
)
def test_a_bad_choice_is_refused_and_the_stored_one_kept(seeded, ids, code):
    with request_as(seeded, "analyst", headers={"Accept-Language": "zh-CN"}) as user:
        with get_db().session() as s, s.begin():
            S.save_user_slides(s, user, ["loan_balance"])
        with pytest.raises(Invalid) as err, get_db().session() as s, s.begin():
            S.save_user_slides(s, user, ids)
        assert err.value.code == code
        assert err.value.message and not err.value.message.isascii()  # in Chinese
        with get_db().session() as s:
            assert [x["metric"] for x in S.user_slides(s, user)["slides"]] == ["loan_balance"]


@pytest.mark.parametrize(
    "value",
    [
        "not a dict",
        {"version": 2, "slides": [{"metric": "loan_balance"}]},
        {"version": 1, "slides": "loan_balance"},
        {"version": 1, "slides": []},
        {"version": 1, "slides": [{"metric": "gone_from_the_catalog"}]},
        {"version": 1, "slides": [{"metric": "loan_balance", "breakdown": "no_dim"}]},
    ],
)
def test_a_stored_value_that_does_not_validate_falls_back_with_a_notice(seeded, value):
    with request_as(seeded, "leader", headers={"Accept-Language": "en"}) as user:
        with get_db().session() as s, s.begin():
            s.add(UserSetting(user_id=user.id, key="carousel", version=1, value=value))
        with get_db().session() as s:
            shown = S.user_slides(s, user, "en")
        assert shown["source"] == "set" and shown["set"] == "executive"
        assert "could not be read" in shown["notice"]


def test_a_user_no_set_is_meant_for_gets_the_fallback_slides(seeded):
    with (
        request_as(seeded, "auditor", headers={"Accept-Language": "en"}) as user,
        get_db().session() as s,
    ):
        shown = S.user_slides(s, user, "en")
    assert shown["source"] == "fallback" and shown["set"] is None
    assert [x["metric"] for x in shown["slides"]] == list(S.FALLBACK_SLIDES)


def test_only_administrators_manage_sets_and_bad_sets_are_refused(seeded):
    good = {
        "key": "board",
        "title_zh": "董事会",
        "title_en": "Board",
        "slides": ["deposit_balance", {"metric": "npl_ratio", "breakdown": "region"}],
        "audience": {"roles": ["leader"], "groups": [], "branches": []},
        "interval_s": 12,
        "refresh_s": 600,
    }
    with seeded.app_context(), get_db().session() as s, s.begin():
        with pytest.raises(Forbidden):
            S.save_set(s, _user(s, "leader"), good)
        bad_cases = [
            ({"key": "Bad Key!"}, "bad_key"),
            ({"title_en": ""}, "bad_title"),
            ({"slides": []}, "bad_slides"),
            ({"slides": ["no_such_metric"]}, "unknown_metric"),
            ({"slides": [{"metric": "npl_ratio", "breakdown": "month"}]}, "unknown_metric"),
            ({"audience": {"roles": ["pope"]}}, "unknown_role"),
            ({"audience": {"planets": ["mars"]}}, "bad_audience"),
            ({"interval_s": 1}, "bad_timing"),
            ({"refresh_s": "soon"}, "bad_timing"),
        ]
        for change, code in bad_cases:
            with pytest.raises(Invalid) as err:
                S.save_set(s, _user(s, "admin"), {**good, **change})
            assert err.value.code == code, change
        assert s.scalar(select(Resource).where(Resource.key == "board")) is None
        S.save_set(s, _user(s, "admin"), good)
    with seeded.app_context(), get_db().session() as s:
        found = S.get_set(s, _user(s, "leader"), "board", "en")
        assert found["interval_s"] == 12 and found["refresh_s"] == 600
        assert found["slides"][1] == {"metric": "npl_ratio", "breakdown": "region"}
        event = s.scalar(select(AuditEvent).where(AuditEvent.event_type == "screen_created"))
        assert event is not None and event.object_id == "board"


def test_slide_data_is_scoped_to_the_viewer(seeded):
    from portal.security import current_tables

    service = seeded.extensions["metric_service"]
    slide = {"metric": "deposit_balance", "breakdown": "branch"}
    everything = S.slide_data(service, FullAccess(service.warehouse), slide, "en")
    with request_as(seeded, "bj_cm", headers={"Accept-Language": "en"}):
        mine = S.slide_data(service, current_tables(), slide, "en")
    assert mine["metric"] == "deposit_balance" and mine["breakdown_dim"] == "branch"
    assert len(mine["trend"]["rows"]) == 12
    assert mine["result"]["rows"][0]["value"] < everything["result"]["rows"][0]["value"]
    assert {r["branch"] for r in mine["breakdown"]["rows"]} == {"BJ"}
    assert len(everything["breakdown"]["rows"]) == 12
