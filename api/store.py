"""The app store and Q&A API (SPEC §6.1), under /api/v1.

Lists are paginated with ?page=&per_page= and answer {"items", "total", "page", "per_page"}.
Errors are {"error": {"code", "message"}} with 401 (not logged in), 403 (not allowed),
404 (missing or hidden) and 422 (bad input). Permissions are checked in the services.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from api.openapi import PAGING_PARAMETERS, json_request_body
from api.request_helpers import json_body, logged_in_user, optional_json_body, request_locale
from portal.auth import client_address
from portal.db import get_db
from portal.errors import Invalid
from portal.services import questions as qa
from portal.services import store

bp = Blueprint("store_api", __name__)


def _app_reply(session, app, status: int = 200):
    return jsonify(
        store.app_dict(session, app, logged_in_user(), request_locale(), detail=True)
    ), status


# -- apps -------------------------------------------------------------------------------------
@bp.get("/store/apps")
def list_apps():
    """List store apps: ?category=&tag=&sort=newest|installs|rating|likes&q=&scope=listed|mine|review."""
    user = logged_in_user()
    args = request.args
    with get_db().session() as s:
        result = store.browse(
            s,
            user,
            category=args.get("category") or None,
            tag=args.get("tag") or None,
            sort=args.get("sort") or "newest",
            q=args.get("q"),
            scope=args.get("scope") or "listed",
            page=args.get("page"),
            per_page=args.get("per_page"),
            locale=request_locale(),
        )
    return jsonify(result)


@bp.post("/store/apps")
def create_app():
    """Create a draft app: {"title_zh","title_en","kind","target_resource_id"|"target_url",...}."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        app = store.create_app(s, user, body, client_address())
        return _app_reply(s, app, 201)


@bp.get("/store/apps/<int:app_id>")
def get_app(app_id: int):
    """Return one app with the caller's marks (liked, favorite, stars, installed copy)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        app = store.get_app(s, user, app_id, count_view=True)
        data = store.app_dict(s, app, user, request_locale(), detail=True)
    return jsonify(data)


@bp.patch("/store/apps/<int:app_id>")
def update_app(app_id: int):
    """Edit a draft or rejected app (its author only)."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.update_app(s, user, app_id, body))


@bp.post("/store/apps/<int:app_id>/submit")
def submit_app(app_id: int):
    """Submit a draft app for review (its author only)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.submit_app(s, user, app_id, client_address()))


@bp.post("/store/apps/<int:app_id>/review")
def review_app(app_id: int):
    """Approve or reject a submitted app: {"decision": "approve"|"reject", "reason"} (admins)."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        app = store.review_app(
            s, user, app_id, body.get("decision"), body.get("reason"), client_address()
        )
        return _app_reply(s, app)


@bp.post("/store/apps/<int:app_id>/list")
def list_app(app_id: int):
    """List (上架) an unlisted app again (admins)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.list_app(s, user, app_id, client_address()))


@bp.post("/store/apps/<int:app_id>/unlist")
def unlist_app(app_id: int):
    """Unlist (下架) a listed app, optionally with {"reason"} (admins)."""
    user = logged_in_user()
    reason = optional_json_body().get("reason")
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.unlist_app(s, user, app_id, reason, client_address()))


@bp.post("/store/apps/<int:app_id>/install")
def install_app(app_id: int):
    """Install a listed app as "my app", optionally with {"params": {...}}; idempotent."""
    user = logged_in_user()
    body = optional_json_body()
    with get_db().session() as s, s.begin():
        record = store.install(s, user, app_id, body.get("params"), client_address())
        data = store.install_dict(s, record, request_locale())
    return jsonify(data), 201


@bp.delete("/store/apps/<int:app_id>/install")
def uninstall_app(app_id: int):
    """Remove the caller's installed copy of an app."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.uninstall(s, user, app_id))


@bp.get("/store/my-apps")
def my_apps():
    """List the caller's installed apps (their own copies)."""
    user = logged_in_user()
    with get_db().session() as s:
        items = store.my_apps(s, user, request_locale())
    return jsonify({"items": items, "total": len(items)})


@bp.patch("/store/installs/<int:id>")
def update_install(id: int):  # noqa: A002 - the route's name
    """Change the parameters of the caller's installed copy: {"params": {...}}."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        record = store.update_install_params(s, user, id, body.get("params"))
        data = store.install_dict(s, record, request_locale())
    return jsonify(data)


@bp.post("/store/apps/<int:app_id>/like")
def like_app(app_id: int):
    """Like a listed app (idempotent)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.like(s, user, app_id))


@bp.delete("/store/apps/<int:app_id>/like")
def unlike_app(app_id: int):
    """Withdraw a like (idempotent)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.unlike(s, user, app_id))


@bp.post("/store/apps/<int:app_id>/favorite")
def favorite_app(app_id: int):
    """Add a listed app to the caller's favorites (idempotent)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.favorite(s, user, app_id))


@bp.delete("/store/apps/<int:app_id>/favorite")
def unfavorite_app(app_id: int):
    """Remove an app from the caller's favorites (idempotent)."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.unfavorite(s, user, app_id))


@bp.post("/store/apps/<int:app_id>/rate")
def rate_app(app_id: int):
    """Rate a listed app: {"stars": 1-5}; rating again replaces the caller's rating."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        return _app_reply(s, store.rate(s, user, app_id, body.get("stars")))


@bp.get("/store/apps/<int:app_id>/stats")
def app_stats(app_id: int):
    """Return an app's usage (installs, views, views after install) for its author or admins."""
    user = logged_in_user()
    with get_db().session() as s:
        return jsonify(store.author_stats(s, user, app_id))


# -- comments ---------------------------------------------------------------------------------
@bp.get("/store/apps/<int:app_id>/comments")
def list_comments(app_id: int):
    """List an app's top-level comments, newest first, each with its replies."""
    user = logged_in_user()
    with get_db().session() as s:
        result = store.list_comments(
            s, user, app_id, request.args.get("page"), request.args.get("per_page")
        )
    return jsonify(result)


def _comment_reply(s, comment, status: int = 200):
    names = store.user_names(s, [comment.author_id])
    return jsonify(store.comment_dict(comment, names, logged_in_user())), status


@bp.post("/store/apps/<int:app_id>/comments")
def add_comment(app_id: int):
    """Comment on an app: {"body", "parent_id"?}; the text is stored exactly as given."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        comment = store.add_comment(s, user, app_id, body.get("body"), body.get("parent_id"))
        return _comment_reply(s, comment, 201)


@bp.patch("/store/comments/<int:id>")
def edit_comment(id: int):  # noqa: A002 - the route's name
    """Edit one's own comment: {"body"}."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        return _comment_reply(s, store.edit_comment(s, user, id, body.get("body")))


@bp.delete("/store/comments/<int:id>")
def delete_comment(id: int):  # noqa: A002 - the route's name
    """Remove a comment (its author or an administrator); replies stay."""
    user = logged_in_user()
    with get_db().session() as s, s.begin():
        return _comment_reply(s, store.delete_comment(s, user, id, client_address()))


# -- questions and answers ----------------------------------------------------------------------
@bp.get("/questions")
def list_questions():
    """List the questions the caller may see: ?app_id=&status=open|resolved&mine=1&q=."""
    user = logged_in_user()
    args = request.args
    with get_db().session() as s:
        result = qa.list_questions(
            s,
            user,
            app_id=args.get("app_id"),
            status=args.get("status"),
            mine=args.get("mine") in ("1", "true"),
            q=args.get("q"),
            page=args.get("page"),
            per_page=args.get("per_page"),
        )
    return jsonify(result)


@bp.post("/questions")
def ask_question():
    """Ask: {"title", "body"?, "app_id"?, "is_public"?, "invite"?: [user names]}."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        question = qa.ask(s, user, body)
        data = qa.question_dict(s, question, user, detail=True)
    return jsonify(data), 201


@bp.get("/questions/<int:id>")
def get_question(id: int):  # noqa: A002 - the route's name
    """Return a question with its answers (best first, then by votes)."""
    user = logged_in_user()
    with get_db().session() as s:
        question = qa.get_question(s, user, id)
        data = qa.question_dict(s, question, user, detail=True)
    return jsonify(data)


@bp.post("/questions/<int:id>/answers")
def answer_question(id: int):  # noqa: A002 - the route's name
    """Answer a question: {"body"}."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        item = qa.answer(s, user, id, body.get("body"))
        data = {"id": item.id, "question_id": item.question_id, "body": item.body,
                "vote_count": item.vote_count}  # fmt: skip
    return jsonify(data), 201


@bp.post("/answers/<int:id>/vote")
def vote_answer(id: int):  # noqa: A002 - the route's name
    """Up-vote an answer (idempotent); {"up": false} withdraws the vote."""
    user = logged_in_user()
    up = optional_json_body().get("up", True)
    if not isinstance(up, bool):
        raise Invalid(_("Say up: true or false."), code="bad_vote")
    with get_db().session() as s, s.begin():
        item = qa.vote(s, user, id, up)
        data = {"id": item.id, "vote_count": item.vote_count, "voted": up}
    return jsonify(data)


@bp.post("/questions/<int:id>/best")
def choose_best(id: int):  # noqa: A002 - the route's name
    """Choose the best answer (the asker only): {"answer_id"}."""
    user = logged_in_user()
    body = json_body()
    with get_db().session() as s, s.begin():
        question = qa.choose_best(s, user, id, body.get("answer_id"))
        data = qa.question_dict(s, question, user, detail=True)
    return jsonify(data)


# -- OpenAPI hints (api/openapi.py merges `view.openapi` into each operation) --------------------
def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


_TEXT = {"type": "string"}
_PAGE = {"description": "One page: {items, total, page, per_page}"}
_APP_FIELDS = {
    "title_zh": _TEXT,
    "title_en": _TEXT,
    "kind": {"type": "string", "enum": list(store.APP_KINDS)},
    "target_resource_id": {"type": "integer"},
    "target_url": {"type": "string", "description": "A portal path (/...) or an http(s) URL"},
    "description": _TEXT,
    "tags": {"type": "array", "items": _TEXT, "maxItems": store.MAX_TAGS},
    "category": {"type": "string", "enum": list(store.CATEGORIES)},
    "preview": {"type": "string", "description": "Preview image URL"},
    "params": {"type": "object", "description": "Parameters an installer may change"},
}

list_apps.openapi = {
    "parameters": [
        *PAGING_PARAMETERS,
        _query("category", {"type": "string", "enum": list(store.CATEGORIES)}, "Category"),
        _query("tag", _TEXT, "Tag"),
        _query("sort", {"type": "string", "enum": list(store.SORTS)}, "Sort order"),
        _query("q", _TEXT, "Words in the title or description (unified search)"),
        _query("scope", {"type": "string", "enum": ["listed", "mine", "review"]}, "Which apps"),
    ],
    "responses": {"200": _PAGE},
}
create_app.openapi = {
    "requestBody": json_request_body(_APP_FIELDS, ("kind",)),
    "responses": {"201": {"description": "The draft app"}},
}
update_app.openapi = {"requestBody": json_request_body(_APP_FIELDS)}
review_app.openapi = {
    "requestBody": json_request_body(
        {"decision": {"type": "string", "enum": ["approve", "reject"]},
         "reason": {"type": "string", "description": "Required to reject"}},
        ("decision",),
    )
}  # fmt: skip
unlist_app.openapi = {"requestBody": json_request_body({"reason": _TEXT})}
install_app.openapi = {
    "requestBody": json_request_body({"params": {"type": "object"}}),
    "responses": {"201": {"description": "The caller's installed copy"}},
}
update_install.openapi = {
    "requestBody": json_request_body({"params": {"type": "object"}}, ("params",))
}
rate_app.openapi = {
    "requestBody": json_request_body(
        {"stars": {"type": "integer", "minimum": 1, "maximum": 5}}, ("stars",)
    )
}
list_comments.openapi = {"parameters": list(PAGING_PARAMETERS), "responses": {"200": _PAGE}}
add_comment.openapi = {
    "requestBody": json_request_body({"body": _TEXT, "parent_id": {"type": "integer"}}, ("body",)),
    "responses": {"201": {"description": "The comment"}},
}
edit_comment.openapi = {"requestBody": json_request_body({"body": _TEXT}, ("body",))}
list_questions.openapi = {
    "parameters": [
        *PAGING_PARAMETERS,
        _query("app_id", {"type": "integer"}, "Questions on this app"),
        _query("status", {"type": "string", "enum": ["open", "resolved"]}, "Status"),
        _query("mine", {"type": "string", "enum": ["1", "true"]}, "Only mine"),
        _query("q", _TEXT, "Words in the title"),
    ],
    "responses": {"200": _PAGE},
}
ask_question.openapi = {
    "requestBody": json_request_body(
        {"title": _TEXT, "body": _TEXT, "app_id": {"type": "integer"},
         "is_public": {"type": "boolean", "default": True},
         "invite": {"type": "array", "items": _TEXT, "description": "User names"}},
        ("title",),
    ),
    "responses": {"201": {"description": "The question"}},
}  # fmt: skip
answer_question.openapi = {
    "requestBody": json_request_body({"body": _TEXT}, ("body",)),
    "responses": {"201": {"description": "The answer"}},
}
vote_answer.openapi = {
    "requestBody": json_request_body({"up": {"type": "boolean", "default": True}})
}
choose_best.openapi = {
    "requestBody": json_request_body({"answer_id": {"type": "integer"}}, ("answer_id",))
}
