"""Self-service dashboards (SPEC §4.3): saved chart grids over the metric catalog.

A dashboard is a `Resource` of type "dashboard" whose `spec` is a versioned JSON document::

    {"version": 1,
     "charts": [{"id", "type", "title", "metric", "metrics", "dimension", "series_dimension",
                 "period", "top", "layout": {"x", "y", "w", "h"}}],
     "filters": {"period", "branch", "product"},
     "published": false}

The document is validated whenever it is saved or loaded, so a bad saved spec gives a clear,
translated `Invalid` instead of a crash. Chart data always comes from the metric service
with the caller's table provider (their row scope and masking); the dashboard-wide filters
apply to every chart whose metrics allow them, and a chart whose metric cannot take a filter
says so in a note. Permissions: the owner, or grants through `grants.has_permission`
(view / edit / manage); a published dashboard can be viewed by every logged-in user.
"""

from __future__ import annotations

import copy

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from datasources.catalog import Catalog
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Grant, Group, Resource, Role, User
from portal.services.activity import can_view as activity_can_view
from portal.services.activity import resource_title
from portal.services.audit import record_event
from portal.services.dashboard_data import (  # noqa: F401 - the dashboards API in one place
    branch_coordinates,
    chart_data,
    effective_period,
    filter_options,
)
from portal.services.dashboard_spec import (  # noqa: F401
    CHART_TYPES,
    DEFAULT_PERIOD,
    FILTER_FIELDS,
    GRID_COLUMNS,
    MAP_DIMENSIONS,
    MAX_CHARTS,
    MAX_METRICS,
    MAX_ROWS,
    MAX_TITLE,
    MAX_TOP,
    NEEDS_DIMENSION,
    SERIES_TYPES,
    SPEC_VERSION,
    TREND_PERIOD,
    _overlaps,
    chart_title,
    check_filters,
    default_size,
    empty_spec,
    new_chart_id,
    place_charts,
    validate_spec,
)
from portal.services.grants import granted_keys, has_permission

TYPE = "dashboard"
SHARE_PERMISSIONS = ("view", "edit")


# -- permissions -----------------------------------------------------------------------------
def _spec_dict(resource: Resource) -> dict:
    return resource.spec if isinstance(resource.spec, dict) else {}


def can_view(session: Session, user, resource: Resource) -> bool:
    """Return whether the user may open the dashboard: owner, published, or a view grant."""
    return activity_can_view(session, user, resource)


def can_edit(session: Session, user, resource: Resource) -> bool:
    return has_permission(session, user, resource.id, "edit")


def can_manage(session: Session, user, resource: Resource) -> bool:
    """Owner or a manage grant: may delete, share and publish."""
    return has_permission(session, user, resource.id, "manage")


def get_dashboard(session: Session, user, key, permission: str = "view") -> Resource:
    """Return the dashboard with this key if the user holds `permission` on it.

    A dashboard the user may not even view is reported missing (keys reveal nothing).
    """
    resource = None
    if isinstance(key, str) and 0 < len(key) <= 200:
        resource = session.scalar(
            select(Resource).where(Resource.type == TYPE, Resource.key == key)
        )
    if resource is None or not can_view(session, user, resource):
        raise NotFound(_("This dashboard does not exist."), code="dashboard_not_found")
    if permission == "edit" and not can_edit(session, user, resource):
        raise Forbidden(_("You may view this dashboard but not change it."), code="not_editor")
    if permission == "manage" and not can_manage(session, user, resource):
        raise Forbidden(
            _("Only the owner or a manager of this dashboard may do that."), code="not_manager"
        )
    return resource


def load_spec(resource: Resource, catalog: Catalog) -> dict:
    """Return the dashboard's validated spec; a broken saved spec raises a clear Invalid."""
    return validate_spec(resource.spec, catalog)


title_of = resource_title


def list_dashboards(session: Session, user, locale: str | None = None) -> list[dict]:
    """Return the dashboards the user owns, was granted, or that are published, newest first."""
    # one query per permission, not two per dashboard (manage > edit > view)
    managed = granted_keys(session, user, TYPE, "manage")
    edited = granted_keys(session, user, TYPE, "edit") | managed
    granted = granted_keys(session, user, TYPE, "view") | edited
    rows = session.execute(
        select(Resource, User.display_name)
        .outerjoin(User, User.id == Resource.owner_id)
        .where(Resource.type == TYPE)
        .order_by(Resource.updated_at.desc(), Resource.id.desc())
    ).all()
    out = []
    for resource, owner_name in rows:
        mine = resource.owner_id is not None and resource.owner_id == user.id
        spec = _spec_dict(resource)
        if not (mine or resource.key in granted or spec.get("published") is True):
            continue
        charts = spec.get("charts")
        out.append(
            {
                "id": resource.id,
                "key": resource.key,
                "title": title_of(resource, locale),
                "description": resource.description or "",
                "owner": owner_name or "",
                "mine": mine,
                "published": spec.get("published") is True,
                "charts": len(charts) if isinstance(charts, list) else 0,
                "updated_at": resource.updated_at,
                "can_edit": mine or resource.key in edited,
                "can_manage": mine or resource.key in managed,
            }
        )
    return out


# -- commands ----------------------------------------------------------------------------------
def _check_title(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise Invalid(_("Please give the dashboard a title."), code="bad_title")
    title = title.strip()
    if len(title) > MAX_TITLE:
        raise Invalid(
            _("The title must be at most %(n)d characters.", n=MAX_TITLE), code="bad_title"
        )
    return title


def _audit(session: Session, user, event_type: str, resource: Resource, **details) -> None:
    """Record a dashboard event in the audit log; details start with the dashboard's key."""
    record_event(
        session,
        event_type=event_type,
        actor=user,
        object_type=TYPE,
        object_id=resource.id,
        details={"key": resource.key, **details},
    )


def create_dashboard(
    session: Session,
    user,
    catalog: Catalog,
    title: str,
    spec=None,
    *,
    title_en: str | None = None,
    description: str | None = None,
    key: str | None = None,
) -> Resource:
    """Create a dashboard owned by the user; audited. Does not commit."""
    title = _check_title(title)
    checked = validate_spec(spec, catalog)
    resource = Resource(
        type=TYPE,
        title_zh=title,
        title_en=_check_title(title_en) if title_en else title,
        description=(description or None),
        owner_id=user.id,
        spec=checked,
    )
    if key:
        resource.key = key
    session.add(resource)
    session.flush()
    _audit(session, user, "dashboard_create", resource, charts=len(checked["charts"]))
    return resource


def save_dashboard(
    session: Session,
    user,
    catalog: Catalog,
    key: str,
    spec,
    *,
    title: str | None = None,
    locale: str | None = None,
) -> Resource:
    """Replace the dashboard's spec (and its title in the user's language); audited.

    Publishing is kept as it was: only a manager changes it (`set_published`).
    """
    resource = get_dashboard(session, user, key, "edit")
    checked = validate_spec(spec, catalog)
    checked["published"] = _spec_dict(resource).get("published") is True
    if title is not None:
        title = _check_title(title)
        if (locale or "").startswith("en"):
            resource.title_en = title
        else:
            resource.title_zh = title
    resource.spec = checked
    session.flush()
    _audit(session, user, "dashboard_save", resource, charts=len(checked["charts"]))
    return resource


def duplicate_dashboard(
    session: Session, user, catalog: Catalog, key: str, locale: str | None = None
) -> Resource:
    """Copy a dashboard the user can view into a new one they own (unpublished)."""
    source = get_dashboard(session, user, key, "view")
    spec = copy.deepcopy(_spec_dict(source))
    try:
        spec = validate_spec(spec, catalog)
    except Invalid:
        spec = empty_spec()  # a broken source still yields a usable (empty) copy
    spec["published"] = False
    zh_suffix = " (copy)" if (locale or "").startswith("en") else "（副本）"
    copy_resource = Resource(
        type=TYPE,
        title_zh=f"{source.title_zh}{zh_suffix}"[:MAX_TITLE],
        title_en=f"{source.title_en} (copy)"[:MAX_TITLE],
        description=source.description,
        owner_id=user.id,
        spec=spec,
    )
    session.add(copy_resource)
    session.flush()
    _audit(session, user, "dashboard_duplicate", copy_resource, source=source.key)
    return copy_resource


def delete_dashboard(session: Session, user, key: str) -> None:
    """Delete a dashboard (owner or manage grant); its grants go with it. Audited."""
    resource = get_dashboard(session, user, key, "manage")
    rid, rkey = resource.id, resource.key
    session.delete(resource)  # its grants go by the foreign key's ON DELETE CASCADE
    session.flush()
    record_event(
        session,
        event_type="dashboard_delete",
        actor=user,
        object_type=TYPE,
        object_id=rid,
        details={"key": rkey},
    )


def set_published(session: Session, user, key: str, published: bool) -> Resource:
    """Publish a dashboard to every logged-in user, or withdraw it (manager only)."""
    resource = get_dashboard(session, user, key, "manage")
    spec = dict(_spec_dict(resource) or empty_spec())
    if (spec.get("published") is True) == bool(published):
        return resource
    spec["published"] = bool(published)
    resource.spec = spec
    session.flush()
    _audit(session, user, "dashboard_publish", resource, published=bool(published))
    return resource


_SUBJECTS = {"user": User, "group": Group, "role": Role}


def share_dashboard(
    session: Session, user, key: str, subject_type: str, subject_id: int, permission: str = "view"
) -> Grant:
    """Give a user, group or role view or edit on a dashboard the sharer manages; audited.

    Sharing is the resource manager's act (unlike `grants.grant_permission`, which is the
    security administrator's and covers every permission): it only hands out view or edit.
    Viewing shares with people or groups go through `sharing.share_resource`, which also
    records the share and tells the recipients in their message center.
    """
    resource = get_dashboard(session, user, key, "manage")
    if permission not in SHARE_PERMISSIONS:
        raise Invalid(_("A dashboard can be shared to view or to edit."), code="bad_permission")
    model = _SUBJECTS.get(subject_type)
    if model is None or not isinstance(subject_id, int) or session.get(model, subject_id) is None:
        raise NotFound(_("Nobody to share with was found."), code="subject_not_found")
    if permission == "view" and subject_type in ("user", "group"):
        from portal.services.sharing import share_resource

        ids = {"user_ids" if subject_type == "user" else "group_ids": [subject_id]}
        share_resource(session, user, resource.id, **ids)
    grant = session.scalar(
        select(Grant).where(
            Grant.subject_type == subject_type,
            Grant.subject_id == subject_id,
            Grant.resource_id == resource.id,
            Grant.permission == permission,
        )
    )
    if grant is None:
        grant = Grant(
            subject_type=subject_type,
            subject_id=subject_id,
            resource_id=resource.id,
            permission=permission,
            granted_by=user.id,
        )
        session.add(grant)
        session.flush()
    _audit(
        session,
        user,
        "dashboard_share",
        resource,
        subject_type=subject_type,
        subject_id=subject_id,
        permission=permission,
    )
    return grant


def unshare_dashboard(session: Session, user, key: str, grant_id: int) -> None:
    """Remove a view or edit share from a dashboard the user manages; audited."""
    resource = get_dashboard(session, user, key, "manage")
    grant = session.get(Grant, grant_id) if isinstance(grant_id, int) else None
    if (
        grant is None
        or grant.resource_id != resource.id
        or grant.permission not in SHARE_PERMISSIONS
    ):
        raise NotFound(_("No such share."), code="share_not_found")
    details = {
        "subject_type": grant.subject_type,
        "subject_id": grant.subject_id,
        "permission": grant.permission,
        "action": "unshare",
    }
    session.delete(grant)
    session.flush()
    _audit(session, user, "dashboard_share", resource, **details)


def list_shares(session: Session, user, key: str, locale: str | None = None) -> list[dict]:
    """Return the dashboard's view/edit shares with readable subject names (manager only)."""
    resource = get_dashboard(session, user, key, "manage")
    english = (locale or "").startswith("en")
    grants = session.scalars(
        select(Grant)
        .where(Grant.resource_id == resource.id, Grant.permission.in_(SHARE_PERMISSIONS))
        .order_by(Grant.id)
    ).all()
    out = []
    for grant in grants:
        subject = session.get(_SUBJECTS[grant.subject_type], grant.subject_id)
        if subject is None:
            continue
        if grant.subject_type == "user":
            name = f"{subject.display_name} ({subject.username})"
        elif grant.subject_type == "group":
            name = _("Group: %(name)s", name=subject.name)
        else:
            name = _("Role: %(name)s", name=subject.name_en if english else subject.name_zh)
        out.append(
            {
                "id": grant.id,
                "subject_type": grant.subject_type,
                "subject_id": grant.subject_id,
                "name": name,
                "permission": grant.permission,
            }
        )
    return out


def share_targets(session: Session, locale: str | None = None) -> list[dict]:
    """Return who a dashboard can be shared with: active users, groups and roles."""
    english = (locale or "").startswith("en")
    out = [
        {"value": f"user:{u.id}", "label": f"{u.display_name} ({u.username})"}
        for u in session.scalars(select(User).where(User.is_active).order_by(User.username))
    ]
    out += [
        {"value": f"group:{g.id}", "label": _("Group: %(name)s", name=g.name)}
        for g in session.scalars(select(Group).order_by(Group.name))
    ]
    out += [
        {
            "value": f"role:{r.id}",
            "label": _("Role: %(name)s", name=r.name_en if english else r.name_zh),
        }
        for r in session.scalars(select(Role).order_by(Role.id))
    ]
    return out
