"""Single sign-on launch of external systems (SPEC §7.3).

Launching an external tile issues a short-lived token, signed with the portal's secret key and
bound to the user and the target (the tile's key is the token's audience). The target system
posts it to `POST /api/v1/sso/verify` with its audience and learns who the user is. A token is
refused when it is expired, tampered with, meant for another target, or already redeemed
(each token's id is stored once; a replay hits the primary key).
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.errors import Invalid, Unauthorized
from portal.models import SsoTokenUse, User, utcnow
from portal.services.audit import record_event

TOKEN_TTL_SECONDS = 60
SALT = "portal-sso-launch"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def issue_token(secret_key: str, user, audience: str) -> str:
    """Return a signed launch token for `user` to open the target `audience`."""
    payload = {"uid": user.id, "sub": user.username, "aud": audience, "jti": secrets.token_hex(16)}
    return _serializer(secret_key).dumps(payload)


def _refuse(session: Session, code: str, message: str, audience: str | None, payload=None):
    record_event(
        session,
        event_type="sso_verify",
        actor_id=(payload or {}).get("uid"),
        actor_name=(payload or {}).get("sub"),
        object_type="sso_target",
        object_id=audience,
        result="denied",
        details={"reason": code},
    )
    raise Unauthorized(message, code=code)


def verify_token(
    session: Session,
    secret_key: str,
    token,
    audience,
    max_age: int = TOKEN_TTL_SECONDS,
) -> dict:
    """Redeem a launch token for `audience`; return the user's identity. Commits nothing.

    Raises Invalid for a malformed request, Unauthorized (with a stable code) for an expired,
    tampered, misdirected, replayed token or a disabled user. Every decision is audited.
    """
    if not isinstance(token, str) or not token or len(token) > 2000:
        raise Invalid(_("A token is required."), code="token_missing")
    if not isinstance(audience, str) or not audience or len(audience) > 200:
        raise Invalid(_("The target system (audience) is required."), code="audience_missing")
    serializer = _serializer(secret_key)
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        _refuse(session, "token_expired", _("The sign-on token has expired."), audience)
    except BadSignature:
        _refuse(session, "token_invalid", _("The sign-on token is not valid."), audience)
    if not isinstance(payload, dict) or not {"uid", "sub", "aud", "jti"} <= set(payload):
        _refuse(session, "token_invalid", _("The sign-on token is not valid."), audience)
    if payload["aud"] != audience:
        _refuse(
            session,
            "token_wrong_audience",
            _("The sign-on token was issued for another system."),
            audience,
            payload,
        )
    user = session.get(User, payload["uid"])
    if user is None or not user.is_active or user.username != payload["sub"]:
        _refuse(session, "user_disabled", _("This account cannot sign on."), audience, payload)
    now = utcnow()
    try:
        with session.begin_nested():
            session.add(
                SsoTokenUse(
                    jti=str(payload["jti"])[:64],
                    user_id=user.id,
                    audience=audience,
                    expires_at=now + timedelta(seconds=max_age),
                    used_at=now,
                )
            )
    except IntegrityError:
        _refuse(
            session,
            "token_replayed",
            _("The sign-on token has already been used."),
            audience,
            payload,
        )
    # Redeemed ids are only needed until their tokens would have expired anyway.
    session.execute(delete(SsoTokenUse).where(SsoTokenUse.expires_at < now))
    record_event(
        session,
        event_type="sso_verify",
        actor=user,
        object_type="sso_target",
        object_id=audience,
    )
    english = (user.language or "").startswith("en")
    return {
        "username": user.username,
        "display_name": user.display_name,
        "employee_no": user.employee_no,
        "email": user.email,
        "branch": {
            "id": user.branch_id,
            "name": user.branch.name_en if english else user.branch.name_zh,
        },
        "department": user.department_code,
        "roles": sorted(user.role_codes),
        "audience": audience,
    }
