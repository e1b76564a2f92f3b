"""Personal API tokens: `Authorization: Bearer bdp_...` for the JSON API under /api/v1.

A token is "bdp_" + 43 random URL-safe characters (256 bits). It is shown once, when created;
the store keeps only its sha256 (hex) and its first characters (to recognise it in a list).
Tokens expire (1 to 365 days, 90 by default), can be revoked, and record when they were last
used. A token acts as its user, with the user's roles and grants, and only on /api/v1 routes
(portal/auth.py); a disabled user's tokens stop working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from portal.errors import Invalid, NotFound
from portal.models import User
from portal.models.base import utcnow
from portal.models.social import ApiToken
from portal.services.audit import record_event

TOKEN_PREFIX = "bdp_"
DEFAULT_DAYS = 90
MAX_DAYS = 365
MAX_ACTIVE_TOKENS = 20
NAME_MAX = 100
# last_used_at is written at most this often per token (it costs a write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(secret: str) -> str:
    """Return the sha256 hex digest kept for a token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: Session, user, name: Any, expires_in_days: Any = DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """Create a token for the user; return it and its secret (shown once). Does not commit."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        raise Invalid(
            _("Give the token a name of at most %(n)d characters.", n=NAME_MAX),
            code="bad_token_name",
        )
    if (
        not isinstance(expires_in_days, int)
        or isinstance(expires_in_days, bool)
        or not 1 <= expires_in_days <= MAX_DAYS
    ):
        raise Invalid(_("A token expires after 1 to %(n)d days.", n=MAX_DAYS), code="bad_expiry")
    now = utcnow()
    active = session.scalar(
        select(func.count(ApiToken.id)).where(
            ApiToken.user_id == user.id,
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > now,
        )
    )
    if active >= MAX_ACTIVE_TOKENS:
        raise Invalid(
            _("You have %(n)d active tokens; revoke one first.", n=MAX_ACTIVE_TOKENS),
            code="too_many_tokens",
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        prefix=secret[:10],
        token_hash=hash_token(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    session.add(token)
    session.flush()
    record_event(
        session,
        event_type="api_token_create",
        actor=user,
        object_type="api_token",
        object_id=token.id,
        details={"name": token.name, "expires_at": token.expires_at.isoformat()},
    )
    return token, secret


def list_tokens(session: Session, user) -> list[ApiToken]:
    """Return the user's tokens, newest first (revoked and expired ones included)."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user, token_id: Any) -> ApiToken:
    """Revoke one of the user's own tokens (others' tokens are not found)."""
    token = session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."), code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        record_event(
            session,
            event_type="api_token_revoke",
            actor=user,
            object_type="api_token",
            object_id=token.id,
        )
    return token


def token_dict(token: ApiToken) -> dict[str, Any]:
    """Return a token as JSON-ready data (never its hash)."""
    now = utcnow()
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat() if token.created_at else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "active": token.is_usable(now),
    }


def authenticate_token(session: Session, secret: str) -> User | None:
    """Return the active user a token belongs to, or None (unknown, revoked, expired, disabled).

    Records the use (at most once a minute). Commits nothing: the caller commits.
    """
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    now = utcnow()
    if token is None or not token.is_usable(now):
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active or user.is_locked(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return user
