"""The portal store: migrations, models on both backends, seeding, the Flask binding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from datasources.catalog import load_catalog
from datasources.reference import BRANCHES, DEPARTMENTS
from portal import migrate
from portal.db import PortalDB, create_store_engine, get_db, init_db, normalize_url
from portal.errors import Invalid
from portal.models import (
    AuditEvent,
    Base,
    Branch,
    Department,
    Group,
    Resource,
    Role,
    User,
    UserSetting,
)
from portal.services.search_catalog import dataset_tables
from portal.services.search_index import include_object
from portal.services.setup import DEMO_USERS, ROLES, init_store
from portal.services.tiles_seed import DEMO_SYSTEMS, PAGE_TILES


def test_migrations_create_every_table(database_url):
    migrate.upgrade(database_url)
    engine = create_store_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as con:
            head = con.execute(text("SELECT last_id, last_hash FROM audit_chain_head")).one()
    finally:
        engine.dispose()
    # search_* tables are the search index's own, outside the models (migration 0002)
    assert {t for t in tables if not t.startswith("search_")} == set(Base.metadata.tables) | {
        "alembic_version"
    }
    assert {"search_documents", "search_terms"} <= tables
    assert migrate.current_revision(database_url) == migrate.head_revision()
    assert head == (0, "0" * 64)


def test_migrations_match_the_models(database_url):
    migrate.upgrade(database_url)
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as con:
            context = MigrationContext.configure(
                con, opts={"compare_type": True, "include_object": include_object}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_back(database_url):
    migrate.upgrade(database_url)
    migrate.downgrade(database_url, "base")
    assert migrate.current_revision(database_url) is None
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == migrate.head_revision()


def test_init_store_is_idempotent(database_url, demo_password):
    first = init_store(database_url, demo=True, demo_password=demo_password)
    assert first["created"] == {
        "departments": len(DEPARTMENTS),
        "branches": len(BRANCHES),
        "roles": len(ROLES),
        "users": len(DEMO_USERS),
        "groups": 1,
        "resources": len(load_catalog().metrics) + len(dataset_tables()),
        "tiles": len(PAGE_TILES) + len(DEMO_SYSTEMS),
    }
    db = PortalDB(database_url)
    try:
        with db.session() as s:
            events_before = s.scalar(select(func.count()).select_from(AuditEvent))
            hashes_before = dict(s.execute(select(User.username, User.password_hash)).all())
        second = init_store(database_url, demo=True, demo_password="Another#2027")
        with db.session() as s:
            events_after = s.scalar(select(func.count()).select_from(AuditEvent))
            hashes_after = dict(s.execute(select(User.username, User.password_hash)).all())
    finally:
        db.dispose()
    assert set(second["created"].values()) == {0}
    assert set(second["updated"].values()) == {0}
    for kind in ("departments", "branches", "roles", "users", "groups"):
        assert second[kind] == first[kind]
    assert events_after == events_before
    assert hashes_after == hashes_before


def test_init_store_with_demo_content_seeds_it_once(database_url, demo_password):
    first = init_store(database_url, demo=True, demo_password=demo_password, content=True)
    content = (
        "screens",
        "pivots",
        "dashboards",
        "store.apps",
        "store.comments",
        "social.posts",
        "announcements",
    )
    assert all(first["created"].get(k, 0) > 0 for k in content), first["created"]
    second = init_store(database_url, demo=True, demo_password=demo_password, content=True)
    assert set(second["created"].values()) == {0}, second["created"]


def test_init_store_without_demo_has_no_accounts(database_url):
    result = init_store(database_url, demo=False, demo_password="")
    assert result["users"] == 0 and result["roles"] == len(ROLES)
    assert result["branches"] == len(BRANCHES)


def test_init_store_refuses_a_weak_demo_password(database_url):
    with pytest.raises(Invalid):
        init_store(database_url, demo=True, demo_password="portal")


def test_branches_and_departments_mirror_the_reference(db):
    with db.session() as s:
        branches = {b.branch_id: b for b in s.scalars(select(Branch))}
        departments = {d.code: d.name_zh for d in s.scalars(select(Department))}
        assert {d.code: d.name_zh for d in DEPARTMENTS} == departments
        assert set(branches) == {b.branch_id for b in BRANCHES}
        for ref in BRANCHES:
            row = branches[ref.branch_id]
            assert (row.name_zh, row.name_en, row.level, row.parent_id) == (
                ref.name_zh,
                ref.name_en,
                ref.level,
                ref.parent_id,
            )
        assert branches["HO"].parent is None
        assert branches["BJ-CY"].parent.branch_id == "BJ"
        assert "BJ-CY" in {c.branch_id for c in branches["BJ"].children}


def test_demo_users_have_their_roles_branches_and_departments(db):
    expected = {
        "admin": ("admin", "HO", "科技部"),
        "security": ("security_admin", "HO", None),
        "auditor": ("auditor", "HO", None),
        "leader": ("leader", "HO", "财务部"),
        "analyst": ("analyst", "HO", "个金部"),
        "owner": ("data_owner", "HO", "科技部"),
        "ops": ("operator", "HO", "科技部"),
        "bj_leader": ("leader", "BJ", None),
        "bj_cm": ("customer_manager", "BJ-CY", "个金部"),
        "sh_cm": ("customer_manager", "SH-PD", "个金部"),
    }
    with db.session() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        assert set(users) == set(expected)
        for username, (role, branch, department) in expected.items():
            user = users[username]
            assert user.role_codes == {role}
            assert user.branch_id == branch
            if department:
                assert user.department.name_zh == department
            assert user.display_name and user.employee_no and user.is_active
            assert user.password_hash and user.password_changed_at is not None
        assert len({u.employee_no for u in users.values()}) == len(users)
        group = s.scalar(select(Group).where(Group.name == "营销团队"))
        assert {m.username for m in group.members} == {"bj_cm", "sh_cm"}
        scopes = dict(s.execute(select(Role.code, Role.scope)).all())
        assert set(scopes) == {code for code, *_ in ROLES}
        assert set(scopes.values()) <= {"all", "branch", "none"}
        assert scopes["admin"] == scopes["security_admin"] == scopes["auditor"] == "none"


def test_datetimes_come_back_in_utc(db):
    shanghai = timezone(timedelta(hours=8))
    when = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=shanghai)
    with db.session() as s, s.begin():
        user = s.scalar(select(User).where(User.username == "analyst"))
        user.locked_until = when
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "analyst"))
        assert user.locked_until == when
        assert user.locked_until.tzinfo == UTC
        assert user.locked_until.hour == 1
        assert user.created_at.tzinfo == UTC
        assert abs(datetime.now(UTC) - user.created_at) < timedelta(minutes=5)


def test_json_columns_and_unique_constraints(db):
    layout = {"version": 2, "widgets": [{"id": "carousel", "title": "数据速览", "w": 6}]}
    with db.session() as s, s.begin():
        user = s.scalar(select(User).where(User.username == "analyst"))
        s.add(UserSetting(user_id=user.id, key="home.layout", version=2, value=layout))
        s.add(
            Resource(
                type="pivot",
                key="deposits_by_branch",
                title_zh="存款余额",
                title_en="Deposit balance",
                spec={"unit": "元", "dims": ["branch"]},
            )
        )
    with db.session() as s:
        setting = s.scalar(select(UserSetting).where(UserSetting.key == "home.layout"))
        assert setting.value == layout and setting.version == 2
        spec = s.scalar(select(Resource.spec).where(Resource.key == "deposits_by_branch"))
        assert spec["unit"] == "元"
    with pytest.raises(IntegrityError), db.session() as s, s.begin():
        s.add(UserSetting(user_id=setting.user_id, key="home.layout", value={}))
    with pytest.raises(IntegrityError), db.session() as s, s.begin():
        s.add(Resource(type="pivot", key="deposits_by_branch", title_zh="重复", title_en="Dup"))
    with pytest.raises(IntegrityError), db.session() as s, s.begin():
        s.add(Resource(type="spreadsheet", key="x", title_zh="x", title_en="x"))


def test_foreign_keys_are_enforced(db):
    with pytest.raises(IntegrityError), db.session() as s, s.begin():
        s.add(User(username="ghost", display_name="Ghost", branch_id="NOWHERE"))
    with db.session() as s, s.begin():
        user = s.scalar(select(User).where(User.username == "sh_cm"))
        s.delete(user)
    with db.session() as s:
        members = s.execute(text("SELECT count(*) FROM group_members")).scalar()
        assert members == 1


def test_init_db_binds_the_store_to_the_app(store_url):
    app = Flask(__name__)
    app.config["PORTAL_SETTINGS"] = SimpleNamespace(database_url=store_url)
    db = init_db(app)
    try:
        with app.app_context():
            assert get_db() is db
            session = db.scoped()
            assert db.scoped() is session
            assert session.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
        with app.app_context():
            assert db.scoped() is not session
        if db.dialect == "sqlite":
            with db.engine.connect() as con:
                assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert con.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.dispose()


def test_get_db_without_init_db_says_so():
    app = Flask(__name__)
    with app.app_context(), pytest.raises(RuntimeError, match="init_db"):
        get_db()


def test_postgres_scheme_is_normalised():
    assert normalize_url("postgres://u@h/db") == "postgresql://u@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
