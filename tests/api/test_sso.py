"""Single-sign-on launch: a short-lived token bound to user and target, redeemed once."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from portal.db import get_db
from portal.models import AuditEvent, View
from portal.services.sso import issue_token


def _launch(client, key: str) -> str:
    response = client.get(f"/sso/launch/{key}")
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    return parse_qs(urlsplit(location).query)["portal_token"][0]


def test_a_launched_token_identifies_the_user_once(app, client_as, anonymous):
    token = _launch(client_as("bj_cm"), "report-platform")
    response = anonymous.post(
        "/api/v1/sso/verify", json={"token": token, "audience": "report-platform"}
    )
    assert response.status_code == 200
    user = response.get_json()["user"]
    assert user["username"] == "bj_cm" and user["branch"]["id"] == "BJ-CY"
    assert user["roles"] == ["customer_manager"] and "password_hash" not in user
    replay = anonymous.post(
        "/api/v1/sso/verify", json={"token": token, "audience": "report-platform"}
    )
    assert replay.status_code == 401
    assert replay.get_json()["error"]["code"] == "token_replayed"
    with app.app_context(), get_db().session() as s:
        kinds = s.scalars(select(AuditEvent.result).where(AuditEvent.event_type == "sso_verify"))
        assert sorted(kinds) == ["denied", "ok"]
        assert s.scalar(select(View.id).limit(1)) is not None  # the launch counts as a view


def test_tampered_misdirected_and_expired_tokens_are_refused(app, client, anonymous):
    token = _launch(client, "cockpit")
    cases = [
        ({"token": token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "audience": "cockpit"},
         "token_invalid"),
        ({"token": token, "audience": "report-platform"}, "token_wrong_audience"),
        ({"token": "not-a-token", "audience": "cockpit"}, "token_invalid"),
    ]  # fmt: skip
    for body, code in cases:
        response = anonymous.post("/api/v1/sso/verify", json=body)
        assert response.status_code == 401 and response.get_json()["error"]["code"] == code
    with app.app_context(), get_db().session() as s:
        from portal.models import User

        leader = s.scalar(select(User).where(User.username == "leader"))
        other_key = issue_token("another-secret", leader, "cockpit")
    response = anonymous.post(
        "/api/v1/sso/verify", json={"token": other_key, "audience": "cockpit"}
    )
    assert response.get_json()["error"]["code"] == "token_invalid"
    # Still unused after the refusals: the right audience redeems it.
    assert (
        anonymous.post(
            "/api/v1/sso/verify", json={"token": token, "audience": "cockpit"}
        ).status_code
        == 200
    )


def test_an_expired_token_is_refused(app, client, anonymous, monkeypatch):
    import itsdangerous.timed

    token = _launch(client, "cockpit")
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: real(self) + 61
    )
    response = anonymous.post("/api/v1/sso/verify", json={"token": token, "audience": "cockpit"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "token_expired"


def test_bad_requests_get_clear_errors(anonymous, client):
    assert anonymous.post("/api/v1/sso/verify", data="x").status_code == 422
    response = anonymous.post("/api/v1/sso/verify", json={"audience": "cockpit"})
    assert response.get_json()["error"]["code"] == "token_missing"
    response = anonymous.post("/api/v1/sso/verify", json={"token": "x"})
    assert response.get_json()["error"]["code"] == "audience_missing"


def test_launch_needs_a_login_and_a_visible_tile(anonymous, client_as):
    assert anonymous.get("/sso/launch/report-platform").status_code in (302, 401)
    response = client_as("analyst").get("/sso/launch/cockpit")  # leaders only
    assert response.status_code == 404
    internal = client_as("analyst").get("/sso/launch/pivot")
    assert internal.status_code == 302 and internal.headers["Location"].endswith("/pivot")


def test_the_demo_target_verifies_like_a_real_system(client, anonymous):
    token = _launch(client, "external-data")
    page = anonymous.get(f"/sso/demo/external-data?portal_token={token}")
    assert page.status_code == 200 and "sso-demo-ok" in page.get_data(as_text=True)
    again = anonymous.get(f"/sso/demo/external-data?portal_token={token}")
    assert again.status_code == 401 and "sso-demo-error" in again.get_data(as_text=True)


def test_tiles_api_lists_saves_preferences_and_guards_administration(client_as):
    cm = client_as("bj_cm")
    keys = [t["key"] for t in cm.get("/api/v1/tiles").get_json()["tiles"]]
    assert "bj-marketing" in keys and "cockpit" not in keys
    saved = cm.put("/api/v1/tiles/preferences", json={"order": ["store"], "hidden": ["search"]})
    assert saved.status_code == 200
    keys = [t["key"] for t in cm.get("/api/v1/tiles").get_json()["tiles"]]
    assert keys[0] == "store" and "search" not in keys
    bad = cm.put("/api/v1/tiles/preferences", json={"order": ["cockpit"]})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "unknown_tile"
    tile = {"key": "wiki", "title_zh": "知识库", "url": "/store"}
    assert cm.post("/api/v1/tiles", json=tile).status_code == 403
    admin = client_as("admin")
    assert admin.post("/api/v1/tiles", json=tile).status_code == 200
    assert admin.post("/api/v1/tiles", json={**tile, "url": "ftp://x"}).status_code == 422
    assert admin.delete("/api/v1/tiles/wiki").status_code == 200
    assert admin.delete("/api/v1/tiles/wiki").status_code == 404
