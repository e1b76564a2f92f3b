"""Service glue for the mining pages: scenario descriptions, model metrics, background
training, scored customer lists (scoped and masked), exports and saved lists.

Customer lists always come through `current_tables()`: features are computed on the user's
scoped tables and names / phones come masked unless the user holds an unmask grant.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import OrderedDict

import ibis
import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from datasources.reference import BRANCH_BY_ID
from mining.registry import ModelRegistry
from mining.training import TrainingJobs
from portal.db import get_db
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Resource
from portal.security import current_principal, current_tables
from portal.services.audit import record_event
from portal.services.grants import has_permission

log = logging.getLogger(__name__)

SCENARIOS = ("payroll-churn", "retail-churn", "potential-value", "transaction-mining")
ICONS = {
    "payroll-churn": "cash-coin",
    "retail-churn": "person-dash",
    "potential-value": "gem",
    "transaction-mining": "arrow-left-right",
}
RETRAIN_ROLES = frozenset({"leader", "analyst", "data_owner"})
SEGMENTS = ("mass", "affluent", "private")
TOP_CHOICES = (100, 500, 2000)
MAX_LIST_ROWS = 5000
_CACHE_SIZE = 12
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


# -- words -----------------------------------------------------------------------------------------
def scenario_title(name: str) -> str:
    return {
        "payroll-churn": _("Payroll-customer churn"),
        "retail-churn": _("Retail customer churn"),
        "potential-value": _("Potential value customers"),
        "transaction-mining": _("Transaction-based mining"),
    }[name]


def scenario_summary(name: str) -> str:
    return {
        "payroll-churn": _(
            "Customers paid through the bank whose payroll may stop or whose deposits may "
            "leave in the next three months."
        ),
        "retail-churn": _(
            "Retail customers likely to move most of their deposits away in the next three "
            "months; predicted churn by branch and segment."
        ),
        "potential-value": _(
            "Mass and affluent customers whose assets are likely to grow markedly in the "
            "next three months: candidates for an upgrade."
        ),
        "transaction-mining": _(
            "Stability, activity, usage and short-term funds from a year of transactions; "
            "the customers whose money is about to leave."
        ),
    }[name]


def score_label(name: str) -> str:
    return {
        "payroll-churn": _("Churn probability"),
        "retail-churn": _("Churn probability"),
        "potential-value": _("Growth probability"),
        "transaction-mining": _("Outflow probability"),
    }[name]


def method_paragraphs(name: str) -> list[str]:
    """Return the plain-language explanation of a scenario's method."""
    label = {
        "payroll-churn": _(
            "Who counts as lost: a customer paid through the bank in the last three months "
            "whose payroll stops in the next three months, or whose deposits fall below 20% "
            "of today's."
        ),
        "retail-churn": _(
            "Who counts as lost: a retail customer holding at least 1,000 in deposits whose "
            "deposits three months later are below 20% of today's."
        ),
        "potential-value": _(
            "Who counts as potential: a mass or affluent customer whose assets (deposits and "
            "wealth products) grow by at least 20% and 20,000 within three months."
        ),
        "transaction-mining": _(
            "Who counts: a customer whose deposits three months later are below 20% of "
            "today's, predicted from transaction behaviour only."
        ),
    }[name]
    features = {
        "payroll-churn": _(
            "Features: start-of-year balance, monthly, quarterly and yearly daily averages and "
            "their stability, deposit changes, payroll amounts and months, transfers to "
            "individuals, products held, e-banking use."
        ),
        "retail-churn": _(
            "Features: deposit balance and its change over 1, 3, 6 and 12 months, daily "
            "averages, credit card, loan and wealth-product holdings, transactions, "
            "e-banking logins and how recently the customer was active."
        ),
        "potential-value": _(
            "Features: deposit balance, monthly, quarterly and yearly daily averages, "
            "start-of-year balance and growth, wealth and time deposits, products held."
        ),
        "transaction-mining": _(
            "Features: monthly, quarterly and yearly inflows and outflows, active months, "
            "channels and transaction types used, inflow stability, and short-term funds: "
            "large inflows that leave again within five days, their recovery rate and where "
            "they go (individuals, companies, government, internal)."
        ),
    }[name]
    return [
        label,
        features,
        _(
            "Model: gradient-boosted trees (scikit-learn), trained on several past month-ends "
            "and tested on a later month-end it never saw, with a logistic regression as the "
            "baseline. Every feature is computed from data up to its month-end only."
        ),
        _(
            "Reading the lift chart: customers are ranked by score and cut into ten equal "
            "groups. A lift of 5 in the first group means those customers are five times as "
            "likely as average; the line shows the share of all cases found so far. Contact "
            "the first groups first."
        ),
        _(
            "Reading the calibration chart: points near the diagonal mean the predicted "
            "probabilities match what happened. Feature importance shows how much the AUC "
            "drops when one feature is shuffled."
        ),
    ]


LIST_IDENTITY = ("customer_id", "name", "phone", "branch", "segment", "probability")


def list_columns(name: str) -> list[str]:
    """Return the scenario's own columns of the customer list."""
    from mining.scenarios import SCENARIO_SPECS

    return list(SCENARIO_SPECS[name].list_columns)


def column_label(column: str) -> str:
    return {
        "customer_id": _("Customer no."),
        "name": _("Name"),
        "phone": _("Phone"),
        "branch_id": _("Branch"),
        "branch": _("Branch"),
        "segment": _("Segment"),
        "probability": _("Score"),
        "deposit_balance": _("Deposit balance"),
        "deposit_change_3m": _("Deposit change (3 months)"),
        "n_products": _("Products held"),
        "days_since_last_txn": _("Days since last transaction"),
        "deposit_start_of_year": _("Start-of-year balance"),
        "deposit_avg_daily_quarter": _("Quarterly daily average"),
        "deposit_avg_daily_year": _("Yearly daily average"),
        "payroll_amount_1m": _("Payroll this month"),
        "assets": _("Assets"),
        "deposit_change_ytd": _("Deposit change this year"),
        "inflow_year": _("Inflows (year)"),
        "outflow_year": _("Outflows (year)"),
        "stf_count": _("Short-term fund episodes"),
        "stf_out_amount": _("Short-term funds out"),
    }.get(column, column)


_WINDOWED = re.compile(r"^(?P<base>.+)_(?P<months>\d+)m$")
_AGO = re.compile(r"^(?P<base>deposit|wealth)_(?P<months>\d+)m_ago$")


def feature_label(name: str) -> str:
    """Return a model feature's name in the user's language (the raw name if unknown)."""
    fixed = {
        "active_months": _("Active months"),
        "activity": _("Activity"),
        "activity_trend": _("Activity trend"),
        "age_band": _("Age band"),
        "assets": _("Assets"),
        "card_balance": _("Card balance"),
        "channels_used": _("Channels used"),
        "days_since_last_txn": _("Days since last transaction"),
        "deposit_avg_daily_month": _("Monthly daily average"),
        "deposit_avg_daily_quarter": _("Quarterly daily average"),
        "deposit_avg_daily_year": _("Yearly daily average"),
        "deposit_balance": _("Deposit balance"),
        "deposit_change_ytd": _("Deposit change this year"),
        "deposit_start_of_year": _("Start-of-year balance"),
        "deposit_vs_avg_month": _("Balance vs monthly average"),
        "deposit_vs_avg_quarter": _("Balance vs quarterly average"),
        "deposit_vs_avg_year": _("Balance vs yearly average"),
        "gender": _("Gender"),
        "has_credit_card": _("Has a credit card"),
        "has_loan": _("Has a loan"),
        "has_payroll": _("Paid through the bank"),
        "has_wealth": _("Holds wealth products"),
        "inflow_month": _("Inflows (month)"),
        "inflow_quarter": _("Inflows (quarter)"),
        "inflow_stability": _("Inflow stability"),
        "inflow_year": _("Inflows (year)"),
        "loan_balance": _("Loan balance"),
        "logins_trend": _("Login trend"),
        "n_credit_cards": _("Credit cards"),
        "n_loans": _("Loans"),
        "n_products": _("Products held"),
        "n_wealth_products": _("Wealth products"),
        "occupation": _("Occupation"),
        "outflow_month": _("Outflows (month)"),
        "outflow_quarter": _("Outflows (quarter)"),
        "outflow_year": _("Outflows (year)"),
        "payroll_lost": _("Payroll stopped"),
        "risk_grade": _("Risk grade"),
        "segment": _("Segment"),
        "stf_count": _("Short-term fund episodes"),
        "stf_days_held": _("Short-term funds: days held"),
        "stf_in_amount": _("Short-term funds in"),
        "stf_out_amount": _("Short-term funds out"),
        "stf_recovery_rate": _("Short-term fund recovery rate"),
        "stf_to_corporate": _("Short-term funds to companies"),
        "stf_to_government": _("Short-term funds to government"),
        "stf_to_individual": _("Short-term funds to individuals"),
        "stf_to_internal": _("Short-term funds to internal accounts"),
        "tenure_months": _("Months as a customer"),
        "time_deposit_balance": _("Time deposits"),
        "time_deposit_share": _("Time deposit share"),
        "txn_types_used": _("Transaction types used"),
        "txns_per_month": _("Transactions per month"),
        "wealth_balance": _("Wealth balance"),
        "logins_prev_3m": _("Logins, the 3 months before"),
        "payroll_months_prev_3m": _("Payroll months, the 3 months before"),
    }
    if name in fixed:
        return fixed[name]
    ago = _AGO.match(name)
    if ago:
        months = int(ago.group("months"))
        if ago.group("base") == "deposit":
            return _("Deposits %(months)d months ago", months=months)
        return _("Wealth %(months)d months ago", months=months)
    windowed = _WINDOWED.match(name)
    if windowed:
        base, months = windowed.group("base"), int(windowed.group("months"))
        words = {
            "deposit_change": _("Deposit change"),
            "deposit_cv": _("Deposit variation"),
            "deposit_max": _("Highest deposits"),
            "deposit_mean": _("Mean deposits"),
            "deposit_min": _("Lowest deposits"),
            "deposit_std": _("Deposit spread"),
            "wealth_change": _("Wealth change"),
            "products_change": _("Change in products"),
            "txn_in_amount": _("Inflow amount"),
            "txn_out_amount": _("Outflow amount"),
            "txn_in_count": _("Inflow count"),
            "txn_out_count": _("Outflow count"),
            "net_flow": _("Net flow"),
            "payroll_amount": _("Payroll amount"),
            "payroll_months": _("Payroll months"),
            "transfer_out_individual": _("Transfers to individuals"),
            "consumption_count": _("Card purchases"),
            "digital_count": _("Digital transactions"),
            "digital_share": _("Digital share"),
            "logins": _("Logins"),
            "channel_txns": _("E-banking transactions"),
            "channels_used": _("Channels used"),
        }
        if base in words:
            return _("%(what)s, %(months)d months", what=words[base], months=months)
    return name


def segment_label(segment: str) -> str:
    return {
        "mass": _("Mass"),
        "affluent": _("Affluent"),
        "private": _("Private banking"),
        "small_business": _("Small business"),
        "corporate": _("Corporate"),
    }.get(segment, segment)


def parent_branch(branch_id: str) -> str:
    """Return the branch a sub-branch belongs to (itself for a branch or the head office)."""
    branch = BRANCH_BY_ID.get(branch_id)
    if branch is None or branch.level != "sub_branch" or not branch.parent_id:
        return branch_id
    return branch.parent_id


def branch_name(branch_id: str, locale: str) -> str:
    branch = BRANCH_BY_ID.get(branch_id)
    if branch is None:
        return str(branch_id)
    return branch.name_en if str(locale).startswith("en") else branch.name_zh


# -- models and jobs -------------------------------------------------------------------------------
def check_scenario(name: str) -> str:
    if name not in SCENARIOS:
        raise NotFound(_("Unknown mining scenario: %(name)s.", name=name), code="no_scenario")
    return name


def registry() -> ModelRegistry:
    return ModelRegistry(current_app.config["PORTAL_SETTINGS"].data_dir)


def latest_meta(name: str) -> dict | None:
    return registry().latest(check_scenario(name))


def jobs() -> TrainingJobs:
    """Return the app's one background worker for training and upload mining."""
    app = current_app._get_current_object()
    found = app.extensions.get("mining_jobs")
    if found is None:
        with _cache_lock:
            found = app.extensions.get("mining_jobs")
            if found is None:
                settings = app.config["PORTAL_SETTINGS"]
                found = TrainingJobs(app.extensions["warehouse"], settings.data_dir)
                app.extensions["mining_jobs"] = found
    return found


def can_retrain() -> bool:
    """Models are bank-wide: head-office staff who see every row (and model them) retrain."""
    if not current_user or not current_user.is_authenticated:
        return False
    principal = current_principal()
    return bool(principal.roles & RETRAIN_ROLES) and principal.key().startswith("rows=all")


def start_retrain(name: str, client_addr: str | None = None) -> str:
    """Queue a training run of a scenario; return the job id."""
    check_scenario(name)
    if not can_retrain():
        raise Forbidden(
            _("Only head-office analysts and leaders may retrain the bank's models."),
            code="retrain_forbidden",
        )
    from flask_babel import force_locale, get_locale

    from mining.training import train_scenario

    app = current_app._get_current_object()
    tables, locale = current_tables(), str(get_locale() or "zh_CN")
    data_dir = app.config["PORTAL_SETTINGS"].data_dir

    def work(progress) -> dict:
        with app.app_context(), force_locale(locale):  # errors in the user's language
            return train_scenario(app.extensions["warehouse"], tables, name, data_dir, progress)

    job_id = jobs().submit(name, tables.scope_key, work)
    with get_db().session() as s, s.begin():
        record_event(
            s,
            event_type="model_train",
            actor=current_user,
            client_addr=client_addr,
            object_type="mining_model",
            object_id=name,
            details={"job": job_id},
        )
    return job_id


def job_status(job_id: str | None) -> dict | None:
    """Return a job's status if the current user may follow it (same scope or their own)."""
    if not job_id:
        return None
    status = jobs().status(str(job_id))
    if status is None:
        return None
    mine = {current_tables().scope_key, f"user:{current_user.id}"}
    return status if status["scope_key"] in mine else None


def forget_scores() -> None:
    with _cache_lock:
        _cache.clear()


# -- customer lists --------------------------------------------------------------------------------
def scores(name: str) -> tuple[pd.DataFrame, dict]:
    """Return today's scored customers of a scenario as the current user sees them (with
    masked name and phone), and the model's meta; NotFound when no model exists yet."""
    from mining.scenarios import score_scenario

    check_scenario(name)
    meta = latest_meta(name)
    if meta is None:
        raise NotFound(_("No model has been trained for this scenario yet."), code="no_model")
    tables = current_tables()
    settings = current_app.config["PORTAL_SETTINGS"]
    key = (str(settings.data_dir), settings.warehouse_url, name, meta["version"], tables.scope_key)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key].copy(), meta
    warehouse = current_app.extensions["warehouse"]
    frame, meta = score_scenario(
        warehouse, tables, settings.data_dir, name, version=meta["version"]
    )
    frame = _with_contacts(frame, warehouse, tables)
    with _cache_lock:
        _cache[key] = frame
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return frame.copy(), meta


def _with_contacts(frame: pd.DataFrame, warehouse, tables) -> pd.DataFrame:
    """Add each customer's name and phone, masked per the user's rights (scoped tables)."""
    if frame.empty:
        return frame.assign(name=pd.Series(dtype="string"), phone=pd.Series(dtype="string"))
    ids = ibis.memtable(
        pd.DataFrame({"customer_id": frame["customer_id"].astype("int64").unique()}),
        schema={"customer_id": "int64"},
    )
    customers = tables.table("dim_customer").select("customer_id", "name", "phone")
    contacts = warehouse.execute(
        customers.join(ids, "customer_id"),
        scope_key=tables.scope_key,
        label="mining:contacts",
        use_cache=False,
    )
    return frame.merge(contacts, on="customer_id", how="left")


def clean_filters(filters: dict | None) -> dict:
    """Return list filters with known keys and sane values only."""
    filters = dict(filters or {})
    branches = [str(b) for b in (filters.get("branches") or []) if str(b) in BRANCH_BY_ID]
    segments = [str(s) for s in (filters.get("segments") or []) if isinstance(s, str)]
    try:
        min_score = min(max(float(filters.get("min_score") or 0.0), 0.0), 1.0)
    except (TypeError, ValueError):
        min_score = 0.0
    top = filters.get("top")
    top = int(top) if str(top).isdigit() and int(top) in TOP_CHOICES else TOP_CHOICES[1]
    return {"branches": branches, "segments": segments, "min_score": min_score, "top": top}


def customer_list(name: str, filters: dict | None, locale: str) -> tuple[pd.DataFrame, dict]:
    """Return the filtered customer list (highest scores first) and the model meta."""
    frame, meta = scores(name)
    return filter_list(frame, filters, locale), meta


def filter_list(frame: pd.DataFrame, filters: dict | None, locale: str) -> pd.DataFrame:
    """Return the scored customers (of `scores`) that pass the list filters, with their
    branch's name."""
    f = clean_filters(filters)
    if f["branches"]:
        frame = frame[frame["branch_id"].isin(f["branches"])]
    if f["segments"]:
        frame = frame[frame["segment"].isin(f["segments"])]
    frame = frame[frame["probability"] >= f["min_score"]].head(min(f["top"], MAX_LIST_ROWS))
    frame = frame.assign(branch=frame["branch_id"].map(lambda b: branch_name(b, locale)))
    return frame.reset_index(drop=True)


def export_frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Return the list as people read it: labelled columns, rounded numbers, segment words."""
    columns = [*LIST_IDENTITY, *list_columns(name)]
    out = frame[[c for c in columns if c in frame.columns]].copy()
    out["segment"] = out["segment"].map(segment_label)
    out["probability"] = out["probability"].round(4)
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]) and column != "probability":
            out[column] = out[column].round(2)
    labels = {c: column_label(c) for c in out.columns}
    labels["probability"] = score_label(name)
    return out.rename(columns=labels)


def record_export(name: str, fmt: str, rows: int, filters: dict, client_addr=None) -> None:
    with get_db().session() as s, s.begin():
        record_event(
            s,
            event_type="export",
            actor=current_user,
            client_addr=client_addr,
            object_type="mining_list",
            object_id=name,
            row_count=rows,
            details={"format": fmt, "filters": filters, "scope": current_tables().scope_key},
        )


def branch_segment_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the mean score and customer count per branch and segment."""
    if frame.empty:
        return pd.DataFrame(columns=["branch_id", "segment", "customers", "mean_score"])
    return (
        frame.groupby(["branch_id", "segment"])
        .agg(customers=("probability", "size"), mean_score=("probability", "mean"))
        .reset_index()
    )


# -- saved lists ---------------------------------------------------------------------------------
def share_groups() -> list[dict]:
    """Return the groups the user may share a list with (their own groups)."""
    from portal.services.groups import my_groups

    with get_db().session() as s:
        return [{"label": g.name, "value": g.id} for g in my_groups(s, current_user)]


def save_list(
    name: str, filters: dict, title: str, client_addr=None, group_ids: list | None = None
) -> dict:
    """Save the list's definition as a Resource the user owns; return its id, key and link.

    The list is saved as its filters and model, not its rows: whoever opens the link sees
    the customers their own rights allow.
    """
    check_scenario(name)
    meta = latest_meta(name)
    if meta is None:
        raise Invalid(_("No model has been trained for this scenario yet."), code="no_model")
    title = (title or "").strip()[:120] or scenario_title(name)
    key = uuid.uuid4().hex
    link = f"/mining/{name}?list={key}"
    with get_db().session() as s, s.begin():
        resource = Resource(
            type="query",
            key=key,
            title_zh=title,
            title_en=title,
            description=scenario_summary(name),
            owner_id=current_user.id,
            spec={
                "kind": "mining_list",
                "scenario": name,
                "filters": clean_filters(filters),
                "model_version": meta["version"],
                "url": link,
                "link": link,
            },
        )
        s.add(resource)
        s.flush()
        record_event(
            s,
            event_type="resource_create",
            actor=current_user,
            client_addr=client_addr,
            object_type="query",
            object_id=resource.id,
            details={"kind": "mining_list", "scenario": name},
        )
        resource_id = resource.id
        shared = [int(g) for g in (group_ids or []) if str(g).isdigit()]
        if shared:
            from portal.services.sharing import share_resource

            share_resource(s, current_user, resource_id, group_ids=shared, message=title)
    return {"id": resource_id, "key": key, "link": link, "title": title, "groups": len(shared)}


def load_saved_list(key: str | None, name: str) -> dict | None:
    """Return the filters of a saved list the user may view, for this scenario, or None."""
    if not key:
        return None
    with get_db().session() as s:
        resource = s.scalar(select(Resource).where(Resource.type == "query", Resource.key == key))
        if resource is None or (resource.spec or {}).get("scenario") != name:
            return None
        if not has_permission(s, current_user, resource.id, "view"):
            return None
        return {
            "id": resource.id,
            "title": resource.title_zh,
            **clean_filters(resource.spec.get("filters")),
        }


def opened(resource_id: int) -> bool:
    """Record that the user opened a resource (recently viewed); return whether it is one of
    their favorites. Best effort: a failure to record is logged and the page still opens."""
    from portal.services.activity import is_favorite, record_view

    try:
        with get_db().session() as s, s.begin():
            record_view(s, current_user, resource_id)
            return bool(is_favorite(s, current_user, resource_id))
    except Exception:  # noqa: BLE001 - a view record must never break the page
        log.warning("could not record the view of resource %s", resource_id, exc_info=True)
        return False


def star(resource_id: int):
    """Return the favorite star of a resource page, recording the view."""
    from components.favorite import favorite_button

    return favorite_button(resource_id, opened(resource_id))
