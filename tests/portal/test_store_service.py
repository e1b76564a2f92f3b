"""The app store service: lifecycle and review, likes, ratings, comments, installs, counters.

Every test runs on SQLite and on PostgreSQL (the `db` fixture); the concurrency tests prove
the counters exact with many threads liking and installing at once.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Favorite, Resource, User
from portal.models.store import AppComment, AppInstall, AppLike, AppRating, StoreApp
from portal.services import store
from portal.services.audit import verify_chain


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


APP = {
    "title_zh": "存款余额看板",
    "title_en": "Deposit balance board",
    "kind": "external",
    "target_url": "/dashboards/deposit",
    "description": "Deposits by branch",
    "tags": ["存款", "deposit"],
    "category": "deposit",
    "params": {"branch": "HO", "months": 12, "compare": True},
}


def _make_app(db, author="analyst", listed=True, **changes) -> int:
    with db.session() as s, s.begin():
        app = store.create_app(s, _user(s, author), {**APP, **changes})
        app_id = app.id
        if listed:
            store.submit_app(s, _user(s, author), app_id)
            store.review_app(s, _user(s, "admin"), app_id, "approve")
    return app_id


def _app(db, app_id) -> StoreApp:
    with db.session() as s:
        return s.get(StoreApp, app_id)


def test_lifecycle_draft_submit_reject_edit_approve_unlist_list_is_audited(db):
    app_id = _make_app(db, listed=False)
    with db.session() as s, s.begin():
        app = s.get(StoreApp, app_id)
        assert app.status == "draft" and app.resource.type == "app"
        assert app.resource.spec["published"] is False
        # Others do not see a draft; an admin does.
        with pytest.raises(NotFound):
            store.get_app(s, _user(s, "bj_cm"), app_id)
        store.get_app(s, _user(s, "admin"), app_id)
        # Only the author submits; only an admin reviews.
        with pytest.raises(Forbidden):
            store.submit_app(s, _user(s, "admin"), app_id)
        store.submit_app(s, _user(s, "analyst"), app_id)
        with pytest.raises(Forbidden):
            store.review_app(s, _user(s, "analyst"), app_id, "approve")
        with pytest.raises(Forbidden):
            store.review_app(s, _user(s, "leader"), app_id, "approve")
        with pytest.raises(Invalid) as missing_reason:
            store.review_app(s, _user(s, "admin"), app_id, "reject", "  ")
        assert missing_reason.value.code == "missing_field"
        store.review_app(s, _user(s, "admin"), app_id, "reject", "请补充口径说明")
    with db.session() as s, s.begin():
        app = s.get(StoreApp, app_id)
        assert app.status == "rejected" and app.review_reason == "请补充口径说明"
        store.update_app(s, _user(s, "analyst"), app_id, {"description": "口径：月末余额"})
        assert app.status == "draft"
        store.submit_app(s, _user(s, "analyst"), app_id)
        with pytest.raises(Forbidden):
            store.update_app(s, _user(s, "analyst"), app_id, {"description": "x"})
        store.review_app(s, _user(s, "admin"), app_id, "approve")
        assert app.status == "listed" and app.resource.spec["published"] is True
        store.get_app(s, _user(s, "bj_cm"), app_id)
        with pytest.raises(Forbidden):
            store.unlist_app(s, _user(s, "analyst"), app_id)
        store.unlist_app(s, _user(s, "admin"), app_id, "口径调整")
        with pytest.raises(NotFound):
            store.get_app(s, _user(s, "bj_cm"), app_id)
        store.list_app(s, _user(s, "admin"), app_id)
        assert app.status == "listed"
    with db.session() as s:
        events = s.scalars(
            select(AuditEvent.event_type)
            .where(AuditEvent.object_type == "app")
            .order_by(AuditEvent.id)
        ).all()
        assert events == [
            "app_create",
            "app_submit",
            "app_review",
            "app_submit",
            "app_review",
            "app_unlist",
            "app_list",
        ]
        assert verify_chain(s) == (True, None)


def test_bad_input_is_refused_and_nothing_is_stored(db):
    bad = [
        ({**APP, "kind": "spreadsheet"}, "bad_kind"),
        ({**APP, "title_zh": "", "title_en": None}, "missing_title"),
        ({**APP, "target_url": "javascript:alert(1)"}, "bad_url"),
        ({**APP, "target_url": None}, "missing_target"),
        ({**APP, "category": "weather"}, "bad_category"),
        ({**APP, "tags": "x" * 40}, "bad_tags"),
        ({**APP, "params": {"bad name": 1}}, "bad_param_name"),
        ({**APP, "params": {"n": {"nested": 1}}}, "bad_param_value"),
        ({**APP, "preview": "javascript:alert(1)"}, "bad_url"),
        ({**APP, "title_zh": "长" * 101}, "too_long"),
    ]
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Resource))
    for data, code in bad:
        with db.session() as s, s.begin(), pytest.raises(Invalid) as error:
            store.create_app(s, _user(s, "analyst"), data)
        assert error.value.code == code, data
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(StoreApp)) == 0
        assert s.scalar(select(func.count()).select_from(Resource)) == before


def test_like_favorite_rate_are_idempotent_and_counted(db):
    app_id = _make_app(db)
    with db.session() as s, s.begin():
        cm = _user(s, "bj_cm")
        store.like(s, cm, app_id)
        store.like(s, cm, app_id)
        store.favorite(s, cm, app_id)
        store.favorite(s, cm, app_id)
        store.rate(s, cm, app_id, 4)
        store.rate(s, _user(s, "sh_cm"), app_id, 5)
        store.rate(s, cm, app_id, 2)  # changes bj_cm's rating
        with pytest.raises(Invalid):
            store.rate(s, cm, app_id, 6)
        with pytest.raises(Invalid):
            store.rate(s, cm, app_id, True)
        with pytest.raises(Forbidden):
            store.rate(s, _user(s, "analyst"), app_id, 5)  # not one's own app
    app = _app(db, app_id)
    assert (app.like_count, app.favorite_count) == (1, 1)
    assert (app.rating_count, app.rating_sum, store.rating_average(app)) == (2, 7, 3.5)
    with db.session() as s, s.begin():
        cm = _user(s, "bj_cm")
        marks = store.my_marks(s, cm, s.get(StoreApp, app_id))
        assert marks["liked"] and marks["favorite"] and marks["stars"] == 2
        assert s.scalar(select(Favorite.id).where(Favorite.user_id == cm.id)) is not None
        store.unlike(s, cm, app_id)
        store.unlike(s, cm, app_id)
        store.unfavorite(s, cm, app_id)
    app = _app(db, app_id)
    assert (app.like_count, app.favorite_count) == (0, 0)


def test_comments_are_threaded_stored_as_given_edited_and_removed(db):
    app_id = _make_app(db)
    script = '<script>alert("x")</script> **bold** & 中文'
    with db.session() as s, s.begin():
        top = store.add_comment(s, _user(s, "bj_cm"), app_id, script)
        reply = store.add_comment(s, _user(s, "analyst"), app_id, "谢谢", parent_id=top.id)
        store.add_comment(s, _user(s, "sh_cm"), app_id, "同问", parent_id=reply.id)
        top_id, reply_id = top.id, reply.id
        with pytest.raises(Invalid):
            store.add_comment(s, _user(s, "bj_cm"), app_id, "   ")
        with pytest.raises(Invalid):
            store.add_comment(s, _user(s, "bj_cm"), app_id, "x", parent_id=99999)
    with db.session() as s:
        page = store.list_comments(s, _user(s, "leader"), app_id)
        assert page["total"] == 1
        [root] = page["items"]
        assert root["body"] == script  # exactly as given
        assert root["replies"][0]["body"] == "谢谢"
        assert root["replies"][0]["replies"][0]["body"] == "同问"
    with db.session() as s, s.begin():
        with pytest.raises(Forbidden):
            store.edit_comment(s, _user(s, "sh_cm"), top_id, "hijack")
        with pytest.raises(Forbidden):
            store.delete_comment(s, _user(s, "sh_cm"), top_id)
        store.edit_comment(s, _user(s, "bj_cm"), top_id, "改过了")
        store.delete_comment(s, _user(s, "admin"), reply_id)
    with db.session() as s:
        [root] = store.list_comments(s, _user(s, "bj_cm"), app_id)["items"]
        assert root["body"] == "改过了" and root["edited"]
        removed = root["replies"][0]
        assert removed["deleted"] and removed["body"] is None
        assert removed["replies"][0]["body"] == "同问"  # replies stay
        assert s.get(AppComment, reply_id).body == "谢谢"  # soft delete keeps the row
        assert s.get(StoreApp, app_id).comment_count == 2
        assert (
            s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.event_type == "comment_remove")
            )
            == 1
        )


def test_install_makes_an_independent_copy_with_its_own_params(db):
    app_id = _make_app(db)
    with db.session() as s, s.begin():
        cm = _user(s, "bj_cm")
        record = store.install(s, cm, app_id)
        again = store.install(s, cm, app_id)
        assert again.id == record.id
        install_id, copy_id = record.id, record.resource_id
        copy = s.get(Resource, copy_id)
        assert copy.owner_id == cm.id and copy.type == "external"
        assert copy.spec["installed_from"] == app_id
        assert copy.spec["params"] == APP["params"]
    with db.session() as s, s.begin():
        cm = _user(s, "bj_cm")
        with pytest.raises(Invalid) as unknown:
            store.update_install_params(s, cm, install_id, {"colour": "red"})
        assert unknown.value.code == "unknown_param"
        with pytest.raises(Invalid):
            store.update_install_params(s, cm, install_id, {"months": "twelve"})
        with pytest.raises(NotFound):
            store.update_install_params(s, _user(s, "sh_cm"), install_id, {"months": 6})
    with db.session() as s, s.begin():
        record = store.update_install_params(s, _user(s, "bj_cm"), install_id, {"branch": "BJ"})
        assert record.params == {**APP["params"], "branch": "BJ"}
        assert "branch=BJ" in s.get(Resource, copy_id).spec["url"]
    with db.session() as s:
        app = s.get(StoreApp, app_id)
        assert app.params == APP["params"]  # the original is untouched
        assert app.install_count == 1
        [mine] = store.my_apps(s, _user(s, "bj_cm"))
        assert mine["params"]["branch"] == "BJ" and "branch=BJ" in mine["link"]
        assert store.author_stats(s, _user(s, "analyst"), app_id)["install_count"] == 1
        with pytest.raises(Forbidden):
            store.author_stats(s, _user(s, "sh_cm"), app_id)
    with db.session() as s, s.begin():
        store.uninstall(s, _user(s, "bj_cm"), app_id)
    with db.session() as s:
        assert s.get(StoreApp, app_id).install_count == 0
        assert s.get(Resource, copy_id) is None


def test_only_listed_apps_can_be_liked_or_installed(db):
    app_id = _make_app(db, listed=False)
    with db.session() as s, s.begin():
        with pytest.raises(Invalid) as error:
            store.install(s, _user(s, "analyst"), app_id)
        assert error.value.code == "not_listed"
        with pytest.raises(NotFound):
            store.like(s, _user(s, "bj_cm"), app_id)


def test_browse_filters_sorts_and_paginates(db):
    first = _make_app(db)
    second = _make_app(
        db, title_zh="不良率透视", title_en="NPL ratio pivot", category="risk", tags=["不良"]
    )
    _make_app(db, listed=False, title_zh="草稿", title_en="Draft")
    with db.session() as s, s.begin():
        store.install(s, _user(s, "bj_cm"), second)
        store.rate(s, _user(s, "bj_cm"), first, 5)
    with db.session() as s:
        cm = _user(s, "bj_cm")
        everything = store.browse(s, cm, per_page=1)
        assert everything["total"] == 2 and len(everything["items"]) == 1
        assert everything["page"] == 1 and everything["per_page"] == 1
        assert store.browse(s, cm, per_page=1, page=2)["items"][0]["id"] == first
        assert [a["id"] for a in store.browse(s, cm, sort="installs")["items"]][0] == second
        assert [a["id"] for a in store.browse(s, cm, sort="rating")["items"]][0] == first
        assert [a["id"] for a in store.browse(s, cm, category="risk")["items"]] == [second]
        assert [a["id"] for a in store.browse(s, cm, tag="不良")["items"]] == [second]
        assert [a["id"] for a in store.browse(s, cm, tag="存款")["items"]] == [first]
        assert [a["id"] for a in store.browse(s, cm, q="NPL")["items"]] == [second]
        assert store.browse(s, _user(s, "analyst"), scope="mine")["total"] == 3
        assert store.browse(s, _user(s, "admin"), scope="review")["total"] == 0
        with pytest.raises(Forbidden):
            store.browse(s, cm, scope="review")
        for bad in ({"page": 0}, {"per_page": 1000}, {"page": "x"}, {"sort": "random"}):
            with pytest.raises(Invalid):
                store.browse(s, cm, **bad)


def _many_users(db, n: int) -> list[int]:
    with db.session() as s, s.begin():
        users = [
            User(username=f"crowd{i:02d}", display_name=f"用户{i}", branch_id="HO")
            for i in range(n)
        ]
        s.add_all(users)
        s.flush()
        return [u.id for u in users]


def _race(db, user_ids: list[int], action) -> list[BaseException]:
    """Run `action(session, user)` for every id (each twice) in threads that start together."""
    jobs = [uid for uid in user_ids for _ in range(2)]
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def work(uid: int) -> None:
        try:
            barrier.wait(timeout=30)
            with db.session() as s, s.begin():
                action(s, s.get(User, uid))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(uid,)) for uid in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_likes_are_counted_exactly(db):
    app_id = _make_app(db)
    users = _many_users(db, 16)
    errors = _race(db, users, lambda s, u: store.like(s, u, app_id))
    assert errors == []
    with db.session() as s:
        rows = s.scalar(select(func.count()).select_from(AppLike).where(AppLike.app_id == app_id))
        assert rows == 16
        assert s.get(StoreApp, app_id).like_count == 16
    errors = _race(db, users[:8], lambda s, u: store.unlike(s, u, app_id))
    assert errors == []
    assert _app(db, app_id).like_count == 8


def test_concurrent_installs_and_ratings_are_counted_exactly(db):
    app_id = _make_app(db)
    users = _many_users(db, 16)
    errors = _race(db, users, lambda s, u: store.install(s, u, app_id))
    assert errors == []
    errors = _race(db, users, lambda s, u: store.rate(s, u, app_id, 1 + u.id % 5))
    assert errors == []
    with db.session() as s:
        app = s.get(StoreApp, app_id)
        assert s.scalar(select(func.count()).select_from(AppInstall)) == 16
        assert app.install_count == 16
        assert app.rating_count == 16
        assert app.rating_sum == sum(1 + u % 5 for u in users)
        assert s.scalar(select(func.sum(AppRating.stars))) == app.rating_sum
        copies = s.scalar(
            select(func.count()).select_from(Resource).where(Resource.key.like("install-%"))
        )
        assert copies == 16


def test_notifications_reach_the_author(db):
    from portal.models.social import Message

    app_id = _make_app(db)
    with db.session() as s, s.begin():
        store.add_comment(s, _user(s, "bj_cm"), app_id, "好用")
        store.install(s, _user(s, "bj_cm"), app_id)
    with db.session() as s:
        analyst = _user(s, "analyst")
        kinds = s.scalars(
            select(Message.kind).where(Message.user_id == analyst.id).order_by(Message.id)
        ).all()
        assert kinds == ["review", "comment", "install"]
