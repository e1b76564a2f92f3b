"""Every route and every Dash callback refuses an anonymous caller (SPEC §7.2).

The test walks the Flask URL map and Dash's callback map, so a route or callback added
later is covered without anyone remembering to add it here.
"""

import json

import pytest

from portal.auth import PUBLIC_ENDPOINTS

# Public on purpose: the log-in page and API, health check, language switch, static files.
PUBLIC_RULES = {
    "/login",
    "/api/v1/auth/login",
    "/healthz",
    "/lang/<code>",
    "/vendor/<path:filename>",
    "/assets/<path:filename>",
    "/_favicon.ico",
}


def _sample(rule: str) -> str:
    path = rule
    for part in (
        "<path:path>",
        "<path:filename>",
        "<path:package_name>",
        "<path:fingerprinted_path>",
    ):
        path = path.replace(part, "x/y.js")
    for part in ("<code>", "<int:id>", "<id>", "<string:name>"):
        path = path.replace(part, "1")
    return path


def test_every_route_needs_a_login(app, anonymous):
    checked = 0
    for rule in app.url_map.iter_rules():
        if (
            rule.rule in PUBLIC_RULES
            or rule.endpoint in PUBLIC_ENDPOINTS
            or rule.endpoint == "static"
        ):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = anonymous.open(
                _sample(rule.rule), method=method, json={} if method == "POST" else None
            )
            assert response.status_code in (401, 302), (rule.rule, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login"), rule.rule
            checked += 1
    assert checked >= 8


def test_every_dash_callback_refuses_a_forged_anonymous_request(app, anonymous, monkeypatch):
    dash_app = app.extensions["dash"]
    called = []
    for key, spec in dash_app.callback_map.items():
        if "callback" not in spec:
            continue  # a clientside callback: it runs in the browser, the server has nothing
        original = spec["callback"]
        monkeypatch.setitem(
            spec,
            "callback",
            lambda *a, _o=original, _k=key, **kw: called.append(_k) or _o(*a, **kw),
        )
    assert dash_app.callback_map, "no callbacks registered?"
    for key, spec in dash_app.callback_map.items():
        if "callback" not in spec:
            continue
        payload = {
            "output": key,
            "outputs": [],
            "inputs": [
                {"id": i["id"], "property": i["property"], "value": None} for i in spec["inputs"]
            ],
            "state": [
                {"id": s["id"], "property": s["property"], "value": None}
                for s in spec.get("state", [])
            ],
            "changedPropIds": [],
        }
        response = anonymous.post(
            "/_dash-update-component", data=json.dumps(payload), content_type="application/json"
        )
        assert response.status_code == 401, key
    assert called == []


def test_a_logged_in_callback_request_is_served(client):
    payload = {
        "output": '{"metric":["MATCH"],"type":"kpi-body"}.children',
        "outputs": {
            "id": {"metric": "deposit_balance", "type": "kpi-body"},
            "property": "children",
        },
        "inputs": [
            {
                "id": {"metric": "deposit_balance", "type": "kpi-body"},
                "property": "id",
                "value": {"metric": "deposit_balance", "type": "kpi-body"},
            }
        ],
        "changedPropIds": [],
    }
    response = client.post(
        "/_dash-update-component", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert "kpi-value" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/anything", "/_dash-layout", "/_dash-dependencies"])
def test_dash_pages_and_metadata_need_a_login(anonymous, path):
    assert anonymous.get(path).status_code in (302, 401)
