"""The home page's API: layouts per user and role, announcements; 401/403/404/422 cases."""

from __future__ import annotations


def test_layout_round_trip_and_restore(client_as):
    analyst = client_as("analyst")
    got = analyst.get("/api/v1/home/layout").get_json()
    assert got["source"] == "default" and got["layout"]["version"] == 1
    layout = {"version": 1, "widgets": [{"id": "recent", "x": 0, "y": 0, "w": 6, "h": 5}]}
    saved = analyst.put("/api/v1/home/layout", json=layout)
    assert saved.status_code == 200 and saved.get_json()["layout"] == layout
    assert analyst.get("/api/v1/home/layout").get_json() == {
        "layout": layout,
        "source": "user",
        "notice": None,
    }
    assert client_as("leader").get("/api/v1/home/layout").get_json()["source"] == "default"
    restored = analyst.delete("/api/v1/home/layout").get_json()
    assert restored["source"] == "default" and restored["layout"] == got["layout"]


def test_bad_layouts_get_422_and_keep_the_saved_one(client_as):
    analyst = client_as("analyst")
    layout = {"version": 1, "widgets": [{"id": "recent", "x": 0, "y": 0, "w": 6, "h": 5}]}
    analyst.put("/api/v1/home/layout", json=layout)
    for bad in ("x", {"version": 2, "widgets": []}, {"version": 1, "widgets": [{"id": "evil"}]}):
        response = analyst.put("/api/v1/home/layout", json=bad)
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["code"].startswith("bad_layout")
    bad_json = analyst.put("/api/v1/home/layout", data="{", content_type="application/json")
    assert bad_json.status_code == 422
    assert analyst.get("/api/v1/home/layout").get_json()["layout"] == layout


def test_role_defaults_are_for_administrators(client_as):
    layout = {"version": 1, "widgets": [{"id": "announcements", "x": 0, "y": 0, "w": 12, "h": 4}]}
    url = "/api/v1/home/layout/roles/customer_manager"
    assert client_as("leader").put(url, json=layout).status_code == 403
    admin = client_as("admin")
    assert admin.put("/api/v1/home/layout/roles/nobody", json=layout).status_code == 422
    assert admin.put(url, json=layout).status_code == 200
    assert client_as("bj_cm").get("/api/v1/home/layout").get_json()["layout"] == layout


def test_announcements(client_as, anonymous):
    assert anonymous.get("/api/v1/announcements").status_code == 401
    body = {"title_zh": "系统维护", "title_en": "Maintenance", "audience": {"branches": ["SH"]}}
    assert client_as("leader").post("/api/v1/announcements", json=body).status_code == 403
    admin = client_as("admin")
    assert admin.post("/api/v1/announcements", json={"title_zh": ""}).status_code == 422
    created = admin.post("/api/v1/announcements", json=body)
    assert created.status_code == 201
    item_id = created.get_json()["id"]
    assert [
        a["title"] for a in client_as("sh_cm").get("/api/v1/announcements").get_json()["items"]
    ] == ["系统维护"]
    assert client_as("bj_cm").get("/api/v1/announcements").get_json()["items"] == []
    assert admin.delete("/api/v1/announcements/999999").status_code == 404
    assert client_as("sh_cm").delete(f"/api/v1/announcements/{item_id}").status_code == 403
    assert admin.delete(f"/api/v1/announcements/{item_id}").status_code == 200
    assert client_as("sh_cm").get("/api/v1/announcements").get_json()["items"] == []
