"""Through the API, a branch user sees their branch only; head office sees every branch."""

import pytest


def _branches(client, metric="deposit_balance", **extra):
    body = client.post(
        "/api/v1/metrics/query", json={"metric": metric, "by": ["branch"], **extra}
    ).get_json()
    return {r["branch"]: r["value"] for r in body["rows"]}


def test_leader_sees_all_branches_bj_cm_only_beijing(client_as):
    assert len(_branches(client_as("leader"))) == 12
    assert set(_branches(client_as("bj_cm"))) == {"BJ"}
    assert set(_branches(client_as("bj_leader"))) == {"BJ"}
    assert set(_branches(client_as("sh_cm"))) == {"SH"}


def test_bj_cm_gets_nothing_when_asking_for_shanghai(client_as):
    c = client_as("bj_cm")
    for metric in ("deposit_balance", "loan_balance", "transaction_amount", "customer_count"):
        rows = c.post(
            "/api/v1/metrics/query",
            json={
                "metric": metric,
                "by": ["sub_branch"],
                "filters": [{"field": "branch", "op": "eq", "value": "SH"}],
                "period": "ytd",
            },
        ).get_json()["rows"]
        assert rows == [], metric


def test_sub_branch_figures_add_up_to_the_bank_for_the_leader(client_as):
    leader = client_as("leader")
    bank = leader.post("/api/v1/metrics/query", json={"metric": "loan_balance"}).get_json()["rows"][
        0
    ]["value"]
    parts = _branches(leader, "loan_balance")
    assert sum(parts.values()) == pytest.approx(bank, rel=1e-9)


def test_administrators_see_no_business_data(client_as):
    for user in ("admin", "security", "auditor"):
        rows = (
            client_as(user)
            .post("/api/v1/metrics/query", json={"metric": "deposit_balance", "by": ["branch"]})
            .get_json()["rows"]
        )
        assert rows == [], user


def test_single_sign_on_header_is_ignored_unless_configured(app, make_app):
    assert (
        app.test_client().get("/api/v1/me", headers={"X-Remote-User": "leader"}).status_code == 401
    )
    sso_app = make_app(sso_header="X-Remote-User")
    c = sso_app.test_client()
    me = c.get("/api/v1/me", headers={"X-Remote-User": "bj_cm"})
    assert me.status_code == 200 and me.get_json()["user"]["username"] == "bj_cm"
    other = c.get(
        "/api/v1/me", headers={"X-Remote-User": "sh_cm"}
    )  # the header wins over the session
    assert other.get_json()["user"]["username"] == "sh_cm"
    assert c.get("/api/v1/me", headers={"X-Remote-User": "nobody"}).status_code == 401
    assert c.get("/api/v1/me").status_code == 401  # the unknown name ended the session
