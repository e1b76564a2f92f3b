"""Local accounts (SPEC §7.1): password hashing and policy, log-in with lock-out, unlock.

`authenticate` is a command that commits its own transaction, because a failed attempt must
be counted and audited even though it raises. The other functions only change the session;
their caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from portal.errors import Forbidden, Invalid, NotFound, TooManyAttempts, Unauthorized
from portal.models import PasswordHistory, Role, User, utcnow
from portal.services.audit import record_event

# Tests swap in a fast method; production keeps werkzeug's scrypt (n=2**15, r=8, p=1).
PASSWORD_HASH_METHOD = "scrypt"
ACCOUNT_ADMIN_ROLES = ("admin", "security_admin")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


@dataclass(frozen=True)
class PasswordPolicy:
    """Password rules: length, character classes, history depth and maximum age."""

    min_length: int = 8
    min_classes: int = 3
    history: int = 5
    max_age_days: int | None = 90


@dataclass(frozen=True)
class LockoutPolicy:
    """Lock an account for `duration` after `max_failures` failures within `window`."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=1)
    duration: timedelta = timedelta(minutes=15)


DEFAULT_PASSWORD_POLICY = PasswordPolicy()
DEFAULT_LOCKOUT_POLICY = LockoutPolicy()
_dummy_hash: str | None = None


def hash_password(password: str) -> str:
    """Return a salted hash of the password."""
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether the password matches the hash (False when there is no hash)."""
    if not password_hash or password is None:
        return False
    return check_password_hash(password_hash, password)


def _burn_time(password: str) -> None:
    """Check a password against a throwaway hash so unknown users take as long as known ones."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = hash_password("not-a-real-password")
    check_password_hash(_dummy_hash, password or "")


def character_classes(password: str) -> int:
    """Return how many of upper case, lower case, digits and symbols the password uses."""
    upper = any(c.isupper() for c in password)
    lower = any(c.islower() for c in password)
    digit = any(c.isdigit() for c in password)
    symbol = any(not (c.isupper() or c.islower() or c.isdigit()) for c in password)
    return upper + lower + digit + symbol


def check_password_policy(
    password: str, username: str, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY
) -> None:
    """Raise Invalid unless the password meets the length, class and user-name rules."""
    if len(password or "") < policy.min_length:
        raise _weak(
            _("The password must be at least %(n)d characters long.", n=policy.min_length), "length"
        )
    if character_classes(password) < policy.min_classes:
        raise _weak(
            _(
                "The password must mix at least %(n)d of: upper-case letters, lower-case "
                "letters, digits and symbols.",
                n=policy.min_classes,
            ),
            "classes",
        )
    if username and username.strip().lower() in password.lower():
        raise _weak(_("The password must not contain the user name."), "username")


def _weak(message: str, rule: str) -> Invalid:
    return Invalid(message, code="weak_password", details={"rule": rule})


def _history(session: Session, user: User) -> list[PasswordHistory]:
    if user.id is None:
        return []
    query = (
        select(PasswordHistory)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.created_at.desc(), PasswordHistory.id.desc())
    )
    return list(session.scalars(query))


def validate_new_password(
    session: Session, user: User, password: str, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY
) -> None:
    """Raise Invalid unless the password meets the policy and is none of the last N."""
    check_password_policy(password, user.username, policy)
    if policy.history <= 0:
        return
    recent = [h.password_hash for h in _history(session, user)[: policy.history]]
    if user.password_hash and user.password_hash not in recent:
        recent.insert(0, user.password_hash)
    if any(verify_password(h, password) for h in recent[: policy.history]):
        raise _weak(
            _("The password must differ from your last %(n)d passwords.", n=policy.history),
            "history",
        )


def set_password(
    session: Session,
    user: User,
    password: str,
    *,
    actor: User | None = None,
    client_addr: str | None = None,
    policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
    now: datetime | None = None,
) -> None:
    """Validate and store a new password, keep it in the history and audit the change.

    `actor` is who does it: the user themself, an account administrator, or None for the
    system (seeding, CLI).
    """
    if actor is not None and actor.id != user.id and not actor.has_role(*ACCOUNT_ADMIN_ROLES):
        raise Forbidden(_("Only an account administrator may set another user's password."))
    validate_new_password(session, user, password, policy)
    now = now or utcnow()
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    if user.id is None:
        session.flush()
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, created_at=now))
    for old in _history(session, user)[max(policy.history, 1) :]:
        session.delete(old)
    by_self = actor is not None and actor.id == user.id
    record_event(
        session,
        event_type="password_change" if by_self else "password_reset",
        actor=actor,
        actor_name=None if actor else "system",
        client_addr=client_addr,
        object_type="user",
        object_id=user.id,
    )


def change_password(
    session: Session,
    user: User,
    current_password: str,
    new_password: str,
    *,
    client_addr: str | None = None,
    policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
) -> None:
    """Change the user's own password after checking the current one."""
    if not verify_password(user.password_hash, current_password):
        raise Invalid(_("The current password is wrong."), code="wrong_password")
    set_password(session, user, new_password, actor=user, client_addr=client_addr, policy=policy)


def password_expired(
    user: User, policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY, now: datetime | None = None
) -> bool:
    """Return whether the user's password is older than the policy allows."""
    if policy.max_age_days is None or user.password_changed_at is None:
        return False
    return (now or utcnow()) - user.password_changed_at > timedelta(days=policy.max_age_days)


def _locked_error(user: User, now: datetime) -> TooManyAttempts:
    minutes = max(1, -(-int((user.locked_until - now).total_seconds()) // 60))
    return TooManyAttempts(
        _(
            "Too many failed log-ins: this account is locked for %(n)d more minute(s). "
            "An administrator can unlock it.",
            n=minutes,
        ),
        details={"locked_until": user.locked_until.isoformat()},
    )


def _register_failure(user: User, now: datetime, lockout: LockoutPolicy) -> bool:
    """Count a failed log-in; return True when it locks the account."""
    since = user.failed_logins_since
    if since is None or now - since > lockout.window:
        user.failed_logins, user.failed_logins_since = 1, now
    else:
        user.failed_logins += 1
    if user.failed_logins < lockout.max_failures:
        return False
    user.locked_until = now + lockout.duration
    user.failed_logins, user.failed_logins_since = 0, None
    return True


def authenticate(
    session: Session,
    username: str,
    password: str,
    client_addr: str | None = None,
    *,
    lockout: LockoutPolicy = DEFAULT_LOCKOUT_POLICY,
    now: datetime | None = None,
) -> User:
    """Check a user name and password, audit the attempt, commit, and return the user.

    Raises Unauthorized for a wrong name or password, TooManyAttempts while the account is
    locked (and on the failure that locks it), Forbidden for a disabled account. Commits
    the session in every case, so call it outside `session.begin()`.
    """
    now = now or utcnow()
    name = (username or "").strip().lower()[:64]
    user = session.scalar(select(User).where(User.username == name)) if name else None

    def audit(event_type: str = "login_failed", result: str = "denied", **details) -> None:
        record_event(
            session,
            event_type=event_type,
            actor=user,
            actor_name=None if user else (name or None),
            client_addr=client_addr,
            object_type="user",
            object_id=user.id if user else None,
            result=result,
            details=details or None,
        )

    wrong = Unauthorized(_("Wrong user name or password."), code="bad_credentials")
    error: Exception | None = None
    if user is None:
        _burn_time(password)
        audit(reason="unknown_user")
        error = wrong
    elif user.is_locked(now):
        audit(reason="locked")
        error = _locked_error(user, now)
    elif not verify_password(user.password_hash, password):
        locked = _register_failure(user, now, lockout)
        audit(reason="bad_password")
        if locked:
            audit("account_locked", until=user.locked_until.isoformat())
        error = _locked_error(user, now) if locked else wrong
    elif not user.is_active:
        audit(reason="disabled")
        error = Forbidden(
            _("This account is disabled. Ask an administrator."), code="account_disabled"
        )
    else:
        user.failed_logins, user.failed_logins_since, user.locked_until = 0, None, None
        user.last_login_at = now
        audit("login", "ok")
    session.commit()
    if error is not None:
        raise error
    return user


def get_user(session: Session, user: User | int | str) -> User:
    """Return a user given the object, its id or its user name; raise NotFound otherwise."""
    if isinstance(user, User):
        return user
    if isinstance(user, int):
        found = session.get(User, user)
    else:
        found = session.scalar(select(User).where(User.username == user.strip().lower()))
    if found is None:
        raise NotFound(_("No such user: %(user)s", user=user))
    return found


def unlock_user(
    session: Session,
    user: User | int | str,
    *,
    actor: User | None = None,
    client_addr: str | None = None,
) -> User:
    """Clear a lock-out and the failure count; only account administrators may do it."""
    if actor is not None and not actor.has_role(*ACCOUNT_ADMIN_ROLES):
        raise Forbidden(_("Only an account administrator may unlock accounts."))
    target = get_user(session, user)
    target.locked_until, target.failed_logins, target.failed_logins_since = None, 0, None
    record_event(
        session,
        event_type="account_unlock",
        actor=actor,
        actor_name=None if actor else "system",
        client_addr=client_addr,
        object_type="user",
        object_id=target.id,
    )
    return target


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    branch_id: str,
    password: str | None = None,
    department_code: str | None = None,
    role_codes: tuple[str, ...] | list[str] = (),
    employee_no: str | None = None,
    email: str | None = None,
    language: str | None = None,
    actor: User | None = None,
    policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
) -> User:
    """Create an account with its roles (and password, if given); does not commit."""
    if actor is not None and not actor.has_role("admin"):
        raise Forbidden(_("Only a system administrator may create accounts."))
    name = username.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise Invalid(_("A user name has 2 to 64 letters, digits, '.', '_' or '-'."))
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Invalid(_("The user name %(name)s is taken.", name=name), code="duplicate")
    roles = list(session.scalars(select(Role).where(Role.code.in_(role_codes))))
    unknown = set(role_codes) - {r.code for r in roles}
    if unknown:
        raise Invalid(_("Unknown roles: %(roles)s", roles=", ".join(sorted(unknown))))
    user = User(
        username=name,
        display_name=display_name,
        branch_id=branch_id,
        department_code=department_code,
        employee_no=employee_no,
        email=email,
        language=language,
        roles=roles,
    )
    session.add(user)
    session.flush()
    if password is not None:
        set_password(session, user, password, actor=actor, policy=policy)
    record_event(
        session,
        event_type="user_create",
        actor=actor,
        actor_name=None if actor else "system",
        object_type="user",
        object_id=user.id,
        details={"username": name, "roles": sorted(role_codes)},
    )
    return user
