"""Personal API tokens: hashed storage, expiry, revocation, last use, limits (service)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.errors import Invalid, NotFound
from portal.models import ApiToken, AuditEvent, User, utcnow
from portal.services import api_tokens as tokens


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def test_a_token_is_stored_hashed_and_authenticates_its_user(db):
    with db.session() as s, s.begin():
        token, secret = tokens.create_token(s, _user(s, "bj_cm"), " 脚本 ", 30)
        token_id = token.id
    assert secret.startswith("bdp_") and len(secret) >= 40
    with db.session() as s, s.begin():
        stored = s.get(ApiToken, token_id)
        assert stored.name == "脚本"
        assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert stored.prefix == secret[:10] and secret not in stored.token_hash
        assert timedelta(days=29) < stored.expires_at - utcnow() <= timedelta(days=30)
        assert stored.last_used_at is None
        assert tokens.authenticate_token(s, secret).username == "bj_cm"
    with db.session() as s:
        assert s.get(ApiToken, token_id).last_used_at is not None
        assert tokens.token_dict(s.get(ApiToken, token_id))["active"] is True
        assert "token_hash" not in tokens.token_dict(s.get(ApiToken, token_id))
        types = s.scalars(select(AuditEvent.event_type)).all()
        assert "api_token_create" in types


@pytest.mark.parametrize("secret", ["", "bdp_", "bdp_wrong", "nope", None, "bdp_" + "x" * 300])
def test_unknown_tokens_authenticate_nobody(db, secret):
    with db.session() as s:
        assert tokens.authenticate_token(s, secret) is None


def test_revoked_expired_and_disabled_tokens_are_refused(db):
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        revoked, revoked_secret = tokens.create_token(s, bj, "a")
        expired, expired_secret = tokens.create_token(s, bj, "b")
        _, live_secret = tokens.create_token(s, bj, "c")
        tokens.revoke_token(s, bj, revoked.id)
        expired.expires_at = utcnow() - timedelta(seconds=1)
    with db.session() as s, s.begin():
        assert tokens.authenticate_token(s, revoked_secret) is None
        assert tokens.authenticate_token(s, expired_secret) is None
        assert tokens.authenticate_token(s, live_secret) is not None
        _user(s, "bj_cm").is_active = False
    with db.session() as s:
        assert tokens.authenticate_token(s, live_secret) is None


def test_only_the_owner_revokes_and_lists_their_tokens(db):
    with db.session() as s, s.begin():
        token, _ = tokens.create_token(s, _user(s, "bj_cm"), "mine")
        token_id = token.id
    with db.session() as s, s.begin():
        with pytest.raises(NotFound):
            tokens.revoke_token(s, _user(s, "sh_cm"), token_id)
        assert tokens.list_tokens(s, _user(s, "sh_cm")) == []
        assert [t.id for t in tokens.list_tokens(s, _user(s, "bj_cm"))] == [token_id]
    with db.session() as s:
        assert s.get(ApiToken, token_id).revoked_at is None


@pytest.mark.parametrize(
    ("name", "days"),
    [
        ("", 30),
        ("   ", 30),
        (None, 30),
        ("x" * 101, 30),
        ("ok", 0),
        ("ok", 366),
        ("ok", "30"),
        ("ok", True),
    ],
)
def test_bad_token_requests_are_refused(db, name, days):
    with db.session() as s, s.begin(), pytest.raises(Invalid):
        tokens.create_token(s, _user(s, "bj_cm"), name, days)
    with db.session() as s:
        assert s.scalar(select(ApiToken.id)) is None


def test_a_user_has_at_most_twenty_active_tokens(db):
    with db.session() as s, s.begin():
        bj = _user(s, "bj_cm")
        for i in range(tokens.MAX_ACTIVE_TOKENS):
            tokens.create_token(s, bj, f"t{i}")
        with pytest.raises(Invalid):
            tokens.create_token(s, bj, "one too many")
        tokens.revoke_token(s, bj, tokens.list_tokens(s, bj)[0].id)
        tokens.create_token(s, bj, "after revoking one")
