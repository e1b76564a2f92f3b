"""The app store (应用商城, SPEC §6.1): publish, review, browse, like, rate, comment, install.

Lifecycle: an author creates a draft and submits it; an administrator approves it (listed,
上架) or rejects it with a reason; an administrator may unlist (下架) and list it again. The
author edits only drafts and rejected apps (an edit of a rejected app makes it a draft again).
Lifecycle steps and installs are audited.

Every app is also a Resource of type "app" (`spec.published` is true while it is listed, so
search finds it for everyone). Likes, favorites, ratings and installs are unique rows; the
counters on the app move by an atomic `UPDATE ... SET n = n + 1` in the same transaction as
the row's `INSERT ... ON CONFLICT DO NOTHING`, and only when the row was really inserted, so
they stay exact under any concurrency (other databases: the IntegrityError is caught).

Comments are stored exactly as written and must be rendered as text. Functions take a Session
and never commit; the caller owns the transaction.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from typing import Any
from urllib.parse import urlencode

from flask_babel import gettext as _
from sqlalchemy import Float, String, case, cast, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Favorite, Resource, User, View
from portal.models.base import utcnow
from portal.models.store import (
    APP_KINDS,
    AppComment,
    AppInstall,
    AppLike,
    AppRating,
    StoreApp,
)
from portal.services.activity import can_view, record_view, resource_title, resource_url
from portal.services.audit import record_event

log = logging.getLogger(__name__)

CATEGORIES = ("deposit", "loan", "risk", "customer", "channel", "finance", "marketing", "other")
SORTS = ("newest", "installs", "rating", "likes")
# The resource type of an installed copy, per app kind.
COPY_TYPES = {
    "dashboard": "dashboard",
    "pivot": "pivot",
    "query": "query",
    "mining": "report",
    "external": "external",
}
REVIEW_ROLES = ("admin",)
MAX_PER_PAGE = 100
MAX_TAGS = 10
MAX_PARAMS = 20
TITLE_MAX = 100
DESCRIPTION_MAX = 4000
COMMENT_MAX = 2000
REASON_MAX = 1000
URL_MAX = 500
PARAM_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


def category_label(code: str) -> str:
    """Return a category's name in the current language."""
    labels = {
        "deposit": _("Deposits"),
        "loan": _("Loans"),
        "risk": _("Risk"),
        "customer": _("Customers"),
        "channel": _("Channels"),
        "finance": _("Finance"),
        "marketing": _("Marketing"),
        "other": _("Other"),
    }
    return labels.get(code, code)


def kind_label(kind: str) -> str:
    """Return an app kind's name in the current language."""
    labels = {
        "dashboard": _("Dashboard"),
        "pivot": _("Pivot"),
        "query": _("Query"),
        "mining": _("Mining result"),
        "external": _("External link"),
    }
    return labels.get(kind, kind)


def status_label(status: str) -> str:
    """Return a lifecycle status's name in the current language."""
    labels = {
        "draft": _("Draft"),
        "submitted": _("Under review"),
        "listed": _("Listed"),
        "unlisted": _("Unlisted"),
        "rejected": _("Rejected"),
    }
    return labels.get(status, status)


# -- small helpers ------------------------------------------------------------------------------
def get_row(session: Session, model, row_id: Any):
    """Return the `model` row with that id, or None when there is none or the id is no number."""
    try:
        return session.get(model, int(row_id))
    except (TypeError, ValueError):
        return None


def is_admin(user) -> bool:
    """Return whether the user may review, list and unlist apps."""
    return bool(user is not None and getattr(user, "is_authenticated", False)) and user.has_role(
        *REVIEW_ROLES
    )


def _notify(session: Session, user_id: int | None, kind: str, title_zh: str, title_en: str,
            body: str | None = None, link: str | None = None, actor_id: int | None = None):  # fmt: skip
    """Send a message-center notification (none when there is nobody to tell)."""
    if user_id is None:
        return None
    from portal.services.messages import notify

    return notify(session, user_id, kind, title_zh, title_en, body, link, actor_id=actor_id)


def check_page(page: Any = 1, per_page: Any = 20) -> tuple[int, int]:
    """Return (page, per_page) as whole numbers in range, else raise Invalid."""
    try:
        page = int(page if page not in (None, "") else 1)
        per_page = int(per_page if per_page not in (None, "") else 20)
    except (TypeError, ValueError):
        raise Invalid(_("The page must be a whole number."), code="bad_page") from None
    if page < 1 or page > 100_000:
        raise Invalid(_("The page must be a whole number."), code="bad_page")
    if per_page < 1 or per_page > MAX_PER_PAGE:
        raise Invalid(
            _("Show from 1 to %(n)d items per page.", n=MAX_PER_PAGE), code="bad_per_page"
        )
    return page, per_page


def paginate(session: Session, query, page: int, per_page: int) -> tuple[list, int]:
    """Return one page of a select's rows and the total count of rows."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return list(rows), int(total or 0)


def _text(value: Any, *, field: str, limit: int, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(_("Please fill in %(field)s.", field=field), code="missing_field")
        return None
    if not isinstance(value, str):
        raise Invalid(_("%(field)s must be text.", field=field), code="bad_field")
    if len(value) > limit:
        raise Invalid(
            _("%(field)s is too long (at most %(n)d characters).", field=field, n=limit),
            code="too_long",
        )
    return value


def _safe_url(value: Any, *, field: str) -> str | None:
    """Accept a portal path (/...) or an http(s) URL; refuse javascript: and the like."""
    url = _text(value, field=field, limit=URL_MAX)
    if url is None:
        return None
    url = url.strip()
    if (url.startswith("/") and not url.startswith("//")) or re.match(r"^https?://[^\s]+$", url):
        if any(c in url for c in "\"'<> \t\r\n"):
            raise Invalid(_("%(field)s is not a valid link.", field=field), code="bad_url")
        return url
    raise Invalid(
        _("%(field)s must be a portal path starting with / or an http(s) address.", field=field),
        code="bad_url",
    )


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [t for t in re.split(r"[,，;；\s]+", value) if t]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise Invalid(_("Tags must be a list of words."), code="bad_tags")
    tags = list(dict.fromkeys(t.strip() for t in value if t.strip()))
    if len(tags) > MAX_TAGS or any(len(t) > 30 for t in tags):
        raise Invalid(
            _("Give at most %(n)d tags of at most 30 characters each.", n=MAX_TAGS),
            code="bad_tags",
        )
    return tags


def _param_value(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= 200


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(_("Parameters must be an object of names and values."), code="bad_params")
    if len(value) > MAX_PARAMS:
        raise Invalid(_("An app has at most %(n)d parameters.", n=MAX_PARAMS), code="bad_params")
    for key, item in value.items():
        if not isinstance(key, str) or not PARAM_KEY_RE.match(key):
            raise Invalid(
                _("A parameter name must be a word of letters, digits and _."),
                code="bad_param_name",
            )
        if not _param_value(item):
            raise Invalid(
                _("A parameter value must be text (up to 200 characters), a number or yes/no."),
                code="bad_param_value",
            )
    return dict(value)


def _insert_once(session: Session, model, values: dict, keys: list[str]) -> bool:
    """Insert a row unless one with the same unique `keys` exists; return whether it did.

    `INSERT ... ON CONFLICT DO NOTHING` on SQLite and PostgreSQL: a concurrent duplicate
    neither fails nor aborts the transaction. Elsewhere the IntegrityError is caught.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        maker = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            maker(model)
            .values(**values)
            .on_conflict_do_nothing(index_elements=keys)
            .returning(*[getattr(model, k) for k in keys])
        )
        return session.execute(stmt).first() is not None
    try:
        with session.begin_nested():
            session.execute(insert(model).values(**values))
    except IntegrityError:
        return False
    return True


def _bump(session: Session, app_id: int, **deltas: int) -> None:
    """Atomically add `deltas` to the app's counters (UPDATE ... SET n = n + d)."""
    values = {name: getattr(StoreApp, name) + delta for name, delta in deltas.items()}
    session.execute(
        update(StoreApp)
        .where(StoreApp.id == app_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _refresh(session: Session, app: StoreApp) -> StoreApp:
    session.refresh(app)
    return app


def user_names(session: Session, ids) -> dict[int, dict]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    rows = session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(ids))
    ).all()
    return {r.id: {"id": r.id, "username": r.username, "name": r.display_name} for r in rows}


# -- reading ----------------------------------------------------------------------------------
def can_see(user, app: StoreApp) -> bool:
    """Return whether the user may see the app: listed, or they wrote it, or they review."""
    return app.status == "listed" or app.author_id == user.id or is_admin(user)


def get_app(session: Session, user, app_id: Any, *, count_view: bool = False) -> StoreApp:
    """Return an app the user may see (else NotFound); count a view of it if asked."""
    try:
        app_id = int(app_id)
    except (TypeError, ValueError):
        raise NotFound(_("This app does not exist."), code="app_not_found") from None
    app = session.get(StoreApp, app_id)
    if app is None or not can_see(user, app):
        raise NotFound(_("This app does not exist."), code="app_not_found")
    if count_view:
        _bump(session, app.id, view_count=1)
        record_view(session, user, app.resource_id)
        _refresh(session, app)
    return app


def app_link(session: Session, app: StoreApp, params: dict | None = None) -> str:
    """Return where the app opens, with the given parameters in the query string."""
    url = app.target_url
    if not url and app.target_resource_id:
        target = session.get(Resource, app.target_resource_id)
        if target is not None:
            url = resource_url(target)
    url = url or f"/store/{app.id}"
    if params and url.startswith("/"):
        query = urlencode({k: "" if v is None else v for k, v in params.items()})
        url = f"{url}{'&' if '?' in url else '?'}{query}"
    return url


def rating_average(app: StoreApp) -> float | None:
    """Return the app's mean rating, or None before its first rating."""
    return round(app.rating_sum / app.rating_count, 2) if app.rating_count else None


def app_dict(
    session: Session,
    app: StoreApp,
    user=None,
    locale: str | None = None,
    detail: bool = False,
    authors: dict[int, dict] | None = None,
) -> dict:
    """Return the app as a JSON-ready dict; `detail` adds the user's own marks and actions.

    `authors` (from `user_names`) saves a query per app when turning many apps into dicts.
    """
    resource = app.resource
    if authors is None:
        authors = user_names(session, [app.author_id])
    author = authors.get(app.author_id)
    data = {
        "id": app.id,
        "resource_id": app.resource_id,
        "title": resource_title(resource, locale),
        "title_zh": resource.title_zh,
        "title_en": resource.title_en,
        "description": app.description,
        "kind": app.kind,
        "target_resource_id": app.target_resource_id,
        "target_url": app.target_url,
        "link": app_link(session, app),
        "tags": list(app.tags or []),
        "category": app.category,
        "preview": app.preview,
        "params": dict(app.params or {}),
        "status": app.status,
        "author": author,
        "install_count": app.install_count,
        "like_count": app.like_count,
        "favorite_count": app.favorite_count,
        "rating_count": app.rating_count,
        "rating_average": rating_average(app),
        "comment_count": app.comment_count,
        "created_at": app.created_at.isoformat() if app.created_at else None,
        "listed_at": app.listed_at.isoformat() if app.listed_at else None,
    }
    if user is not None and (app.author_id == user.id or is_admin(user)):
        data["view_count"] = app.view_count
        data["review_reason"] = app.review_reason
    if detail and user is not None:
        data["me"] = my_marks(session, user, app)
    return data


def my_marks(session: Session, user, app: StoreApp) -> dict:
    """Return what the user did to the app: liked, favorite, stars, installed copy, may-review."""
    liked = session.scalar(
        select(AppLike.id).where(AppLike.app_id == app.id, AppLike.user_id == user.id)
    )
    favorite = session.scalar(
        select(Favorite.id).where(
            Favorite.resource_id == app.resource_id, Favorite.user_id == user.id
        )
    )
    stars = session.scalar(
        select(AppRating.stars).where(AppRating.app_id == app.id, AppRating.user_id == user.id)
    )
    install = session.scalar(
        select(AppInstall).where(AppInstall.app_id == app.id, AppInstall.user_id == user.id)
    )
    return {
        "liked": liked is not None,
        "favorite": favorite is not None,
        "stars": stars,
        "install_id": install.id if install else None,
        "is_author": app.author_id == user.id,
        "may_review": is_admin(user),
    }


def _tag_clause(tag: str):
    """Match apps whose JSON tag list holds `tag` (the JSON text, portable across backends)."""
    needle = json.dumps(tag)  # the same escaping as the stored JSON (ASCII, \\u for Chinese)
    for char in "/%_":
        needle = needle.replace(char, "/" + char)
    return cast(StoreApp.tags, String).like(f"%{needle}%", escape="/")


def _search_ids(session: Session, user, q: str, locale: str | None) -> set[int] | None:
    """Return the resource ids the unified search finds for `q` among apps, None if it can't."""
    try:
        from portal.services.search import search

        found = search(session, user, q, types=["app"], limit=100, locale=locale or "zh_CN")
    except Exception:  # noqa: BLE001 - search unavailable or query refused: filter titles only
        log.debug("store: unified search failed for %r", q, exc_info=True)
        return None
    return {int(r["id"]) for r in found.get("results", [])}


def browse(
    session: Session,
    user,
    *,
    category: str | None = None,
    tag: str | None = None,
    sort: str = "newest",
    q: str | None = None,
    scope: str = "listed",
    page: Any = 1,
    per_page: Any = 20,
    locale: str | None = None,
) -> dict:
    """Return one page of apps: {"items", "total", "page", "per_page"}.

    `scope` is "listed" (the store), "mine" (apps the user wrote, any status) or "review"
    (apps waiting for review; administrators only). `sort` is newest, installs, rating or likes.
    """
    page, per_page = check_page(page, per_page)
    if sort not in SORTS:
        raise Invalid(_("Unknown sort order."), code="bad_sort")
    if category not in (None, "") and category not in CATEGORIES:
        raise Invalid(_("Unknown category."), code="bad_category")
    query = select(StoreApp).join(Resource, Resource.id == StoreApp.resource_id)
    if scope == "listed":
        query = query.where(StoreApp.status == "listed")
    elif scope == "mine":
        query = query.where(StoreApp.author_id == user.id)
    elif scope == "review":
        if not is_admin(user):
            raise Forbidden(_("Only an administrator may review apps."), code="not_admin")
        query = query.where(StoreApp.status == "submitted")
    else:
        raise Invalid(_("Unknown list of apps."), code="bad_scope")
    if category:
        query = query.where(StoreApp.category == category)
    if tag:
        query = query.where(_tag_clause(str(tag)[:30]))
    if q and str(q).strip():
        text = str(q).strip()[:100]
        pattern = "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"
        title_match = or_(
            func.lower(Resource.title_zh).like(pattern.lower(), escape="/"),
            func.lower(Resource.title_en).like(pattern.lower(), escape="/"),
            func.lower(func.coalesce(StoreApp.description, "")).like(pattern.lower(), escape="/"),
        )
        ids = _search_ids(session, user, text, locale)
        query = query.where(or_(title_match, StoreApp.resource_id.in_(ids)) if ids else title_match)
    average = case(
        (StoreApp.rating_count > 0, cast(StoreApp.rating_sum, Float) / StoreApp.rating_count),
        else_=0.0,
    )
    order = {
        "newest": [func.coalesce(StoreApp.listed_at, StoreApp.created_at).desc()],
        "installs": [StoreApp.install_count.desc()],
        "rating": [average.desc(), StoreApp.rating_count.desc()],
        "likes": [StoreApp.like_count.desc()],
    }[sort]
    query = query.order_by(*order, StoreApp.id.desc())
    apps, total = paginate(session, query, page, per_page)
    authors = user_names(session, [a.author_id for a in apps])
    targets = {a.target_resource_id for a in apps if a.target_resource_id}
    if targets:  # load them into the session at once: app_link's session.get needs no query
        session.scalars(select(Resource).where(Resource.id.in_(targets))).all()
    return {
        "items": [app_dict(session, a, user, locale, authors=authors) for a in apps],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def facets(session: Session) -> dict:
    """Return the listed apps' categories and most used tags with their counts."""
    categories = dict(
        session.execute(
            select(StoreApp.category, func.count())
            .where(StoreApp.status == "listed")
            .group_by(StoreApp.category)
        ).all()
    )
    tags: dict[str, int] = {}
    for row in session.scalars(select(StoreApp.tags).where(StoreApp.status == "listed")):
        for t in row or []:
            tags[t] = tags.get(t, 0) + 1
    top = sorted(tags.items(), key=lambda kv: (-kv[1], kv[0]))[:30]
    return {"categories": categories, "tags": dict(top)}


# -- authoring and the lifecycle -----------------------------------------------------------------
def _target(session: Session, user, kind: str, data: dict) -> tuple[int | None, str | None]:
    target_id = data.get("target_resource_id")
    target_url = _safe_url(data.get("target_url"), field=_("The link"))
    if target_id not in (None, ""):
        try:
            target_id = int(target_id)
        except (TypeError, ValueError):
            raise Invalid(_("The app's target does not exist."), code="bad_target") from None
        target = session.get(Resource, target_id)
        if target is None or target.type == "app" or not can_view(session, user, target):
            raise Invalid(_("The app's target does not exist."), code="bad_target")
    else:
        target_id = None
    if kind == "external" and not target_url:
        raise Invalid(_("An external app needs a link."), code="missing_target")
    if target_id is None and not target_url:
        raise Invalid(_("Choose what the app opens: a resource or a link."), code="missing_target")
    return target_id, target_url


def _resource_spec(app: StoreApp) -> dict:
    return {
        "url": f"/store/{app.id}",
        "published": app.status == "listed",
        "tags": list(app.tags or []),
        "kind": app.kind,
        "category": app.category,
    }


def _sync_resource(app: StoreApp) -> None:
    """Mirror the app onto its Resource (a new spec dict, so that search re-indexes it)."""
    app.resource.description = app.description
    app.resource.spec = _resource_spec(app)


def _titles(data: dict, required: bool) -> tuple[str | None, str | None]:
    zh = _text(data.get("title_zh"), field=_("The Chinese title"), limit=TITLE_MAX)
    en = _text(data.get("title_en"), field=_("The English title"), limit=TITLE_MAX)
    if required and not (zh or en):
        raise Invalid(_("Please give the app a title."), code="missing_title")
    return zh, en


def create_app(session: Session, user, data: Any, client_addr: str | None = None) -> StoreApp:
    """Create a draft app written by `user` (also its Resource of type "app"); audited."""
    if not isinstance(data, dict):
        raise Invalid(_("Send the app as a JSON object."), code="bad_body")
    zh, en = _titles(data, required=True)
    kind = data.get("kind")
    if kind not in APP_KINDS:
        raise Invalid(_("Unknown kind of app."), code="bad_kind")
    category = data.get("category") or "other"
    if category not in CATEGORIES:
        raise Invalid(_("Unknown category."), code="bad_category")
    target_id, target_url = _target(session, user, kind, data)
    description = _text(data.get("description"), field=_("The description"), limit=DESCRIPTION_MAX)
    tags = _tags(data.get("tags"))
    params = _params(data.get("params"))
    preview = _safe_url(data.get("preview"), field=_("The preview image"))
    resource = Resource(
        type="app",
        title_zh=(zh or en).strip(),
        title_en=(en or zh).strip(),
        description=description,
        owner_id=user.id,
        spec={"published": False},
    )
    session.add(resource)
    session.flush()
    app = StoreApp(
        resource_id=resource.id,
        kind=kind,
        target_resource_id=target_id,
        target_url=target_url,
        description=description,
        tags=tags,
        category=category,
        preview=preview,
        params=params,
        status="draft",
        author_id=user.id,
    )
    session.add(app)
    session.flush()
    app.resource = resource
    _sync_resource(app)
    session.flush()
    record_event(
        session,
        event_type="app_create",
        actor=user,
        client_addr=client_addr,
        object_type="app",
        object_id=app.id,
        details={"title": resource.title_zh, "kind": kind},
    )
    return app


EDITABLE = ("draft", "rejected")


def update_app(session: Session, user, app_id: Any, data: Any) -> StoreApp:
    """Change a draft (or rejected) app; only its author may. A rejected app becomes a draft."""
    app = get_app(session, user, app_id)
    if app.author_id != user.id:
        raise Forbidden(_("Only the app's author may edit it."), code="not_author")
    if app.status not in EDITABLE:
        raise Forbidden(
            _("Only a draft or a rejected app can be edited; ask an administrator to unlist it."),
            code="not_editable",
        )
    if not isinstance(data, dict) or not data:
        raise Invalid(_("Send the changes as a JSON object."), code="bad_body")
    unknown = set(data) - {
        "title_zh", "title_en", "kind", "target_resource_id", "target_url", "description",
        "tags", "category", "preview", "params",
    }  # fmt: skip
    if unknown:
        raise Invalid(
            _("Unknown field: %(field)s", field=sorted(unknown)[0][:40]), code="unknown_field"
        )
    # Validate everything before changing anything.
    zh, en = _titles(data, required=False)
    kind = data.get("kind", app.kind)
    if kind not in APP_KINDS:
        raise Invalid(_("Unknown kind of app."), code="bad_kind")
    category = data.get("category", app.category) or "other"
    if category not in CATEGORIES:
        raise Invalid(_("Unknown category."), code="bad_category")
    if {"kind", "target_resource_id", "target_url"} & set(data):
        merged = {
            "target_resource_id": data.get("target_resource_id", app.target_resource_id),
            "target_url": data.get("target_url", app.target_url),
        }
        target_id, target_url = _target(session, user, kind, merged)
    else:
        target_id, target_url = app.target_resource_id, app.target_url
    description = (
        _text(data["description"], field=_("The description"), limit=DESCRIPTION_MAX)
        if "description" in data
        else app.description
    )
    tags = _tags(data["tags"]) if "tags" in data else app.tags
    params = _params(data["params"]) if "params" in data else app.params
    preview = (
        _safe_url(data["preview"], field=_("The preview image"))
        if "preview" in data
        else app.preview
    )
    if "title_zh" in data or "title_en" in data:
        new_zh = zh if "title_zh" in data else app.resource.title_zh
        new_en = en if "title_en" in data else app.resource.title_en
        if not (new_zh or new_en):
            raise Invalid(_("Please give the app a title."), code="missing_title")
        app.resource.title_zh = (new_zh or new_en).strip()
        app.resource.title_en = (new_en or new_zh).strip()
    app.kind, app.category = kind, category
    app.target_resource_id, app.target_url = target_id, target_url
    app.description, app.tags, app.params, app.preview = description, tags, params, preview
    if app.status == "rejected":
        app.status = "draft"
    _sync_resource(app)
    session.flush()
    return app


def _transition(
    session: Session,
    user,
    app: StoreApp,
    status: str,
    event: str,
    client_addr: str | None,
    reason: str | None = None,
    details: dict | None = None,
) -> StoreApp:
    before = app.status
    app.status = status
    now = utcnow()
    if status == "submitted":
        app.submitted_at = now
    if status == "listed":
        app.listed_at = app.listed_at or now
    _sync_resource(app)
    session.flush()
    record_event(
        session,
        event_type=event,
        actor=user,
        client_addr=client_addr,
        object_type="app",
        object_id=app.id,
        details={"from": before, "to": status, "reason": reason, **(details or {})},
    )
    return app


def submit_app(session: Session, user, app_id: Any, client_addr: str | None = None) -> StoreApp:
    """Send a draft (or rejected) app to review; only its author may. Audited."""
    app = get_app(session, user, app_id)
    if app.author_id != user.id:
        raise Forbidden(_("Only the app's author may submit it."), code="not_author")
    if app.status not in EDITABLE:
        raise Invalid(
            _("Only a draft or a rejected app can be submitted for review."), code="bad_status"
        )
    return _transition(session, user, app, "submitted", "app_submit", client_addr)


def _check_admin(user) -> None:
    if not is_admin(user):
        raise Forbidden(
            _("Only an administrator may review, list or unlist apps."), code="not_admin"
        )


def review_app(
    session: Session,
    user,
    app_id: Any,
    decision: Any,
    reason: Any = None,
    client_addr: str | None = None,
) -> StoreApp:
    """Approve (list) or reject (with a reason) a submitted app; administrators only. Audited."""
    _check_admin(user)
    app = get_app(session, user, app_id)
    if decision not in ("approve", "reject"):
        raise Invalid(_("The decision must be approve or reject."), code="bad_decision")
    reason = _text(reason, field=_("The reason"), limit=REASON_MAX, required=decision == "reject")
    if app.status != "submitted":
        raise Invalid(_("Only a submitted app can be reviewed."), code="bad_status")
    app.review_reason = reason
    app.reviewed_by, app.reviewed_at = user.id, utcnow()
    status = "listed" if decision == "approve" else "rejected"
    _transition(
        session, user, app, status, "app_review", client_addr, reason, {"decision": decision}
    )
    title_zh, title_en = app.resource.title_zh, app.resource.title_en
    if decision == "approve":
        _notify(
            session, app.author_id, "review",
            f"你的应用《{title_zh}》已通过审核并上架",
            f"Your app “{title_en}” was approved and is now listed",
            reason, f"/store/{app.id}", actor_id=user.id,
        )  # fmt: skip
    else:
        _notify(
            session, app.author_id, "review",
            f"你的应用《{title_zh}》未通过审核",
            f"Your app “{title_en}” was rejected",
            reason, f"/store/{app.id}", actor_id=user.id,
        )  # fmt: skip
    return app


def list_app(session: Session, user, app_id: Any, client_addr: str | None = None) -> StoreApp:
    """List (上架) an unlisted or submitted app again; administrators only. Audited."""
    _check_admin(user)
    app = get_app(session, user, app_id)
    if app.status not in ("unlisted", "submitted"):
        raise Invalid(_("Only an unlisted or submitted app can be listed."), code="bad_status")
    return _transition(session, user, app, "listed", "app_list", client_addr)


def unlist_app(
    session: Session, user, app_id: Any, reason: Any = None, client_addr: str | None = None
) -> StoreApp:
    """Unlist (下架) a listed app; administrators only. Audited; the author is told."""
    _check_admin(user)
    app = get_app(session, user, app_id)
    reason = _text(reason, field=_("The reason"), limit=REASON_MAX)
    if app.status != "listed":
        raise Invalid(_("Only a listed app can be unlisted."), code="bad_status")
    app.review_reason = reason
    _transition(session, user, app, "unlisted", "app_unlist", client_addr, reason)
    _notify(
        session, app.author_id, "review",
        f"你的应用《{app.resource.title_zh}》已下架",
        f"Your app “{app.resource.title_en}” was unlisted",
        reason, f"/store/{app.id}", actor_id=user.id,
    )  # fmt: skip
    return app


# -- likes, favorites, ratings --------------------------------------------------------------------
def _listed(session: Session, user, app_id: Any) -> StoreApp:
    app = get_app(session, user, app_id)
    if app.status != "listed":
        raise Invalid(_("This app is not listed in the store."), code="not_listed")
    return app


def _mark(session: Session, app: StoreApp, model, match: dict, counter: str) -> StoreApp:
    """Add the user's like or star (`match` names it) once; only a new one moves `counter`."""
    if _insert_once(session, model, {**match, "created_at": utcnow()}, list(match)):
        _bump(session, app.id, **{counter: 1})
    return _refresh(session, app)


def _unmark(session: Session, app: StoreApp, model, match: dict, counter: str) -> StoreApp:
    """Remove the user's like or star (`match` names it), if any, and move `counter` back."""
    gone = session.execute(
        delete(model).where(*(getattr(model, k) == v for k, v in match.items()))
    ).rowcount
    if gone:
        _bump(session, app.id, **{counter: -gone})
    return _refresh(session, app)


def like(session: Session, user, app_id: Any) -> StoreApp:
    """Like a listed app (idempotent); the like count moves only for a new like."""
    app = _listed(session, user, app_id)
    return _mark(session, app, AppLike, {"app_id": app.id, "user_id": user.id}, "like_count")


def unlike(session: Session, user, app_id: Any) -> StoreApp:
    """Withdraw a like (idempotent)."""
    app = get_app(session, user, app_id)
    return _unmark(session, app, AppLike, {"app_id": app.id, "user_id": user.id}, "like_count")


def _star(user, app: StoreApp) -> dict:
    return {"user_id": user.id, "resource_id": app.resource_id}


def favorite(session: Session, user, app_id: Any) -> StoreApp:
    """Star an app (a Favorite on its Resource, idempotent); counted on the app."""
    app = _listed(session, user, app_id)
    return _mark(session, app, Favorite, _star(user, app), "favorite_count")


def unfavorite(session: Session, user, app_id: Any) -> StoreApp:
    """Unstar an app (idempotent)."""
    app = get_app(session, user, app_id)
    return _unmark(session, app, Favorite, _star(user, app), "favorite_count")


def rate(session: Session, user, app_id: Any, stars: Any) -> StoreApp:
    """Rate a listed app 1-5 stars; a second rating replaces the first. Not one's own app."""
    if isinstance(stars, bool) or not isinstance(stars, int | str):
        raise Invalid(_("Give from 1 to 5 stars."), code="bad_stars")
    try:
        stars = int(stars)
    except ValueError:
        raise Invalid(_("Give from 1 to 5 stars."), code="bad_stars") from None
    if not 1 <= stars <= 5:
        raise Invalid(_("Give from 1 to 5 stars."), code="bad_stars")
    app = _listed(session, user, app_id)
    if app.author_id == user.id:
        raise Forbidden(_("You cannot rate your own app."), code="own_app")
    now = utcnow()
    values = {"app_id": app.id, "user_id": user.id, "stars": stars, "created_at": now,
              "updated_at": now}  # fmt: skip
    if _insert_once(session, AppRating, values, ["app_id", "user_id"]):
        _bump(session, app.id, rating_sum=stars, rating_count=1)
        return _refresh(session, app)
    # Already rated: lock the rating (PostgreSQL; SQLite holds the write lock already).
    old = session.scalar(
        select(AppRating.stars)
        .where(AppRating.app_id == app.id, AppRating.user_id == user.id)
        .with_for_update()
    )
    if old is not None and old != stars:
        session.execute(
            update(AppRating)
            .where(AppRating.app_id == app.id, AppRating.user_id == user.id)
            .values(stars=stars, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        _bump(session, app.id, rating_sum=stars - old)
    return _refresh(session, app)


# -- comments -------------------------------------------------------------------------------
def comment_dict(c: AppComment, names: dict, user) -> dict:
    removed = c.deleted_at is not None
    return {
        "id": c.id,
        "app_id": c.app_id,
        "parent_id": c.parent_id,
        "author": names.get(c.author_id),
        "body": None if removed else c.body,
        "deleted": removed,
        "edited": c.edited_at is not None,
        "created_at": c.created_at.isoformat() if c.created_at else None,
        "may_edit": not removed and c.author_id == user.id,
        "may_delete": not removed and (c.author_id == user.id or is_admin(user)),
        "replies": [],
    }


def list_comments(session: Session, user, app_id: Any, page: Any = 1, per_page: Any = 20) -> dict:
    """Return one page of an app's top-level comments, newest first, each with its replies."""
    page, per_page = check_page(page, per_page)
    app = get_app(session, user, app_id)
    top = (
        select(AppComment)
        .where(AppComment.app_id == app.id, AppComment.parent_id.is_(None))
        .order_by(AppComment.created_at.desc(), AppComment.id.desc())
    )
    roots, total = paginate(session, top, page, per_page)
    # Replies of any depth under those roots (an app's comments are few: load them together).
    everything = session.scalars(
        select(AppComment)
        .where(AppComment.app_id == app.id, AppComment.parent_id.is_not(None))
        .order_by(AppComment.created_at, AppComment.id)
    ).all()
    names = user_names(session, [c.author_id for c in [*roots, *everything]])
    nodes = {c.id: comment_dict(c, names, user) for c in roots}
    for reply in everything:  # parents come before their replies (ordered by time)
        parent = nodes.get(reply.parent_id)
        if parent is not None:
            node = comment_dict(reply, names, user)
            parent["replies"].append(node)
            nodes[reply.id] = node
    return {
        "items": [nodes[c.id] for c in roots],
        "total": total,
        "page": page,
        "per_page": per_page,
    }


def add_comment(
    session: Session, user, app_id: Any, body: Any, parent_id: Any = None
) -> AppComment:
    """Comment on an app the user can see, maybe replying to a comment; body stored as given."""
    app = get_app(session, user, app_id)
    text = _text(body, field=_("The comment"), limit=COMMENT_MAX, required=True)
    parent = None
    if parent_id not in (None, ""):
        parent = get_row(session, AppComment, parent_id)
        if parent is None or parent.app_id != app.id:
            raise Invalid(_("The comment you reply to does not exist."), code="bad_parent")
        if parent.deleted_at is not None:
            raise Invalid(_("You cannot reply to a removed comment."), code="bad_parent")
    comment = AppComment(
        app_id=app.id, parent_id=parent.id if parent else None, author_id=user.id, body=text
    )
    session.add(comment)
    session.flush()
    _bump(session, app.id, comment_count=1)
    who = getattr(user, "display_name", None) or user.username
    title_zh, title_en = app.resource.title_zh, app.resource.title_en
    link = f"/store/{app.id}#comment-{comment.id}"
    _notify(
        session, app.author_id, "comment",
        f"{who} 评论了你的应用《{title_zh}》", f"{who} commented on your app “{title_en}”",
        text[:300], link, actor_id=user.id,
    )  # fmt: skip
    if parent is not None and parent.author_id not in (None, app.author_id):
        _notify(
            session, parent.author_id, "comment",
            f"{who} 回复了你在《{title_zh}》的评论", f"{who} replied to your comment on “{title_en}”",
            text[:300], link, actor_id=user.id,
        )  # fmt: skip
    return comment


def _comment(session: Session, user, comment_id: Any) -> AppComment:
    comment = get_row(session, AppComment, comment_id)
    if comment is None:
        raise NotFound(_("This comment does not exist."), code="comment_not_found")
    app = session.get(StoreApp, comment.app_id)
    if app is None or not can_see(user, app):
        raise NotFound(_("This comment does not exist."), code="comment_not_found")
    return comment


def edit_comment(session: Session, user, comment_id: Any, body: Any) -> AppComment:
    """Change the text of one's own comment."""
    comment = _comment(session, user, comment_id)
    if comment.author_id != user.id:
        raise Forbidden(_("Only its author may edit a comment."), code="not_author")
    if comment.deleted_at is not None:
        raise Invalid(_("A removed comment cannot be edited."), code="comment_removed")
    comment.body = _text(body, field=_("The comment"), limit=COMMENT_MAX, required=True)
    comment.edited_at = utcnow()
    session.flush()
    return comment


def delete_comment(
    session: Session, user, comment_id: Any, client_addr: str | None = None
) -> AppComment:
    """Remove a comment (soft: its replies stay); its author or an administrator may."""
    comment = _comment(session, user, comment_id)
    if comment.author_id != user.id and not is_admin(user):
        raise Forbidden(
            _("Only its author or an administrator may remove a comment."), code="not_author"
        )
    if comment.deleted_at is not None:
        return comment
    comment.deleted_at, comment.deleted_by = utcnow(), user.id
    session.flush()
    _bump(session, comment.app_id, comment_count=-1)
    if comment.author_id != user.id:
        record_event(
            session,
            event_type="comment_remove",
            actor=user,
            client_addr=client_addr,
            object_type="app_comment",
            object_id=comment.id,
            details={"app_id": comment.app_id, "author_id": comment.author_id},
        )
    return comment


# -- installs ("my apps") ----------------------------------------------------------------------
def _copy_spec(session: Session, app: StoreApp, params: dict) -> dict:
    spec: dict = {}
    if app.target_resource_id:
        target = session.get(Resource, app.target_resource_id)
        if target is not None and isinstance(target.spec, dict):
            spec = copy.deepcopy(target.spec)
    spec.pop("url", None)
    spec.pop("published", None)
    spec.update(
        {
            "installed_from": app.id,
            "app_resource_id": app.resource_id,
            "target_resource_id": app.target_resource_id,
            "kind": app.kind,
            "params": dict(params),
            "url": app_link(session, app, params),
            "published": False,
        }
    )
    return spec


def install(
    session: Session, user, app_id: Any, params: Any = None, client_addr: str | None = None
) -> AppInstall:
    """Install a listed app: the user's own copy (a new Resource) with its own parameters.

    Idempotent: installing again returns the existing copy. Audited; the author is told.
    """
    app = _listed(session, user, app_id)
    chosen = dict(app.params or {})
    if params not in (None, {}):
        chosen.update(_check_install_params(app, params))
    now = utcnow()
    key = f"install-{app.id}-{user.id}"
    resource = {
        "type": COPY_TYPES[app.kind],
        "key": key,
        "title_zh": app.resource.title_zh,
        "title_en": app.resource.title_en,
        "description": app.description,
        "owner_id": user.id,
        "spec": {"installed_from": app.id},
        "created_at": now,
        "updated_at": now,
    }
    if not _insert_once(session, Resource, resource, ["type", "key"]):
        existing = session.scalar(
            select(AppInstall).where(AppInstall.app_id == app.id, AppInstall.user_id == user.id)
        )
        if existing is not None:
            return existing
    copy_resource = session.scalar(
        select(Resource).where(Resource.type == resource["type"], Resource.key == key)
    )
    # Through the ORM, so that the search index sees the copy.
    copy_resource.spec = _copy_spec(session, app, chosen)
    record = AppInstall(app_id=app.id, user_id=user.id, resource_id=copy_resource.id,
                        params=chosen, created_at=now, updated_at=now)  # fmt: skip
    session.add(record)
    session.flush()
    _bump(session, app.id, install_count=1)
    record_event(
        session,
        event_type="app_install",
        actor=user,
        client_addr=client_addr,
        object_type="app",
        object_id=app.id,
        details={"copy_resource_id": copy_resource.id},
    )
    who = getattr(user, "display_name", None) or user.username
    _notify(
        session, app.author_id, "install",
        f"{who} 安装了你的应用《{app.resource.title_zh}》",
        f"{who} installed your app “{app.resource.title_en}”",
        None, f"/store/{app.id}", actor_id=user.id,
    )  # fmt: skip
    _refresh(session, app)
    return record


def uninstall(session: Session, user, app_id: Any) -> StoreApp:
    """Remove the user's copy of an app (idempotent)."""
    app = get_app(session, user, app_id)
    record = session.scalar(
        select(AppInstall).where(AppInstall.app_id == app.id, AppInstall.user_id == user.id)
    )
    if record is not None:
        copy_resource = session.get(Resource, record.resource_id)
        gone = session.execute(delete(AppInstall).where(AppInstall.id == record.id)).rowcount
        if copy_resource is not None:
            session.delete(copy_resource)
        session.flush()
        if gone:
            _bump(session, app.id, install_count=-gone)
    return _refresh(session, app)


def _check_install_params(app: StoreApp, params: Any) -> dict:
    params = _params(params)
    allowed = dict(app.params or {})
    for key, value in params.items():
        if key not in allowed:
            raise Invalid(
                _("This app has no parameter %(name)s.", name=key[:40]), code="unknown_param"
            )
        original = allowed[key]
        if isinstance(original, bool) and not isinstance(value, bool):
            raise Invalid(_("%(name)s must be yes or no.", name=key), code="bad_param_value")
        if (
            isinstance(original, int | float)
            and not isinstance(original, bool)
            and (isinstance(value, bool) or not isinstance(value, int | float))
        ):
            raise Invalid(_("%(name)s must be a number.", name=key), code="bad_param_value")
    return params


def get_install(session: Session, user, install_id: Any) -> AppInstall:
    record = get_row(session, AppInstall, install_id)
    if record is None or record.user_id != user.id:
        raise NotFound(_("This installed app does not exist."), code="install_not_found")
    return record


def update_install_params(session: Session, user, install_id: Any, params: Any) -> AppInstall:
    """Change the parameters of the user's own installed copy (the original is untouched)."""
    record = get_install(session, user, install_id)
    changes = _check_install_params(record.app, params)
    merged = {**(record.params or {}), **changes}
    record.params = merged
    record.updated_at = utcnow()
    record.resource.spec = _copy_spec(session, record.app, merged)
    session.flush()
    return record


def install_dict(session: Session, record: AppInstall, locale: str | None = None) -> dict:
    """Return an installed copy as a JSON-ready dict."""
    return {
        "id": record.id,
        "app_id": record.app_id,
        "resource_id": record.resource_id,
        "title": resource_title(record.resource, locale),
        "kind": record.app.kind,
        "params": dict(record.params or {}),
        "link": app_link(session, record.app, record.params or {}),
        "app_status": record.app.status,
        "installed_at": record.created_at.isoformat() if record.created_at else None,
    }


def my_apps(session: Session, user, locale: str | None = None) -> list[dict]:
    """Return the user's installed copies, newest first."""
    rows = session.scalars(
        select(AppInstall)
        .where(AppInstall.user_id == user.id)
        .order_by(AppInstall.created_at.desc(), AppInstall.id.desc())
    ).all()
    return [install_dict(session, r, locale) for r in rows]


def author_stats(session: Session, user, app_id: Any) -> dict:
    """Return an app's usage for its author or an administrator: installs, views, ratings."""
    app = get_app(session, user, app_id)
    if app.author_id != user.id and not is_admin(user):
        raise Forbidden(_("Only the app's author may see its usage."), code="not_author")
    # Views after install (SPEC §6.5): openings of the installed copies.
    installed_views = session.scalar(
        select(func.count())
        .select_from(View)
        .join(AppInstall, AppInstall.resource_id == View.resource_id)
        .where(AppInstall.app_id == app.id)
    )
    return {
        "install_count": app.install_count,
        "view_count": app.view_count,
        "like_count": app.like_count,
        "favorite_count": app.favorite_count,
        "rating_count": app.rating_count,
        "rating_average": rating_average(app),
        "views_after_install": int(installed_views or 0),
    }


__all__ = [
    "CATEGORIES",
    "SORTS",
    "add_comment",
    "app_dict",
    "browse",
    "create_app",
    "install",
    "like",
    "rate",
    "review_app",
    "submit_app",
]
