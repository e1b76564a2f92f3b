"""The app store and Q&A API: the whole journey, and 401 / 403 / 404 / 422 per endpoint."""

from __future__ import annotations

import pytest

APP = {
    "title_zh": "代发客户流失预警",
    "title_en": "Payroll churn alert",
    "kind": "external",
    "target_url": "/mining",
    "description": "Customers likely to leave",
    "tags": ["代发", "churn"],
    "category": "customer",
    "params": {"threshold": 0.5, "branch": "HO"},
}


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error
    return error


@pytest.fixture
def users(client_as):
    return {name: client_as(name) for name in ("analyst", "admin", "bj_cm", "sh_cm")}


@pytest.fixture
def listed(users) -> int:
    """An app written by the analyst and approved by the admin."""
    app_id = users["analyst"].post("/api/v1/store/apps", json=APP).get_json()["id"]
    assert users["analyst"].post(f"/api/v1/store/apps/{app_id}/submit").status_code == 200
    r = users["admin"].post(f"/api/v1/store/apps/{app_id}/review", json={"decision": "approve"})
    assert r.status_code == 200 and r.get_json()["status"] == "listed"
    return app_id


def test_publish_review_install_comment_journey(users):
    analyst, admin, cm = users["analyst"], users["admin"], users["bj_cm"]
    r = analyst.post("/api/v1/store/apps", json=APP)
    assert r.status_code == 201
    app = r.get_json()
    assert app["status"] == "draft" and app["me"]["is_author"]
    app_id = app["id"]
    r = analyst.patch(f"/api/v1/store/apps/{app_id}", json={"title_en": "Payroll churn radar"})
    assert r.get_json()["title_en"] == "Payroll churn radar"
    _error(cm.get(f"/api/v1/store/apps/{app_id}"), 404, "app_not_found")
    analyst.post(f"/api/v1/store/apps/{app_id}/submit")
    review = admin.get("/api/v1/store/apps?scope=review").get_json()
    assert [a["id"] for a in review["items"]] == [app_id]
    r = admin.post(
        f"/api/v1/store/apps/{app_id}/review", json={"decision": "reject", "reason": "缺少说明"}
    )
    assert r.get_json()["status"] == "rejected" and r.get_json()["review_reason"] == "缺少说明"
    analyst.post(f"/api/v1/store/apps/{app_id}/submit")
    admin.post(f"/api/v1/store/apps/{app_id}/review", json={"decision": "approve"})

    listing = cm.get("/api/v1/store/apps?category=customer&sort=installs").get_json()
    assert listing["total"] == 1 and listing["page"] == 1 and listing["per_page"] == 20
    assert "view_count" not in listing["items"][0]  # only for the author and admins
    r = cm.post(f"/api/v1/store/apps/{app_id}/install", json={"params": {"branch": "BJ"}})
    assert r.status_code == 201
    install = r.get_json()
    assert install["params"] == {"threshold": 0.5, "branch": "BJ"}
    r = cm.patch(f"/api/v1/store/installs/{install['id']}", json={"params": {"threshold": 0.7}})
    assert r.get_json()["params"]["threshold"] == 0.7
    assert cm.get("/api/v1/store/my-apps").get_json()["items"][0]["params"]["threshold"] == 0.7
    assert cm.post(f"/api/v1/store/apps/{app_id}/like").get_json()["like_count"] == 1
    assert cm.post(f"/api/v1/store/apps/{app_id}/favorite").get_json()["me"]["favorite"]
    r = cm.post(f"/api/v1/store/apps/{app_id}/rate", json={"stars": 4})
    assert r.get_json()["rating_average"] == 4.0
    r = cm.post(f"/api/v1/store/apps/{app_id}/comments", json={"body": "<b>很好用</b>"})
    assert r.status_code == 201
    comment_id = r.get_json()["id"]
    r = analyst.post(
        f"/api/v1/store/apps/{app_id}/comments", json={"body": "谢谢", "parent_id": comment_id}
    )
    assert r.status_code == 201
    comments = analyst.get(f"/api/v1/store/apps/{app_id}/comments").get_json()
    assert comments["items"][0]["body"] == "<b>很好用</b>"
    assert comments["items"][0]["replies"][0]["body"] == "谢谢"
    stats = analyst.get(f"/api/v1/store/apps/{app_id}/stats").get_json()
    assert stats["install_count"] == 1
    detail = analyst.get(f"/api/v1/store/apps/{app_id}").get_json()
    assert detail["view_count"] >= 1 and detail["install_count"] == 1

    # Unlist: the app leaves the store for others.
    assert admin.post(f"/api/v1/store/apps/{app_id}/unlist").get_json()["status"] == "unlisted"
    assert cm.get("/api/v1/store/apps").get_json()["total"] == 0
    assert admin.post(f"/api/v1/store/apps/{app_id}/list").get_json()["status"] == "listed"


def test_questions_journey(users, listed):
    cm, analyst, sh = users["bj_cm"], users["analyst"], users["sh_cm"]
    r = cm.post(
        "/api/v1/questions",
        json={"title": "阈值怎么选？", "app_id": listed, "is_public": False, "invite": ["analyst"]},
    )
    assert r.status_code == 201
    qid = r.get_json()["id"]
    _error(sh.get(f"/api/v1/questions/{qid}"), 404, "question_not_found")
    assert sh.get("/api/v1/questions").get_json()["total"] == 0
    r = analyst.post(f"/api/v1/questions/{qid}/answers", json={"body": "0.5 起步"})
    assert r.status_code == 201
    answer_id = r.get_json()["id"]
    assert cm.post(f"/api/v1/answers/{answer_id}/vote").get_json()["vote_count"] == 1
    r = cm.post(f"/api/v1/questions/{qid}/best", json={"answer_id": answer_id})
    assert r.get_json()["status"] == "resolved"
    listing = analyst.get(f"/api/v1/questions?app_id={listed}").get_json()
    assert [q["id"] for q in listing["items"]] == [qid]


ENDPOINTS = [
    ("get", "/api/v1/store/apps"),
    ("post", "/api/v1/store/apps"),
    ("get", "/api/v1/store/apps/1"),
    ("patch", "/api/v1/store/apps/1"),
    ("post", "/api/v1/store/apps/1/submit"),
    ("post", "/api/v1/store/apps/1/review"),
    ("post", "/api/v1/store/apps/1/list"),
    ("post", "/api/v1/store/apps/1/unlist"),
    ("post", "/api/v1/store/apps/1/install"),
    ("delete", "/api/v1/store/apps/1/install"),
    ("post", "/api/v1/store/apps/1/like"),
    ("delete", "/api/v1/store/apps/1/like"),
    ("post", "/api/v1/store/apps/1/favorite"),
    ("delete", "/api/v1/store/apps/1/favorite"),
    ("post", "/api/v1/store/apps/1/rate"),
    ("get", "/api/v1/store/apps/1/comments"),
    ("post", "/api/v1/store/apps/1/comments"),
    ("patch", "/api/v1/store/comments/1"),
    ("delete", "/api/v1/store/comments/1"),
    ("get", "/api/v1/store/my-apps"),
    ("patch", "/api/v1/store/installs/1"),
    ("get", "/api/v1/store/apps/1/stats"),
    ("get", "/api/v1/questions"),
    ("post", "/api/v1/questions"),
    ("get", "/api/v1/questions/1"),
    ("post", "/api/v1/questions/1/answers"),
    ("post", "/api/v1/answers/1/vote"),
    ("post", "/api/v1/questions/1/best"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_every_endpoint_needs_a_login(anonymous, method, path):
    response = getattr(anonymous, method)(path, json={})
    assert response.status_code == 401


def test_forbidden(users, listed):
    analyst, admin, cm = users["analyst"], users["admin"], users["bj_cm"]
    draft = analyst.post("/api/v1/store/apps", json=APP).get_json()["id"]
    _error(admin.patch(f"/api/v1/store/apps/{draft}", json={"title_zh": "x"}), 403, "not_author")
    _error(admin.post(f"/api/v1/store/apps/{draft}/submit"), 403, "not_author")
    analyst.post(f"/api/v1/store/apps/{draft}/submit")
    _error(
        analyst.patch(f"/api/v1/store/apps/{draft}", json={"title_zh": "x"}), 403, "not_editable"
    )
    for path in ("review", "list", "unlist"):
        _error(
            analyst.post(f"/api/v1/store/apps/{listed}/{path}", json={"decision": "approve"}),
            403,
            "not_admin",
        )
    _error(cm.get("/api/v1/store/apps?scope=review"), 403, "not_admin")
    _error(analyst.post(f"/api/v1/store/apps/{listed}/rate", json={"stars": 5}), 403, "own_app")
    _error(cm.get(f"/api/v1/store/apps/{listed}/stats"), 403, "not_author")
    comment = cm.post(f"/api/v1/store/apps/{listed}/comments", json={"body": "hi"}).get_json()
    _error(users["sh_cm"].patch(f"/api/v1/store/comments/{comment['id']}", json={"body": "x"}),
           403, "not_author")  # fmt: skip
    _error(users["sh_cm"].delete(f"/api/v1/store/comments/{comment['id']}"), 403, "not_author")
    assert admin.delete(f"/api/v1/store/comments/{comment['id']}").get_json()["deleted"]
    qid = cm.post("/api/v1/questions", json={"title": "问"}).get_json()["id"]
    aid = analyst.post(f"/api/v1/questions/{qid}/answers", json={"body": "答"}).get_json()["id"]
    _error(analyst.post(f"/api/v1/answers/{aid}/vote"), 403, "own_answer")
    _error(analyst.post(f"/api/v1/questions/{qid}/best", json={"answer_id": aid}), 403, "not_asker")


def test_not_found(users):
    cm = users["bj_cm"]
    for method, path in ENDPOINTS:
        if "/1" not in path:
            continue
        body = {"body": "x", "stars": 3, "decision": "approve", "answer_id": 1, "params": {}}
        response = getattr(users["admin"] if path.endswith(("review", "list")) else cm, method)(
            path.replace("/1", "/987654"), json=body
        )
        assert response.status_code == 404, (method, path, response.get_data(as_text=True))
        assert response.get_json()["error"]["code"].endswith("not_found")


def test_invalid_input_is_refused_and_nothing_changes(users, listed):
    analyst, admin, cm = users["analyst"], users["admin"], users["bj_cm"]
    before = cm.get(f"/api/v1/store/apps/{listed}").get_json()
    _error(analyst.post("/api/v1/store/apps", data="nope"), 422, "invalid_json")
    _error(analyst.post("/api/v1/store/apps", json={**APP, "kind": "tv"}), 422, "bad_kind")
    _error(analyst.get("/api/v1/store/apps?per_page=1000"), 422, "bad_per_page")
    _error(analyst.get("/api/v1/store/apps?page=abc"), 422, "bad_page")
    _error(analyst.get("/api/v1/store/apps?sort=random"), 422, "bad_sort")
    draft = analyst.post("/api/v1/store/apps", json=APP).get_json()["id"]
    _error(analyst.patch(f"/api/v1/store/apps/{draft}", json={"tags": 5}), 422, "bad_tags")
    _error(analyst.post(f"/api/v1/store/apps/{listed}/submit"), 422, "bad_status")
    _error(admin.post(f"/api/v1/store/apps/{draft}/review", json={"decision": "approve"}),
           422, "bad_status")  # fmt: skip
    analyst.post(f"/api/v1/store/apps/{draft}/submit")
    _error(admin.post(f"/api/v1/store/apps/{draft}/review", json={"decision": "maybe"}),
           422, "bad_decision")  # fmt: skip
    _error(admin.post(f"/api/v1/store/apps/{draft}/review", json={"decision": "reject"}),
           422, "missing_field")  # fmt: skip
    _error(admin.post(f"/api/v1/store/apps/{listed}/list"), 422, "bad_status")
    _error(admin.post(f"/api/v1/store/apps/{draft}/unlist"), 422, "bad_status")
    _error(cm.post(f"/api/v1/store/apps/{listed}/install", json={"params": {"x": 1}}),
           422, "unknown_param")  # fmt: skip
    _error(cm.post(f"/api/v1/store/apps/{listed}/rate", json={"stars": 0}), 422, "bad_stars")
    _error(cm.post(f"/api/v1/store/apps/{listed}/rate", json={"stars": "five"}), 422, "bad_stars")
    _error(cm.post(f"/api/v1/store/apps/{listed}/comments", json={"body": ""}), 422)
    _error(cm.post(f"/api/v1/store/apps/{listed}/comments", json={"body": "x" * 2001}), 422)
    _error(cm.post(f"/api/v1/store/apps/{listed}/comments", json={"body": "x", "parent_id": 99}),
           422, "bad_parent")  # fmt: skip
    comment = cm.post(f"/api/v1/store/apps/{listed}/comments", json={"body": "ok"}).get_json()
    _error(cm.patch(f"/api/v1/store/comments/{comment['id']}", json={"body": ""}), 422)
    install = cm.post(f"/api/v1/store/apps/{listed}/install").get_json()
    _error(cm.patch(f"/api/v1/store/installs/{install['id']}", json={"params": {"threshold": "high"}}),
           422, "bad_param_value")  # fmt: skip
    _error(cm.post("/api/v1/questions", json={"title": ""}), 422, "missing_field")
    qid = cm.post("/api/v1/questions", json={"title": "问"}).get_json()["id"]
    _error(analyst.post(f"/api/v1/questions/{qid}/answers", json={"body": ""}), 422)
    _error(cm.post(f"/api/v1/questions/{qid}/best", json={"answer_id": 5}), 422, "bad_answer")
    _error(cm.post("/api/v1/answers/1/vote", json={"up": "yes"}), 422, "bad_vote")
    after = cm.get(f"/api/v1/store/apps/{listed}").get_json()
    assert after["rating_count"] == before["rating_count"] == 0
    assert after["params"] == APP["params"]
    mine = cm.get("/api/v1/store/my-apps").get_json()["items"]
    assert mine[0]["params"] == APP["params"]  # the refused change left the copy alone
    assert cm.get(f"/api/v1/store/apps/{listed}/comments").get_json()["items"][0]["body"] == "ok"


def _callback(client, app, fragment: str, inputs: list, state: list, changed: str):
    """Post a Dash callback request (as the browser would) for the callback whose outputs hold
    `fragment` (or whose input it is); return the response's JSON."""
    import json

    key, spec = next(
        (k, v)
        for k, v in app.extensions["dash"].callback_map.items()
        if fragment in k or any(i["id"] == fragment for i in v["inputs"])
    )
    outputs = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        cid, prop = part.rsplit(".", 1)
        outputs.append({"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop})
    payload = {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": [changed],
    }
    response = client.post(
        "/_dash-update-component", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code in (200, 204), response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    return json.dumps(json.loads(text), ensure_ascii=False) if text else ""


def test_review_callback_checks_the_role_on_the_server(app, users):
    """A forged click on "approve" by the author is refused; the admin's click lists the app."""
    analyst, admin = users["analyst"], users["admin"]
    app_id = analyst.post("/api/v1/store/apps", json=APP).get_json()["id"]
    analyst.post(f"/api/v1/store/apps/{app_id}/submit")
    button = {"action": "approve", "type": "store-review-act"}
    inputs = [[{"id": button, "property": "n_clicks", "value": 1}]]
    state = [
        {"id": "store-review-reason", "property": "value", "value": None},
        {"id": "store-app-id", "property": "data", "value": app_id},
    ]
    changed = '{"action":"approve","type":"store-review-act"}.n_clicks'
    body = _callback(analyst, app, "store-review-feedback", inputs, state, changed)
    assert "Only an administrator" in body or "只有系统管理员" in body
    assert analyst.get(f"/api/v1/store/apps/{app_id}").get_json()["status"] == "submitted"
    _callback(admin, app, "store-review-feedback", inputs, state, changed)
    assert analyst.get(f"/api/v1/store/apps/{app_id}").get_json()["status"] == "listed"


def test_comment_callback_stores_text_as_given_and_refuses_strangers_edits(app, users, listed):
    cm, sh = users["bj_cm"], users["sh_cm"]
    script = "<script>alert(1)</script>"
    inputs = [
        {"id": "store-comment-post", "property": "n_clicks", "value": 1},
        [],
        {"id": "store-edit-save", "property": "n_clicks", "value": 0},
    ]
    state = [
        {"id": "store-comment-text", "property": "value", "value": script},
        {"id": "store-reply-to", "property": "data", "value": None},
        {"id": "store-edit-id", "property": "data", "value": None},
        {"id": "store-edit-text", "property": "value", "value": None},
        {"id": "store-app-id", "property": "data", "value": listed},
    ]
    _callback(cm, app, "store-comment-list", inputs, state, "store-comment-post.n_clicks")
    [comment] = cm.get(f"/api/v1/store/apps/{listed}/comments").get_json()["items"]
    assert comment["body"] == script
    # sh_cm forges a save of an edit of bj_cm's comment.
    inputs[0]["value"], inputs[2]["value"] = 0, 1
    state[2]["value"], state[3]["value"] = comment["id"], "hijacked"
    body = _callback(sh, app, "store-comment-list", inputs, state, "store-edit-save.n_clicks")
    assert "Only its author" in body or "只有评论作者" in body
    [after] = cm.get(f"/api/v1/store/apps/{listed}/comments").get_json()["items"]
    assert after["body"] == script


def test_unified_search_finds_apps_by_pinyin(users, listed):
    cm = users["bj_cm"]
    found = cm.get("/api/v1/store/apps?q=dfkhlsyj").get_json()  # 代发客户流失预警
    assert [a["id"] for a in found["items"]] == [listed]
    assert cm.get("/api/v1/store/apps?q=nothing-like-this").get_json()["total"] == 0


def test_the_openapi_document_describes_the_store(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    create = paths["/api/v1/store/apps"]["post"]
    assert create["summary"].startswith("Create a draft app")
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert "kind" in schema["properties"]
    assert "201" in create["responses"]
    assert {"review", "rate"} <= {
        p.rsplit("/", 1)[-1] for p in paths if p.startswith("/api/v1/store/apps/{")
    }


def test_draft_editor_and_uninstall_callbacks(app, users, listed):
    analyst, cm = users["analyst"], users["bj_cm"]
    draft = analyst.post("/api/v1/store/apps", json=APP).get_json()["id"]
    fields = ["title-zh", "title-en", "target", "description", "tags", "params"]
    values = ["新标题", "New title", "/pivot", "说明", "a, b", '{"threshold": 0.3}']
    state = [
        {"id": f"store-draft-{f}", "property": "value", "value": v}
        for f, v in zip(fields, values, strict=True)
    ]
    state.append({"id": "store-app-id", "property": "data", "value": draft})
    inputs = [{"id": "store-draft-save", "property": "n_clicks", "value": 1}]
    # Another user's forged save is refused (the draft is hidden from them: not found).
    body = _callback(cm, app, "store-draft-feedback", inputs, state, "store-draft-save.n_clicks")
    assert "不存在" in body or "does not exist" in body
    _callback(analyst, app, "store-draft-feedback", inputs, state, "store-draft-save.n_clicks")
    saved = analyst.get(f"/api/v1/store/apps/{draft}").get_json()
    assert saved["title_zh"] == "新标题" and saved["tags"] == ["a", "b"]
    assert saved["params"] == {"threshold": 0.3} and saved["target_url"] == "/pivot"
    bad = [dict(s) for s in state]
    bad[5]["value"] = "{not json"
    body = _callback(analyst, app, "store-draft-feedback", inputs, bad, "store-draft-save.n_clicks")
    assert "JSON" in body
    assert analyst.get(f"/api/v1/store/apps/{draft}").get_json()["params"] == {"threshold": 0.3}

    cm.post(f"/api/v1/store/apps/{listed}/install")
    assert cm.get(f"/api/v1/store/apps/{listed}").get_json()["install_count"] == 1
    _callback(
        cm,
        app,
        "store-uninstall",
        [{"id": "store-uninstall", "property": "n_clicks", "value": 1}],
        [{"id": "store-app-id", "property": "data", "value": listed}],
        "store-uninstall.n_clicks",
    )
    assert cm.get(f"/api/v1/store/apps/{listed}").get_json()["install_count"] == 0
    assert cm.get("/api/v1/store/my-apps").get_json()["items"] == []
