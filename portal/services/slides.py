"""Slides of the data-overview carousel and the big screen (SPEC §2.1, §2.2).

A slide is a catalog metric: its value this month, the change against last month, a 12-month
trend and, optionally, a breakdown by one of its dimensions (branch by default). Slides come in
SETS, Resources of type "screen" whose spec says what they show and to whom:

    {"slides": ["deposit_balance", {"metric": "npl_ratio", "breakdown": "branch"}, ...],
     "audience": {"roles": ["leader"], "groups": [], "branches": []},
     "default": true, "priority": 10, "interval_s": 8, "refresh_s": 300}

An empty audience list does not restrict; a non-empty one must match (a branch matches its
sub-branches). Administrators define the sets and mark which are the default of their
audience; each user may choose their own carousel slides among the metrics they may see,
kept in the user setting "carousel" ({"version": 1, "slides": [...]}). Metrics are open to
every member of staff (as in search); their figures are always computed through the viewer's
row scope, so a set only decides what is shown, never which rows.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Resource, Role, UserSetting
from portal.services.audit import record_event
from portal.services.tiles import VISIBILITY_AXES, Audience

SCREEN = "screen"
SETTING_KEY = "carousel"
SETTING_VERSION = 1
ADMIN_ROLES = frozenset({"admin"})
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_SLIDES = 12
INTERVAL_RANGE = (3, 120)  # seconds a slide stays
REFRESH_RANGE = (30, 3600)  # seconds between data refreshes
DEFAULT_INTERVAL_S = 8
DEFAULT_REFRESH_S = 300
AUDIENCE_AXES = VISIBILITY_AXES  # the quick-entry tiles' rule: roles, groups, branches
# What a user sees when no set is meant for them (and no set is visible at all).
FALLBACK_SLIDES = ("deposit_balance", "loan_balance", "npl_ratio", "customer_count")


@dataclass(frozen=True)
class Slide:
    metric: str
    breakdown: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _catalog():
    """Return the app's metric catalog (the packaged one outside an app, e.g. in seeding)."""
    if has_app_context() and "metric_catalog" in current_app.extensions:
        return current_app.extensions["metric_catalog"]
    from datasources.catalog import load_catalog

    global _PACKAGED
    if _PACKAGED is None:
        _PACKAGED = load_catalog()
    return _PACKAGED


_PACKAGED = None


def allowed_metric_ids(user) -> list[str]:
    """Return the metrics `user` may put on a slide, in catalog order.

    Every catalog metric: metrics are open to all staff (search lists them to everyone) and
    their figures are scoped to the viewer's rows when computed.
    """
    return list(_catalog().metrics)


def default_breakdown(metric_id: str) -> str | None:
    """Return the dimension a slide of this metric breaks down by: branch when it can."""
    metric = _catalog().metrics.get(metric_id)
    if metric is None:
        return None
    for dim in ("branch", "channel", "grade"):
        if dim in metric.dimensions:
            return dim
    return None


def _slide(raw) -> Slide | None:
    """Return a Slide from a spec entry (a metric id or {metric, breakdown}); None if invalid."""
    catalog = _catalog()
    if isinstance(raw, str):
        metric, breakdown = raw, default_breakdown(raw)
    elif isinstance(raw, dict) and isinstance(raw.get("metric"), str):
        metric, breakdown = raw["metric"], raw.get("breakdown")
    else:
        return None
    if metric not in catalog.metrics:
        return None
    if breakdown is not None and (
        not isinstance(breakdown, str)
        or breakdown not in catalog.metrics[metric].dimensions
        or breakdown == "month"
    ):
        return None
    return Slide(metric, breakdown)


# -- sets ----------------------------------------------------------------------------------------
def _spec(resource: Resource) -> dict:
    return resource.spec if isinstance(resource.spec, dict) else {}


def set_dict(resource: Resource, locale: str | None = None) -> dict:
    """Return a set as plain data: key, title, slides, audience, timing."""
    spec = _spec(resource)
    english = (locale or "").startswith("en")
    slides = [s for s in (_slide(raw) for raw in spec.get("slides") or []) if s is not None]
    return {
        "id": resource.id,
        "key": resource.key,
        "title": (resource.title_en if english else resource.title_zh) or resource.title_zh,
        "title_zh": resource.title_zh,
        "title_en": resource.title_en,
        "description": resource.description or "",
        "slides": [s.to_dict() for s in slides],
        "audience": {a: list((spec.get("audience") or {}).get(a) or []) for a in AUDIENCE_AXES},
        "default": bool(spec.get("default")),
        "priority": spec.get("priority", 100) if isinstance(spec.get("priority"), int) else 100,
        "interval_s": _bounded(spec.get("interval_s"), INTERVAL_RANGE, DEFAULT_INTERVAL_S),
        "refresh_s": _bounded(spec.get("refresh_s"), REFRESH_RANGE, DEFAULT_REFRESH_S),
    }


def _bounded(value, bounds: tuple[int, int], default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]:
        return value
    return default


def _is_admin(user) -> bool:
    return bool(user.role_codes & ADMIN_ROLES)


def _screens(session: Session) -> list[Resource]:
    return list(session.scalars(select(Resource).where(Resource.type == SCREEN)))


def _sorted(sets: list[dict]) -> list[dict]:
    return sorted(sets, key=lambda s: (s["priority"], s["key"]))


def list_sets(session: Session, user, locale: str | None = None) -> list[dict]:
    """Return the sets `user` may open (their audience, or every set for an administrator)."""
    audience = Audience(session, user)
    admin = _is_admin(user)
    sets = [set_dict(r, locale) for r in _screens(session)]
    return _sorted([s for s in sets if admin or audience.admits(s["audience"])])


def get_set(session: Session, user, key: str, locale: str | None = None) -> dict:
    """Return one set the user may open; NotFound / Forbidden (translated) otherwise."""
    resource = session.scalar(
        select(Resource).where(Resource.type == SCREEN, Resource.key == str(key)[:200])
    )
    if resource is None:
        raise NotFound(_("There is no slide set %(key)s.", key=str(key)[:64]), code="unknown_set")
    found = set_dict(resource, locale)
    if not _is_admin(user) and not Audience(session, user).admits(found["audience"]):
        raise Forbidden(_("This slide set is not shared with you."), code="set_forbidden")
    return found


def default_set_for(session: Session, user, locale: str | None = None) -> dict | None:
    """Return the set meant for `user`: the default set of their audience, best match first.

    A default set naming one of the user's roles wins over a default set for everyone; then
    any visible set; None when no set is visible.
    """
    visible = list_sets(session, user, locale)
    if _is_admin(user):  # administrators see every set but get the one meant for their role
        audience = Audience(session, user)
        visible = [s for s in visible if audience.admits(s["audience"])] or visible
    roles = set(user.role_codes)
    for wanted in (
        lambda s: s["default"] and roles & set(s["audience"]["roles"]),
        lambda s: s["default"],
        lambda s: True,
    ):
        for s in visible:
            if wanted(s) and s["slides"]:
                return s
    return None


# -- the user's own carousel -------------------------------------------------------------------
def _setting(session: Session, user) -> UserSetting | None:
    return session.scalar(
        select(UserSetting).where(UserSetting.user_id == user.id, UserSetting.key == SETTING_KEY)
    )


def user_slides(session: Session, user, locale: str | None = None) -> dict:
    """Return what the user's carousel shows.

    {"slides": [Slide dicts], "source": "user" | "set" | "fallback", "set": key or None,
     "interval_s", "refresh_s", "notice": translated text or None}. A stored choice that does
    not validate (wrong version, not a list, metrics no longer in the catalog) falls back to
    the default set with a notice; the stored value is left for an administrator to inspect.
    """
    default = default_set_for(session, user, locale)
    allowed = set(allowed_metric_ids(user))
    base = {
        "set": default["key"] if default else None,
        "interval_s": default["interval_s"] if default else DEFAULT_INTERVAL_S,
        "refresh_s": default["refresh_s"] if default else DEFAULT_REFRESH_S,
        "notice": None,
    }
    setting = _setting(session, user)
    if setting is not None:
        chosen = _valid_choice(setting.value, allowed)
        if chosen:
            return {**base, "slides": [s.to_dict() for s in chosen], "source": "user"}
        base["notice"] = _(
            "Your saved slide choice could not be read; showing the default slides instead."
        )
    if default:
        return {**base, "slides": default["slides"], "source": "set"}
    slides = [Slide(m, default_breakdown(m)).to_dict() for m in FALLBACK_SLIDES if m in allowed]
    return {**base, "slides": slides, "source": "fallback"}


def _valid_choice(value, allowed: set[str]) -> list[Slide] | None:
    if not isinstance(value, dict) or value.get("version") != SETTING_VERSION:
        return None
    raw = value.get("slides")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_SLIDES:
        return None
    slides = [_slide(r) for r in raw]
    if any(s is None or s.metric not in allowed for s in slides):
        return None
    return slides


def save_user_slides(session: Session, user, metric_ids) -> list[dict]:
    """Store the user's own carousel slides (metric ids, in order); return them as slides.

    Raises Invalid (translated) for anything but 1 to 12 distinct metrics they may see; the
    stored choice is then unchanged. Does not commit.
    """
    if not isinstance(metric_ids, list | tuple) or not all(isinstance(m, str) for m in metric_ids):
        raise Invalid(_("Choose the slides as a list of metrics."), code="bad_slides")
    if not metric_ids:
        raise Invalid(_("Choose at least one slide."), code="no_slides")
    if len(metric_ids) > MAX_SLIDES:
        raise Invalid(_("Choose at most %(n)d slides.", n=MAX_SLIDES), code="too_many_slides")
    if len(set(metric_ids)) != len(metric_ids):
        raise Invalid(_("A metric is chosen twice."), code="duplicate_slide")
    allowed = set(allowed_metric_ids(user))
    unknown = [m for m in metric_ids if m not in allowed]
    if unknown:
        raise Invalid(
            _("You cannot show %(metric)s on a slide.", metric=unknown[0][:80]),
            code="unknown_metric",
        )
    slides = [Slide(m, default_breakdown(m)) for m in metric_ids]
    value = {"version": SETTING_VERSION, "slides": [s.to_dict() for s in slides]}
    setting = _setting(session, user)
    if setting is None:
        session.add(
            UserSetting(user_id=user.id, key=SETTING_KEY, version=SETTING_VERSION, value=value)
        )
    else:
        setting.value = value
        setting.version = SETTING_VERSION
    session.flush()
    return value["slides"]


def reset_user_slides(session: Session, user) -> None:
    """Forget the user's own choice: the carousel shows their default set again."""
    setting = _setting(session, user)
    if setting is not None:
        session.delete(setting)
        session.flush()


# -- administration ----------------------------------------------------------------------------
def validate_set(session: Session, fields: dict) -> dict:
    """Return the cleaned {key, title_zh, title_en, description, spec} of a set; Invalid if bad."""
    if not isinstance(fields, dict):
        raise Invalid(_("A slide set must be an object."), code="bad_set")
    key = fields.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise Invalid(
            _("The key must be lower-case letters, digits, '-' or '_' (at most 64)."),
            code="bad_key",
        )
    titles = {}
    for name in ("title_zh", "title_en"):
        value = fields.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            raise Invalid(_("Both titles are required (at most 200 characters)."), code="bad_title")
        titles[name] = value.strip()
    raw_slides = fields.get("slides")
    if not isinstance(raw_slides, list) or not 1 <= len(raw_slides) <= MAX_SLIDES:
        raise Invalid(_("A slide set needs 1 to %(n)d slides.", n=MAX_SLIDES), code="bad_slides")
    slides = []
    for raw in raw_slides:
        slide = _slide(raw)
        if slide is None:
            shown = raw.get("metric") if isinstance(raw, dict) else raw
            raise Invalid(
                _(
                    "%(slide)s is not a metric (or breakdown) of the catalog.",
                    slide=str(shown)[:80],
                ),
                code="unknown_metric",
            )
        slides.append(slide)
    audience_in = fields.get("audience") or {}
    if not isinstance(audience_in, dict) or set(audience_in) - set(AUDIENCE_AXES):
        raise Invalid(_("The audience may list roles, groups and branches."), code="bad_audience")
    audience = {}
    for axis in AUDIENCE_AXES:
        values = audience_in.get(axis) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise Invalid(
                _("The audience may list roles, groups and branches."), code="bad_audience"
            )
        audience[axis] = sorted(set(values))
    known_roles = set(session.scalars(select(Role.code)))
    unknown = sorted(set(audience["roles"]) - known_roles)
    if unknown:
        raise Invalid(_("Unknown role: %(role)s", role=unknown[0][:40]), code="unknown_role")
    timing = {}
    for name, bounds, default in (
        ("interval_s", INTERVAL_RANGE, DEFAULT_INTERVAL_S),
        ("refresh_s", REFRESH_RANGE, DEFAULT_REFRESH_S),
    ):
        value = fields.get(name, default)
        if _bounded(value, bounds, -1) == -1:
            raise Invalid(
                _(
                    "%(name)s must be a whole number of seconds from %(low)d to %(high)d.",
                    name=name,
                    low=bounds[0],
                    high=bounds[1],
                ),
                code="bad_timing",
            )
        timing[name] = value
    priority = fields.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise Invalid(_("The priority must be a whole number."), code="bad_priority")
    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 2000):
        raise Invalid(_("The description is too long."), code="bad_description")
    return {
        "key": key,
        **titles,
        "description": description,
        "spec": {
            "slides": [
                s.metric if s.breakdown == default_breakdown(s.metric) else s.to_dict()
                for s in slides
            ],
            "audience": audience,
            "default": bool(fields.get("default", False)),
            "priority": priority,
            **timing,
        },
    }


def save_set(session: Session, actor, fields: dict, client_addr: str | None = None) -> Resource:
    """Create or update a slide set (administrators only); audited. Does not commit."""
    if not _is_admin(actor):
        raise Forbidden(_("Only administrators manage slide sets."), code="not_admin")
    clean = validate_set(session, fields)
    resource = session.scalar(
        select(Resource).where(Resource.type == SCREEN, Resource.key == clean["key"])
    )
    created = resource is None
    if created:
        resource = Resource(type=SCREEN, key=clean["key"], owner_id=actor.id)
        session.add(resource)
    resource.title_zh, resource.title_en = clean["title_zh"], clean["title_en"]
    resource.description = clean["description"]
    resource.spec = clean["spec"]
    session.flush()
    record_event(
        session,
        event_type="screen_created" if created else "screen_updated",
        actor=actor,
        client_addr=client_addr,
        object_type=SCREEN,
        object_id=resource.key,
        details={"slides": len(clean["spec"]["slides"]), "audience": clean["spec"]["audience"]},
    )
    return resource


# -- demo ----------------------------------------------------------------------------------------
DEMO_SETS = (
    {
        "key": "executive",
        "title_zh": "经营驾驶舱",
        "title_en": "Executive overview",
        "description": "总行及分行领导每日关注的核心经营指标 / The bank's headline figures for leaders",
        "slides": [
            "deposit_balance",
            "loan_balance",
            "npl_ratio",
            "budget_attainment",
            "customer_count",
            "net_inflow",
            "ebank_penetration",
        ],
        "audience": {"roles": ["leader"]},
        "default": True,
        "priority": 10,
    },
    {
        "key": "retail",
        "title_zh": "零售业务",
        "title_en": "Retail banking",
        "description": "客户、代发与财富管理 / Customers, payroll and wealth",
        "slides": [
            "customer_count",
            "active_customers",
            "payroll_customers",
            "payroll_amount",
            "wealth_balance",
            "deposit_daily_average",
        ],
        "audience": {"roles": ["customer_manager", "analyst", "leader", "data_owner"]},
        "default": True,
        "priority": 20,
    },
    {
        "key": "risk",
        "title_zh": "风险监测",
        "title_en": "Risk monitor",
        "description": "资产质量与信贷投放 / Asset quality and lending",
        "slides": [
            "npl_ratio",
            "npl_balance",
            {"metric": "loan_balance", "breakdown": "grade"},
            {"metric": "new_loans", "breakdown": "industry"},
        ],
        "audience": {"roles": ["leader", "analyst", "data_owner"]},
        "default": False,
        "priority": 30,
    },
    {
        "key": "ebank",
        "title_zh": "电子银行",
        "title_en": "E-banking",
        "description": "线上渠道的使用与交易 / Use of and transactions through online channels",
        "slides": [
            "ebank_penetration",
            "ebank_active_customers",
            "mobile_logins",
            {"metric": "transaction_amount", "breakdown": "channel"},
            {"metric": "transaction_count", "breakdown": "channel"},
        ],
        "audience": {"roles": ["operator", "analyst", "leader", "data_owner"]},
        "default": True,
        "priority": 40,
    },
)


def seed_screen_demo(session: Session) -> int:
    """Add the demo slide sets that are missing (an administrator's edits are kept).

    Returns how many were added. Does not commit; safe to run again.
    """
    existing = set(session.scalars(select(Resource.key).where(Resource.type == SCREEN)))
    added = 0
    for demo in DEMO_SETS:
        if demo["key"] in existing:
            continue
        spec = {
            "slides": demo["slides"],
            "audience": {a: list(demo["audience"].get(a, [])) for a in AUDIENCE_AXES},
            "default": demo["default"],
            "priority": demo["priority"],
            "interval_s": DEFAULT_INTERVAL_S,
            "refresh_s": DEFAULT_REFRESH_S,
        }
        session.add(
            Resource(
                type=SCREEN,
                key=demo["key"],
                title_zh=demo["title_zh"],
                title_en=demo["title_en"],
                description=demo["description"],
                spec=spec,
            )
        )
        added += 1
    session.flush()
    return added


# -- figures ---------------------------------------------------------------------------------------
def slide_data(service, tables, slide: dict, locale: str | None = None) -> dict:
    """Return what a slide shows, computed through the viewer's tables (row scope, masking).

    {"metric", "result" (this month vs last), "trend" (12 months or None), "breakdown" (this
    month by `breakdown_dim`, or None), "breakdown_dim"}. Raises the metric service's errors.
    """
    metric_id = slide["metric"]
    dim = slide.get("breakdown") or None
    result, trend = service.kpi(tables, metric_id, locale=locale)
    breakdown = service.query(tables, metric_id, by=[dim], locale=locale) if dim else None
    return {
        "metric": metric_id,
        "result": result,
        "trend": trend,
        "breakdown": breakdown,
        "breakdown_dim": dim,
    }


DETAIL_MONTHS = 24


def detail_data(service, tables, metric_id: str, dim: str | None, locale: str | None = None):
    """Return what the metric detail page shows: this month, 24 months, the breakdown by `dim`.

    Raises the metric service's errors (an unknown metric or dimension is Invalid / NotFound).
    """
    metric = service.get_metric(metric_id)
    result, trend = service.kpi(tables, metric_id, months=DETAIL_MONTHS, locale=locale)
    if dim is not None and (dim not in metric.dimensions or dim == "month"):
        raise Invalid(
            _(
                "%(metric)s cannot be broken down by %(dimension)s",
                metric=metric.id,
                dimension=str(dim)[:80],
            ),
            code="bad_dimension",
        )
    breakdown = service.query(tables, metric_id, by=[dim], locale=locale) if dim else None
    return {
        "metric": metric_id,
        "result": result,
        "trend": trend,
        "breakdown": breakdown,
        "dim": dim,
    }
