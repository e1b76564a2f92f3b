"""The reports registry (SPEC §4.4): saved pivots, dashboards and external report links.

Every report platform in one list: the portal's own saved pivots and dashboards (resources
of type "pivot" / "dashboard" the user may view: owner or a current view grant), and links to
reports on other platforms (regulatory reporting, the management cockpit, ...), registered as
resources of type "report" whose spec is `{"url", "platform", "category", "published": true}`.
External links are listed to everyone (the other platform checks its own permissions); administrators and
a link's owner edit or delete it, and administrators, operators, analysts and data owners
may register new ones.

Functions take a store session and never commit: the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import urlparse

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from datasources.reference import DEPARTMENT_BY_CODE
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Favorite, Grant, Resource, User, View, utcnow
from portal.services.activity import can_view, resource_title, resource_url
from portal.services.audit import record_event
from portal.services.grants import IMPLIED, subject_clause
from portal.services.search_catalog import DATASETS as DATASET_INFO

REPORT_TYPES = ("pivot", "dashboard", "report")
EXTERNAL = "report"
# (code, Chinese, English); department codes name the departments of datasources.reference.
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("regulatory", "监管报送", "Regulatory reporting"),
    ("management", "经营管理", "Management cockpit"),
    *((d.code, d.name_zh, d.name_en) for d in DEPARTMENT_BY_CODE.values()),
    ("other", "其他", "Other"),
)
CATEGORY_CODES = tuple(c for c, _zh, _en in CATEGORIES)
ADD_ROLES = frozenset({"admin", "operator", "analyst", "data_owner"})
EDIT_ANY_ROLES = frozenset({"admin"})
LINK_KEYS = {"title_zh", "title_en", "url", "platform", "category", "description"}
MAX_TITLE, MAX_URL, MAX_PLATFORM, MAX_DESCRIPTION, MAX_QUERY = 200, 1000, 100, 2000, 100
COMMON_DAYS = 90


def category_name(code: str | None, locale: str | None) -> str:
    """Return a category's name in the user's language."""
    for c, zh, en in CATEGORIES:
        if c == code:
            return en if (locale or "").startswith("en") else zh
    return category_name("other", locale)


def category_options(locale: str | None) -> list[dict]:
    """Return the categories as dropdown options."""
    return [{"value": c, "label": category_name(c, locale)} for c in CATEGORY_CODES]


def _catalog():
    if has_app_context():
        return current_app.extensions.get("metric_catalog")
    return None


def report_category(resource: Resource) -> str:
    """Return a report's category: its own, else the department owning its data."""
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    if spec.get("category") in CATEGORY_CODES:
        return spec["category"]
    if resource.type == "pivot":
        dataset = spec.get("dataset")
        if isinstance(dataset, str) and dataset in DATASET_INFO:
            return DATASET_INFO[dataset][3]
        catalog = _catalog()
        values = spec.get("values") if isinstance(spec.get("values"), list) else []
        for value in values:
            metric = value.get("metric") if isinstance(value, dict) else None
            if catalog is not None and metric in catalog.metrics:
                owner = catalog.metric(metric).owner
                if owner in CATEGORY_CODES:
                    return owner
    return "other"


def can_add(user) -> bool:
    """Return whether the user may register external report links."""
    return bool(user.role_codes & ADD_ROLES)


def can_edit_link(user, resource: Resource) -> bool:
    """Return whether the user may edit or delete an external report link."""
    return resource.type == EXTERNAL and (
        bool(user.role_codes & EDIT_ANY_ROLES)
        or (resource.owner_id is not None and resource.owner_id == user.id)
    )


def visible_reports(session: Session, user, types=REPORT_TYPES) -> list[Resource]:
    """Return the reports the user may see: external links, own and granted pivots/dashboards."""
    resources = session.scalars(
        select(Resource).where(Resource.type.in_(list(types))).order_by(Resource.id)
    ).all()
    internal = [r.id for r in resources if not _open_to_all(r) and r.owner_id != user.id]
    granted: set[int] = set()
    if internal:
        now = utcnow()
        granted = set(
            session.scalars(
                select(Grant.resource_id).where(
                    Grant.resource_id.in_(internal),
                    Grant.permission.in_(IMPLIED["view"]),
                    or_(Grant.expires_at.is_(None), Grant.expires_at > now),
                    subject_clause(user),
                )
            )
        )
    return [r for r in resources if _open_to_all(r) or r.owner_id == user.id or r.id in granted]


def _open_to_all(resource: Resource) -> bool:
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    return resource.type == EXTERNAL or spec.get("published") is True


def _owners(session: Session, resources) -> dict[int, str]:
    ids = {r.owner_id for r in resources if r.owner_id}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _view_counts(session: Session, ids, since: datetime | None = None, user=None) -> dict:
    if not ids:
        return {}
    query = select(View.resource_id, func.count(View.id)).where(View.resource_id.in_(list(ids)))
    if since is not None:
        query = query.where(View.at >= since)
    if user is not None:
        query = query.where(View.user_id == user.id)
    return dict(session.execute(query.group_by(View.resource_id)).all())


def _favorites(session: Session, user, ids) -> dict[int, datetime]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(Favorite.resource_id, Favorite.created_at).where(
                Favorite.user_id == user.id, Favorite.resource_id.in_(list(ids))
            )
        ).all()
    )


def _entry(resource: Resource, user, locale, owners, views, favorites) -> dict:
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    category = report_category(resource)
    external = resource.type == EXTERNAL
    return {
        "id": resource.id,
        "type": resource.type,
        "key": resource.key,
        "title": resource_title(resource, locale),
        "title_zh": resource.title_zh,
        "title_en": resource.title_en,
        "description": resource.description or "",
        "url": resource_url(resource),
        "external": external,
        "platform": spec.get("platform") if external else None,
        "category": category,
        "category_name": category_name(category, locale),
        "owner": owners.get(resource.owner_id),
        "owner_id": resource.owner_id,
        "can_edit": can_edit_link(user, resource),
        "views": int(views.get(resource.id, 0)),
        "favorite": resource.id in favorites,
        "updated_at": resource.updated_at.isoformat() if resource.updated_at else None,
    }


def _check_choice(value, allowed, code: str, message: str) -> str | None:
    if value in (None, "", "all"):
        return None
    if not isinstance(value, str) or value not in allowed:
        raise Invalid(message, code=code)
    return value


def list_reports(
    session: Session,
    user,
    *,
    locale: str | None = None,
    q=None,
    type=None,  # noqa: A002 - the API's parameter name
    category=None,
) -> dict:
    """List the reports the user may see, filtered by type, category and a title search.

    Returns {"reports": [...], "categories": [{"code", "name", "count"}], "can_add"}; each
    report has id, type, key, title (user's language), title_zh, title_en, description, url,
    external, platform, category, category_name, owner, can_edit, views, favorite.
    """
    kind = _check_choice(
        type,
        REPORT_TYPES,
        "bad_type",
        _("Unknown report type: use pivot, dashboard or report."),
    )
    chosen = _check_choice(category, CATEGORY_CODES, "bad_category", _("Unknown category."))
    if q is not None and (not isinstance(q, str) or len(q) > MAX_QUERY):
        raise Invalid(
            _("A search may have at most %(n)d characters.", n=MAX_QUERY), code="bad_query"
        )
    needle = (q or "").strip().casefold()
    resources = visible_reports(session, user)
    owners = _owners(session, resources)
    ids = [r.id for r in resources]
    views, favorites = _view_counts(session, ids), _favorites(session, user, ids)
    entries = [_entry(r, user, locale, owners, views, favorites) for r in resources]
    counts: dict[str, int] = {}
    out = []
    for entry in entries:
        if kind and entry["type"] != kind:
            continue
        if needle and not any(
            needle in (text or "").casefold()
            for text in (entry["title_zh"], entry["title_en"], entry["platform"], entry["owner"])
        ):
            continue
        counts[entry["category"]] = counts.get(entry["category"], 0) + 1
        if chosen and entry["category"] != chosen:
            continue
        out.append(entry)
    out.sort(key=lambda e: (CATEGORY_CODES.index(e["category"]), e["type"], e["title"] or ""))
    categories = [
        {"code": c, "name": category_name(c, locale), "count": counts[c]}
        for c in CATEGORY_CODES
        if counts.get(c)
    ]
    return {"reports": out, "categories": categories, "can_add": can_add(user)}


def common_reports(
    session: Session,
    user,
    limit: int = 8,
    locale: str | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """Return the user's common reports (常用报表) for the home page widget, best first.

    Favorites come first, then the reports the user opened most over the last 90 days, then
    (so a new user sees something) the reports most opened by everyone. Only reports the
    user may see are listed. Each item is a dict:

        {"id": int, "type": "pivot" | "dashboard" | "report", "key": str,
         "title": str (in `locale`), "url": str (portal path or external URL),
         "category": str (code), "owner": str | None (display name),
         "views": int (the user's own openings in 90 days), "favorite": bool,
         "external": bool, "platform": str | None}
    """
    if limit <= 0:
        return []
    since = (now or utcnow()) - timedelta(days=COMMON_DAYS)
    resources = visible_reports(session, user)
    ids = [r.id for r in resources]
    mine = _view_counts(session, ids, since, user)
    everyone = _view_counts(session, ids, since)
    favorites = _favorites(session, user, ids)
    owners = _owners(session, resources)

    def rank(r: Resource):
        fav = favorites.get(r.id)
        return (
            0 if fav else 1 if mine.get(r.id) else 2,
            -mine.get(r.id, 0),
            -everyone.get(r.id, 0),
            -(fav.timestamp() if fav else 0),
            r.id,
        )

    chosen = sorted(resources, key=rank)[:limit]
    out = []
    for r in chosen:
        entry = _entry(r, user, locale, owners, mine, favorites)
        out.append(
            {
                k: entry[k]
                for k in (
                    "id",
                    "type",
                    "key",
                    "title",
                    "url",
                    "category",
                    "owner",
                    "views",
                    "favorite",
                    "external",
                    "platform",
                )
            }
        )
    return out


# -- external report links ------------------------------------------------------------------------
def _text(value, name: str, limit: int, *, required: bool) -> str | None:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("%(field)s must be text.", field=name), code="bad_value")
    value = value.strip()
    if len(value) > limit:
        raise Invalid(
            _("%(field)s may have at most %(n)d characters.", field=name, n=limit),
            code="bad_value",
        )
    if required and not value:
        raise Invalid(_("%(field)s is required.", field=name), code="missing_value")
    return value or None


def _clean_link(data, current: dict | None = None) -> dict:
    if not isinstance(data, dict):
        raise Invalid(_("The request body must be a JSON object"), code="invalid_json")
    unknown = set(data) - LINK_KEYS
    if unknown:
        raise Invalid(
            _("Unknown field(s): %(fields)s", fields=", ".join(sorted(map(str, unknown)))[:200]),
            code="unknown_key",
        )
    merged = {**(current or {}), **data}
    zh = _text(merged.get("title_zh"), _("Chinese title"), MAX_TITLE, required=False)
    en = _text(merged.get("title_en"), _("English title"), MAX_TITLE, required=False)
    if not zh and not en:
        raise Invalid(_("Give the report a title."), code="missing_title")
    url = _text(merged.get("url"), _("Address"), MAX_URL, required=True)
    parsed = urlparse(url)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc or " " in url:
        raise Invalid(
            _("The address must be a web address starting with http:// or https://."),
            code="bad_url",
        )
    platform = _text(merged.get("platform"), _("Platform"), MAX_PLATFORM, required=True)
    category = merged.get("category")
    if category not in CATEGORY_CODES:
        raise Invalid(_("Unknown category."), code="bad_category")
    description = _text(
        merged.get("description"), _("Description"), MAX_DESCRIPTION, required=False
    )
    return {
        "title_zh": zh or en,
        "title_en": en or zh,
        "url": url,
        "platform": platform,
        "category": category,
        "description": description,
    }


def _link(session: Session, report_id) -> Resource:
    resource = None
    if isinstance(report_id, int) and not isinstance(report_id, bool):
        resource = session.get(Resource, report_id)
    if resource is None or resource.type not in REPORT_TYPES:
        raise NotFound(_("This report does not exist."), code="report_not_found")
    return resource


def _apply(resource: Resource, clean: dict) -> None:
    resource.title_zh, resource.title_en = clean["title_zh"], clean["title_en"]
    resource.description = clean["description"]
    # published: every user may open (and star) the link; the other platform checks access
    resource.spec = {**{k: clean[k] for k in ("url", "platform", "category")}, "published": True}


def _audit_link(session: Session, user, resource_id: int, action: str, **details) -> None:
    """Record a change to an external report link in the audit log."""
    record_event(
        session,
        event_type="report_link",
        actor=user,
        object_type=EXTERNAL,
        object_id=resource_id,
        details={"action": action, **details},
    )


def add_external_report(session: Session, user, data, locale: str | None = None) -> dict:
    """Register a link to a report on another platform; the user becomes its owner."""
    if not can_add(user):
        raise Forbidden(
            _("Only administrators, operators, analysts and data owners may add report links."),
            code="not_report_admin",
        )
    clean = _clean_link(data)
    resource = Resource(type=EXTERNAL, key=uuid.uuid4().hex, owner_id=user.id)
    _apply(resource, clean)
    session.add(resource)
    session.flush()
    _audit_link(session, user, resource.id, "create", url=clean["url"], platform=clean["platform"])
    return _entry(resource, user, locale, _owners(session, [resource]), {}, {})


def get_report(session: Session, user, report_id, locale: str | None = None) -> dict:
    """Return one report the user may see."""
    resource = _link(session, report_id)
    if not (_open_to_all(resource) or can_view(session, user, resource)):
        raise Forbidden(_("You do not have permission to open this report."), code="forbidden")
    favorites = _favorites(session, user, [resource.id])
    views = _view_counts(session, [resource.id])
    return _entry(resource, user, locale, _owners(session, [resource]), views, favorites)


def _editable(session: Session, user, report_id) -> Resource:
    resource = _link(session, report_id)
    if resource.type != EXTERNAL:
        raise Invalid(
            _("Saved pivots and dashboards are changed on their own pages."),
            code="not_external",
        )
    if not can_edit_link(user, resource):
        raise Forbidden(
            _("Only an administrator or the link's owner may change it."),
            code="not_report_owner",
        )
    return resource


def update_external_report(
    session: Session, user, report_id, data, locale: str | None = None
) -> dict:
    """Change an external report link (administrators and the link's owner)."""
    resource = _editable(session, user, report_id)
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    current = {
        "title_zh": resource.title_zh,
        "title_en": resource.title_en,
        "description": resource.description,
        **{k: spec.get(k) for k in ("url", "platform", "category")},
    }
    clean = _clean_link(data, current)
    _apply(resource, clean)
    session.flush()
    _audit_link(session, user, resource.id, "update", url=clean["url"])
    return _entry(resource, user, locale, _owners(session, [resource]), {}, {})


def delete_external_report(session: Session, user, report_id) -> None:
    """Remove an external report link (administrators and the link's owner)."""
    resource = _editable(session, user, report_id)
    rid, url = resource.id, (resource.spec or {}).get("url")
    session.delete(resource)
    session.flush()
    _audit_link(session, user, rid, "delete", url=url)
