"""Grants: who may change them, what they imply, expiry, unmask, and their audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import AuditEvent, Group, Resource, Role, User, utcnow
from portal.services.audit import verify_chain
from portal.services.grants import grant_permission, has_permission, revoke_grant, unmask_tables


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


@pytest.fixture
def dataset(db):
    """The dim_customer dataset resource that init_store registers from the warehouse."""
    with db.session() as s:
        return s.scalar(
            select(Resource.id).where(Resource.type == "dataset", Resource.key == "dim_customer")
        )


def test_security_admin_grants_unmask_to_a_user_and_it_is_audited(db, dataset):
    with db.session() as s, s.begin():
        grant = grant_permission(
            s,
            _user(s, "security"),
            subject_type="user",
            subject_id=_user(s, "bj_cm").id,
            resource_id=dataset,
            permission="unmask",
        )
        grant_id = grant.id
    with db.session() as s:
        assert unmask_tables(s, _user(s, "bj_cm")) == {"dim_customer"}
        assert unmask_tables(s, _user(s, "sh_cm")) == frozenset()
        event = s.scalars(select(AuditEvent).where(AuditEvent.event_type == "grant_change")).all()[
            -1
        ]
        assert event.actor_name == "security" and event.details["permission"] == "unmask"
    with db.session() as s, s.begin():
        revoke_grant(s, _user(s, "security"), grant_id)
    with db.session() as s:
        assert unmask_tables(s, _user(s, "bj_cm")) == frozenset()
        assert [
            e.details["action"]
            for e in s.scalars(select(AuditEvent).where(AuditEvent.event_type == "grant_change"))
        ] == ["grant", "revoke"]
        assert verify_chain(s) == (True, None)


@pytest.mark.parametrize("actor", ["admin", "analyst", "auditor", "bj_cm"])
def test_only_the_security_administrator_may_grant(db, dataset, actor):
    with db.session() as s, pytest.raises(Forbidden):
        grant_permission(
            s,
            _user(s, actor),
            subject_type="user",
            subject_id=_user(s, actor).id,
            resource_id=dataset,
            permission="unmask",
        )


def test_group_and_role_grants_and_implied_permissions(db, dataset):
    with db.session() as s, s.begin():
        sec = _user(s, "security")
        group = s.scalar(select(Group).where(Group.name == "营销团队"))
        role = s.scalar(select(Role).where(Role.code == "leader"))
        grant_permission(
            s,
            sec,
            subject_type="group",
            subject_id=group.id,
            resource_id=dataset,
            permission="edit",
        )
        grant_permission(
            s, sec, subject_type="role", subject_id=role.id, resource_id=dataset, permission="view"
        )
    with db.session() as s:
        assert has_permission(s, _user(s, "sh_cm"), dataset, "view")  # edit implies view
        assert has_permission(s, _user(s, "sh_cm"), dataset, "edit")
        assert not has_permission(s, _user(s, "sh_cm"), dataset, "manage")
        assert has_permission(s, _user(s, "bj_leader"), dataset, "view")
        assert not has_permission(s, _user(s, "bj_leader"), dataset, "edit")
        assert not has_permission(s, _user(s, "analyst"), dataset, "view")
        assert not has_permission(s, _user(s, "analyst"), 999_999, "view")


def test_expired_grants_do_not_count(db, dataset):
    with db.session() as s, s.begin():
        grant_permission(
            s,
            _user(s, "security"),
            subject_type="user",
            subject_id=_user(s, "analyst").id,
            resource_id=dataset,
            permission="unmask",
            expires_at=utcnow() + timedelta(hours=1),
        )
    with db.session() as s:
        analyst = _user(s, "analyst")
        assert unmask_tables(s, analyst) == {"dim_customer"}
        assert unmask_tables(s, analyst, now=utcnow() + timedelta(hours=2)) == frozenset()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"subject_type": "planet", "subject_id": 1, "permission": "view"}, Invalid),
        ({"subject_type": "user", "subject_id": 1, "permission": "own"}, Invalid),
        ({"subject_type": "user", "subject_id": 99_999, "permission": "view"}, NotFound),
    ],
)
def test_bad_grants_are_refused_and_change_nothing(db, dataset, kwargs, error):
    with db.session() as s:
        with pytest.raises(error):
            grant_permission(s, _user(s, "security"), resource_id=dataset, **kwargs)
        s.rollback()
        assert (
            s.scalars(select(AuditEvent).where(AuditEvent.event_type == "grant_change")).all() == []
        )
