"""Log-in, log-out, /me, throttling, tampered sessions, and the language preference."""

import pytest

from tests.conftest import DEMO_PASSWORD, login


def test_login_me_logout(anonymous):
    assert anonymous.get("/api/v1/me").status_code == 401
    body = login(anonymous, "bj_cm").get_json()["user"]
    assert body["username"] == "bj_cm" and body["branch_id"] == "BJ-CY"
    assert body["roles"] == ["customer_manager"]
    me = anonymous.get("/api/v1/me").get_json()["user"]
    assert me["username"] == "bj_cm"
    assert anonymous.post("/api/v1/auth/logout").status_code == 200
    assert anonymous.get("/api/v1/me").status_code == 401


def test_session_cookie_flags(anonymous):
    response = anonymous.post(
        "/api/v1/auth/login", json={"username": "leader", "password": DEMO_PASSWORD}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"username": "leader", "password": "wrong-Password1"}, 401, "bad_credentials"),
        ({"username": "nobody", "password": "wrong-Password1"}, 401, "bad_credentials"),
        ({"username": "leader"}, 422, "missing_credentials"),
        ({"username": ["leader"], "password": 5}, 422, "missing_credentials"),
        ("junk", 422, "invalid_json"),
    ],
)
def test_bad_logins(anonymous, payload, status, code):
    if isinstance(payload, str):
        response = anonymous.post(
            "/api/v1/auth/login", data=payload, content_type="application/json"
        )
    else:
        response = anonymous.post("/api/v1/auth/login", json=payload)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert anonymous.get("/api/v1/me").status_code == 401


def test_wrong_password_message_is_translated(anonymous):
    zh = anonymous.post(
        "/api/v1/auth/login",
        json={"username": "leader", "password": "x"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert zh.get_json()["error"]["message"] == "用户名或密码错误。"


def test_account_locks_after_five_failures(app):
    for i in range(5):
        c = app.test_client()  # a fresh client each time: the account, not the cookie, is locked
        c.environ_base["REMOTE_ADDR"] = f"10.0.0.{i + 1}"  # and not the address
        response = c.post(
            "/api/v1/auth/login", json={"username": "analyst", "password": "Wrong#pass1"}
        )
    assert response.status_code == 429
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "10.0.0.99"
    response = c.post(
        "/api/v1/auth/login",
        json={"username": "analyst", "password": DEMO_PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 429
    assert "locked" in response.get_json()["error"]["message"]
    assert c.get("/api/v1/me").status_code == 401


def test_one_address_is_throttled_across_user_names(anonymous):
    for name in ("u1", "u2", "u3", "u4", "u5"):
        anonymous.post("/api/v1/auth/login", json={"username": name, "password": "Nope#1234"})
    response = anonymous.post(
        "/api/v1/auth/login",
        json={"username": "leader", "password": DEMO_PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 429
    assert "your address" in response.get_json()["error"]["message"]


def test_tampered_session_cookie_is_anonymous(app):
    c = app.test_client()
    login(c, "bj_cm")
    cookie = c.get_cookie("session")
    value = cookie.value
    tampered = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    c.set_cookie("session", tampered)
    response = c.get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Please log in first."


def test_login_form_flow(anonymous):
    page = anonymous.get("/login?next=/", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "用户名".encode() in page.data
    bad = anonymous.post(
        "/login",
        data={"username": "leader", "password": "nope", "next": "/"},
        headers={"Accept-Language": "en"},
    )
    assert bad.status_code == 401 and b"Wrong user name or password." in bad.data
    assert b'value="leader"' in bad.data  # what the user typed is kept
    good = anonymous.post(
        "/login",
        data={"username": "leader", "password": DEMO_PASSWORD, "next": "https://evil.example/"},
    )
    assert good.status_code == 302 and good.headers["Location"] == "/"
    assert anonymous.get("/logout").status_code == 302
    assert anonymous.get("/api/v1/me").status_code == 401


def test_pages_redirect_to_login(anonymous):
    response = anonymous.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/")


def test_language_choice_persists_per_user(app):
    c = app.test_client()
    login(c, "analyst")
    c.get("/lang/en?next=/")
    c.post("/api/v1/auth/logout")
    fresh = app.test_client()
    body = login(fresh, "analyst").get_json()["user"]
    assert body["language"] == "en"
    assert (
        fresh.post("/api/v1/metrics/query", json={"metric": "nope"}).get_json()["error"]["message"]
        == "Unknown metric: nope"
    )


def test_vendor_files_are_served_locally(anonymous):
    css = anonymous.get("/vendor/bootstrap5/css/bootstrap.min.css")
    assert css.status_code == 200 and b"Bootstrap" in css.data[:200]
    assert (
        anonymous.get("/vendor/bootstrap4/css/font/fonts/bootstrap-icons.woff2").status_code == 200
    )
    assert anonymous.get("/vendor/../../app.py").status_code == 404
    assert anonymous.get("/vendor/bootstrap5/js/bootstrap.min.js").status_code == 404
