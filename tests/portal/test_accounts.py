"""Local accounts: password policy and history, log-in, lock-out and unlock (SPEC §7.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.errors import Forbidden, Invalid, TooManyAttempts, Unauthorized
from portal.models import AuditEvent, PasswordHistory, User, utcnow
from portal.services import accounts
from portal.services.accounts import (
    PasswordPolicy,
    authenticate,
    change_password,
    check_password_policy,
    create_user,
    password_expired,
    set_password,
    unlock_user,
)
from portal.services.audit import verify_chain


def _user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def _events(session, event_type: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id)
    return list(session.scalars(query))


# -- policy --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "password", ["Portal#2026", "abcDEF12", "abc#1234", "ABC#defg", "密码Abc123"]
)
def test_policy_accepts_strong_passwords(password):
    check_password_policy(password, "analyst")


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1#xyz", "length"),
        ("", "length"),
        ("abcdefgh1", "classes"),
        ("ABCDEFGH!", "classes"),
        ("abcdefghij", "classes"),
        ("Analyst#2026", "username"),
        ("my-ANALYST-1", "username"),
    ],
)
def test_policy_rejects_weak_passwords(password, rule):
    with pytest.raises(Invalid) as caught:
        check_password_policy(password, "analyst")
    assert caught.value.details == {"rule": rule}
    assert caught.value.code == "weak_password"
    assert isinstance(caught.value.message, str) and caught.value.message


def test_policy_is_configurable():
    lenient = PasswordPolicy(min_length=6, min_classes=2)
    check_password_policy("abc123", "x", lenient)
    with pytest.raises(Invalid):
        check_password_policy("abc123", "x")


def test_production_hashing_is_scrypt(monkeypatch):
    monkeypatch.setattr(accounts, "PASSWORD_HASH_METHOD", "scrypt")
    hashed = accounts.hash_password("Portal#2026")
    assert hashed.startswith("scrypt:") and "Portal" not in hashed
    assert accounts.verify_password(hashed, "Portal#2026")
    assert not accounts.verify_password(hashed, "portal#2026")
    assert not accounts.verify_password(None, "Portal#2026")


# -- passwords in the store ----------------------------------------------------------------------
def test_recent_passwords_cannot_be_reused(db, demo_password):
    policy = PasswordPolicy(history=3)
    with db.session() as s, s.begin():
        user = _user(s, "analyst")
        with pytest.raises(Invalid) as caught:
            set_password(s, user, demo_password, policy=policy)
        assert caught.value.details == {"rule": "history"}
        for password in ("Second#2026", "Third#2026", "Fourth#2026"):
            set_password(s, user, password, policy=policy)
        with pytest.raises(Invalid):
            set_password(s, user, "Third#2026", policy=policy)
        # The demo password has dropped out of the last three.
        set_password(s, user, demo_password, policy=policy)
        kept = s.scalar(
            select(func.count())
            .select_from(PasswordHistory)
            .where(PasswordHistory.user_id == user.id)
        )
        assert kept == 3
    with db.session() as s:
        assert authenticate(s, "analyst", demo_password).username == "analyst"
        assert len(_events(s, "password_reset")) >= 4


def test_set_password_checks_policy_and_permissions(db):
    with db.session() as s, s.begin():
        analyst, admin, cm = _user(s, "analyst"), _user(s, "admin"), _user(s, "bj_cm")
        with pytest.raises(Invalid):
            set_password(s, analyst, "short", actor=analyst)
        with pytest.raises(Forbidden):
            set_password(s, analyst, "Reset#2026x", actor=cm)
        set_password(s, analyst, "Reset#2026x", actor=admin)
        set_password(s, analyst, "Mine#2026xy", actor=analyst)
        assert [e.actor_name for e in _events(s, "password_change")] == ["analyst"]


def test_change_password_needs_the_current_one(db, demo_password):
    with db.session() as s, s.begin():
        user = _user(s, "bj_cm")
        with pytest.raises(Invalid):
            change_password(s, user, "wrong", "Changed#2026")
        change_password(s, user, demo_password, "Changed#2026")
    with db.session() as s:
        authenticate(s, "bj_cm", "Changed#2026")


def test_password_expiry(db):
    with db.session() as s:
        user = _user(s, "leader")
        policy = PasswordPolicy(max_age_days=90)
        assert not password_expired(user, policy)
        assert password_expired(user, policy, now=utcnow() + timedelta(days=91))
        assert not password_expired(
            user, PasswordPolicy(max_age_days=None), utcnow() + timedelta(days=999)
        )


def test_create_user_validates(db):
    with db.session() as s, s.begin():
        admin, analyst = _user(s, "admin"), _user(s, "analyst")
        with pytest.raises(Invalid):
            create_user(s, username="analyst", display_name="重复", branch_id="HO")
        with pytest.raises(Invalid):
            create_user(s, username="bad name!", display_name="x", branch_id="HO")
        with pytest.raises(Invalid):
            create_user(s, username="newbie", display_name="x", branch_id="HO", role_codes=["king"])
        with pytest.raises(Forbidden):
            create_user(s, username="newbie", display_name="x", branch_id="HO", actor=analyst)
        user = create_user(
            s,
            username="NewBie",
            display_name="新人",
            branch_id="GZ",
            role_codes=["analyst"],
            password="Fresh#2026xy",
            actor=admin,
        )
        assert user.username == "newbie" and user.role_codes == {"analyst"}
    with db.session() as s:
        assert authenticate(s, "newbie", "Fresh#2026xy").branch_id == "GZ"


# -- log-in ------------------------------------------------------------------------------------
def test_authenticate_success(db, demo_password):
    with db.session() as s:
        user = authenticate(s, " Admin ", demo_password, "10.0.0.7")
        assert user.username == "admin" and user.role_codes == {"admin"}
        assert user.is_authenticated and user.get_id() == str(user.id)
    with db.session() as s:
        user = _user(s, "admin")
        assert user.last_login_at is not None and user.failed_logins == 0
        (event,) = _events(s, "login")
        assert (event.actor_id, event.actor_name, event.client_addr, event.result) == (
            user.id,
            "admin",
            "10.0.0.7",
            "ok",
        )
        assert verify_chain(s) == (True, None)


def test_wrong_password_is_counted_even_inside_a_transaction(db):
    with pytest.raises(Unauthorized) as caught, db.session() as s, s.begin():
        authenticate(s, "leader", "Wrong#2026", "10.0.0.8")
    assert caught.value.status == 401
    with db.session() as s:
        assert _user(s, "leader").failed_logins == 1
        (event,) = _events(s, "login_failed")
        assert (event.actor_name, event.result, event.details) == (
            "leader",
            "denied",
            {"reason": "bad_password"},
        )


def test_unknown_user_is_refused_and_audited(db):
    with pytest.raises(Unauthorized), db.session() as s:
        authenticate(s, "nobody", "Whatever#1", "10.0.0.9")
    with db.session() as s:
        (event,) = _events(s, "login_failed")
        assert event.actor_id is None and event.actor_name == "nobody"
        assert event.details == {"reason": "unknown_user"}


def test_lock_out_after_five_failures_within_a_minute(db, demo_password):
    start = utcnow()
    with db.session() as s:
        for i in range(4):
            with pytest.raises(Unauthorized):
                authenticate(s, "bj_cm", "Wrong#2026", now=start + timedelta(seconds=5 * i))
        with pytest.raises(TooManyAttempts) as caught:
            authenticate(s, "bj_cm", "Wrong#2026", now=start + timedelta(seconds=30))
        assert caught.value.status == 429 and caught.value.code == "too_many_attempts"
        assert isinstance(caught.value, Invalid)
        # Locked: even the right password is refused, for 15 minutes.
        with pytest.raises(TooManyAttempts):
            authenticate(s, "bj_cm", demo_password, now=start + timedelta(minutes=10))
        user = authenticate(s, "bj_cm", demo_password, now=start + timedelta(minutes=16))
        assert user.locked_until is None and user.failed_logins == 0
    with db.session() as s:
        assert len(_events(s, "account_locked")) == 1
        assert verify_chain(s) == (True, None)


def test_failures_spread_over_more_than_a_minute_do_not_lock(db, demo_password):
    start = utcnow()
    with db.session() as s:
        for i in range(6):
            with pytest.raises(Unauthorized):
                authenticate(s, "sh_cm", "Wrong#2026", now=start + timedelta(seconds=25 * i))
        assert authenticate(s, "sh_cm", demo_password, now=start + timedelta(seconds=160))


def test_administrator_unlocks(db, demo_password):
    with db.session() as s:
        for _ in range(5):
            with pytest.raises((Unauthorized, TooManyAttempts)):
                authenticate(s, "analyst", "Wrong#2026")
        assert _user(s, "analyst").is_locked()
    with db.session() as s, s.begin():
        with pytest.raises(Forbidden):
            unlock_user(s, "analyst", actor=_user(s, "bj_cm"))
        unlock_user(s, "analyst", actor=_user(s, "admin"), client_addr="10.0.0.1")
    with db.session() as s:
        assert authenticate(s, "analyst", demo_password).username == "analyst"
        (event,) = _events(s, "account_unlock")
        assert event.actor_name == "admin" and event.object_id == str(_user(s, "analyst").id)


def test_disabled_account_is_refused(db, demo_password):
    with db.session() as s, s.begin():
        _user(s, "ops").is_active = False
    with pytest.raises(Forbidden), db.session() as s:
        authenticate(s, "ops", demo_password)
