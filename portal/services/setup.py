"""Prepare the portal store: migrate it, then seed the organisation, roles and demo accounts.

`init_store` is idempotent: a second run changes nothing and reports zero creations.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from datasources.catalog import load_catalog
from datasources.reference import BRANCHES, DEPARTMENTS
from portal import migrate
from portal.db import create_store_engine
from portal.models import Branch, Department, Group, Role, User
from portal.services.accounts import check_password_policy, create_user
from portal.services.audit import record_event
from portal.services.demo_content import seed_demo_content
from portal.services.search_catalog import sync_catalog_resources
from portal.services.search_index import ensure_index
from portal.services.slides import seed_screen_demo
from portal.services.tiles_seed import seed_tiles

log = logging.getLogger(__name__)

# (code, name_zh, name_en, scope). Separation of duties (三权分立): admin runs the system,
# security_admin manages grants, auditor reads the audit log, and none of the three reads
# business data by default (scope 'none'; a grant can add it). 'branch' scope at head office
# covers the whole bank, so only data owners need 'all'.
ROLES = (
    ("admin", "系统管理员", "System administrator", "none"),
    ("security_admin", "安全管理员", "Security administrator", "none"),
    ("auditor", "审计员", "Auditor", "none"),
    ("leader", "领导", "Leader", "branch"),
    ("analyst", "分析师", "Analyst", "branch"),
    ("data_owner", "数据负责人", "Data owner", "all"),
    ("operator", "运营人员", "Operator", "branch"),
    ("customer_manager", "客户经理", "Customer manager", "branch"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    employee_no: str
    role: str
    branch_id: str
    department_code: str | None


DEMO_USERS = (
    DemoUser("admin", "张伟", "HO10001", "admin", "HO", "tech"),
    DemoUser("security", "王芳", "HO10002", "security_admin", "HO", "tech"),
    DemoUser("auditor", "李娜", "HO10003", "auditor", "HO", "risk"),
    DemoUser("leader", "刘洋", "HO10004", "leader", "HO", "finance"),
    DemoUser("analyst", "陈静", "HO10005", "analyst", "HO", "retail"),
    DemoUser("owner", "杨磊", "HO10006", "data_owner", "HO", "tech"),
    DemoUser("ops", "赵强", "HO10007", "operator", "HO", "tech"),
    DemoUser("bj_leader", "周敏", "BJ20001", "leader", "BJ", "retail"),
    DemoUser("bj_cm", "吴昊", "BJ20002", "customer_manager", "BJ-CY", "retail"),
    DemoUser("sh_cm", "孙丽", "SH30001", "customer_manager", "SH-PD", "retail"),
)
DEMO_GROUPS = (
    ("营销团队", "Marketing team (营销团队): customer managers of BJ and SH", ("bj_cm", "sh_cm")),
)


def _sync(session: Session, model, key: str, rows: list[dict]) -> tuple[int, int]:
    """Insert missing rows and correct changed ones; return (created, updated)."""
    existing = {getattr(obj, key): obj for obj in session.scalars(select(model))}
    created = updated = 0
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            session.add(model(**row))
            created += 1
            continue
        changed = {k: v for k, v in row.items() if getattr(obj, k) != v}
        for name, value in changed.items():
            setattr(obj, name, value)
        updated += bool(changed)
    session.flush()
    return created, updated


def seed_reference(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Mirror departments and branches from datasources.reference and create the roles.

    Return the rows created and the rows corrected, per kind.
    """
    departments = [
        {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en} for d in DEPARTMENTS
    ]
    branches = [
        {
            "branch_id": b.branch_id,
            "name_zh": b.name_zh,
            "name_en": b.name_en,
            "level": b.level,
            "parent_id": b.parent_id,
        }
        for b in BRANCHES
    ]
    roles = [{"code": c, "name_zh": zh, "name_en": en, "scope": s} for c, zh, en, s in ROLES]
    created, updated = {}, {}
    for kind, model, key, rows in (
        ("departments", Department, "code", departments),
        ("branches", Branch, "branch_id", branches),
        ("roles", Role, "code", roles),
    ):
        created[kind], updated[kind] = _sync(session, model, key, rows)
    return created, updated


def seed_demo(session: Session, demo_password: str) -> dict[str, int]:
    """Create the demo accounts and groups that do not exist yet (passwords never reset)."""
    created_users = 0
    for demo in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == demo.username))
        if user is None:
            create_user(
                session,
                username=demo.username,
                display_name=demo.display_name,
                branch_id=demo.branch_id,
                department_code=demo.department_code,
                role_codes=[demo.role],
                employee_no=demo.employee_no,
                email=f"{demo.username}@bank.example",
                password=demo_password,
            )
            created_users += 1
        elif demo.role not in user.role_codes:
            user.roles.append(session.scalar(select(Role).where(Role.code == demo.role)))
    created_groups = 0
    for name, description, members in DEMO_GROUPS:
        group = session.scalar(select(Group).where(Group.name == name))
        if group is None:
            group = Group(name=name, description=description)
            session.add(group)
            created_groups += 1
        for username in members:
            user = session.scalar(select(User).where(User.username == username))
            if user is not None and user not in group.members:
                group.members.append(user)
    session.flush()
    return {"users": created_users, "groups": created_groups}


def init_store(
    database_url: str,
    demo: bool = False,
    demo_password: str = "Portal#2026",
    content: bool = False,
) -> dict:
    """Migrate the store to the latest revision and seed it; return what was created.

    `demo` adds the demo organisation's accounts; `content` (with `demo`) also its big-screen
    sets, pivots, dashboards, apps and posts (`portal init --demo` asks for both; tests that
    need an empty store ask for the accounts alone).

    The result has the revision, the totals per kind, and `created` / `updated`: the rows
    this run added or corrected, per kind (all zero on a second run).
    """
    if demo:
        for user in DEMO_USERS:
            check_password_policy(demo_password, user.username)
    migrate.upgrade(database_url)
    engine = create_store_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            created, updated = seed_reference(session)
            if demo:
                created.update(seed_demo(session, demo_password))
            created["tiles"] = seed_tiles(session, demo=demo)
            catalog = sync_catalog_resources(session, load_catalog())
            created["resources"], updated["resources"] = catalog["created"], catalog["updated"]
            if demo and content:
                created["screens"] = seed_screen_demo(session)
                created.update(seed_demo_content(session))
            ensure_index(session)
            added = {k: v for k, v in created.items() if v}
            if added or any(updated.values()):
                record_event(
                    session,
                    event_type="store_init",
                    actor_name="system",
                    details={"created": added, "updated": updated, "demo": demo},
                )
            totals = {
                kind: session.scalar(select(func.count()).select_from(model))
                for kind, model in (
                    ("departments", Department),
                    ("branches", Branch),
                    ("roles", Role),
                    ("users", User),
                    ("groups", Group),
                )
            }
    finally:
        engine.dispose()
    log.info("portal store ready: %s (created %s)", totals, added or "nothing")
    return {"revision": migrate.head_revision(), **totals, "created": created, "updated": updated}
