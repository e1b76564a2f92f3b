"""Unified search (SPEC §3.1): one query over apps, reports, dashboards, pivots, saved queries,
datasets and their columns, metrics and external data, filtered by permission.

`search(session, user, q, ...)` returns one page of results ranked by text match with
popularity as a tie-breaker (portal/services/search_query.py), facets by type, domain and
owner, and for each result whether it is locked (a dataset the user may not read: shown,
with a request-access action). Metrics and datasets are found by every user; anything else
by its owner, holders of a view grant, or everyone once published.

The work runs in SQL over the index (portal/services/search_index.py): the documents the
user may see that hold every word. Python rates those whose titles hold every word; the
often many more that hold a word only in their body are counted in SQL and fetched only
when the page reaches them (they rank by popularity alone). `sync_catalog_resources`
(portal/services/search_catalog.py) makes resources of the metric catalog and the tables.
"""

from __future__ import annotations

import functools
import heapq
from collections import Counter
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    not_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from portal.errors import Invalid
from portal.models import Grant, Resource
from portal.models.base import utcnow
from portal.services.grants import has_permission
from portal.services.search_catalog import dataset_tables, sync_catalog_resources
from portal.services.search_index import (
    INDEXED_TYPES,
    TITLE_SEPARATOR,
    column_names,
    is_natural_key,
    search_documents,
    search_tables,
    vocabulary,
)
from portal.services.search_query import (
    CAPPED_VIEWS,
    DOMAIN,
    EXACT,
    OWNER,
    RID,
    TITLES,
    TYPE,
    VIEWS,
    ParsedQuery,
    Tier,
    granted_view,
    in_body,
    in_titles_clause,
    loosen,
    match_clause,
    parse_query,
    score,
    text_matcher,
    visible_clause,
)

__all__ = [
    "SEARCH_TYPES",
    "dataset_tables",
    "is_locked",
    "parse_query",
    "search",
    "sync_catalog_resources",
]

SEARCH_TYPES = INDEXED_TYPES
# Roles that read every dataset without a grant; others (customer managers, and the
# administrators kept away from business data) need a view grant.
DATA_READER_ROLES = frozenset({"leader", "analyst", "data_owner"})
MAX_QUERY_CHARS = 200
MAX_LIMIT = 100
MAX_OFFSET = 10_000
GROUP_MARK = "\x1e"
RECORD_MARK = "\x1d"
SNIPPET_CHARS = 40
d = search_documents.c


# -- retrieval ----------------------------------------------------------------------------------
class Candidate(NamedTuple):
    """A document that holds every word of the query (the fields a result needs)."""

    resource_id: int
    domain: str | None
    owner: str | None
    initials: str
    pinyin: str


def _columns(query: ParsedQuery) -> list:
    exact = literal("")
    if query.loose:
        exact = case((and_(*(in_body(w.exact_needle()) for w in query.words)), "1"), else_="0")
    return [d.resource_id, d.views_30d, d.type, d.domain, d.owner, exact, d.titles]


def _fetch(conn, statement) -> list:
    """Return a candidate query's rows; PostgreSQL sends each row as one string.

    A PostgreSQL driver without its C extension spends microseconds per value fetched,
    which for thousands of candidates of seven values would dominate.
    """
    if conn.dialect.name == "sqlite":
        return conn.execute(statement).all()
    packed = _joined(list(statement.selected_columns))
    rows = conn.execute(statement.with_only_columns(packed)).scalars().all()
    return [value.split(TITLE_SEPARATOR, TITLES) for value in rows]


@contextmanager
def _planner_hints(conn, indexed: bool):
    """Steer PostgreSQL to the trigram indexes for one query, then restore its settings.

    The index is small and cached, so a random page costs little more than a sequential
    one; when every needle has three characters or more the indexes serve every condition,
    and a bitmap scan beats reading each body even for common words; and a plan must see
    the LIKE patterns, which a generic plan of a prepared statement (the driver prepares
    statements run often) does not.
    """
    hints = {"random_page_cost": "1.1", "plan_cache_mode": "force_custom_plan"}
    hints |= {"enable_seqscan": "off"} if indexed else {}
    names = list(hints)
    current = [literal_column(f"current_setting('{n}')") for n in names]
    changed = [func.set_config(n, v, True) for n, v in hints.items()]
    before = conn.execute(select(*current, *changed)).one()[: len(names)]
    try:
        yield
    finally:
        conn.execute(
            select(*(func.set_config(n, v, True) for n, v in zip(names, before, strict=True)))
        )


def _fetch_both(conn, columns: list, where, in_titles) -> tuple[list, list]:
    """Return, from one scan, the title matches' rows and the body-only matches' counts.

    PostgreSQL only. Everything comes back as one string (records joined by RECORD_MARK,
    counts marked by GROUP_MARK): a driver without its C extension spends microseconds on
    each value of each row fetched, which for thousands of candidates would dominate.
    """
    labelled = [c.label(f"c{i}") for i, c in enumerate(columns)]
    found = select(*labelled, in_titles.label("in_titles")).where(where)
    m = found.cte("matched").prefix_with("MATERIALIZED")
    packed = _joined([m.c[f"c{i}"] for i in range(len(columns))]).label("record")
    rows = select(packed).where(m.c.in_titles)
    keys = [m.c[f"c{i}"] for i in (TYPE, DOMAIN, OWNER, EXACT)]
    counted = (literal(GROUP_MARK) + _joined([*keys, func.count()])).label("record")
    counts = select(counted).where(not_(m.c.in_titles)).group_by(*keys)
    records = union_all(rows, counts).subquery()
    joined = conn.execute(select(func.string_agg(records.c.record, RECORD_MARK))).scalar()
    found_rows, groups = [], []
    for value in joined.split(RECORD_MARK) if joined else ():
        if value.startswith(GROUP_MARK):
            groups.append(value[1:].split(TITLE_SEPARATOR))
        else:
            found_rows.append(value.split(TITLE_SEPARATOR, TITLES))
    return found_rows, groups


def _joined(columns: list):
    """Return the SQL text of the columns joined by TITLE_SEPARATOR ('' for NULL)."""
    value = None
    for column in columns:
        part = func.coalesce(cast(column, String), "")
        value = part if value is None else value + TITLE_SEPARATOR + part
    return value


class Facets:
    """Counts per type, domain and owner, each ignoring its own filter; and the total."""

    def __init__(self, chosen, domain, owner) -> None:
        self.chosen, self.domain, self.owner = chosen, domain, owner
        self.counts = {"type": Counter(), "domain": Counter(), "owner": Counter()}
        self.total = 0

    @property
    def unfiltered(self) -> bool:
        return self.chosen is None and self.domain is None and self.owner is None

    def admits(self, kind: str, in_domain: str | None, owned_by: str | None) -> bool:
        """Return whether a match of this type, domain and owner is in the filters."""
        return (
            (self.chosen is None or kind in self.chosen)
            and (self.domain is None or in_domain == self.domain)
            and (self.owner is None or owned_by == self.owner)
        )

    def add(self, kind: str, in_domain: str | None, owned_by: str | None, n: int = 1) -> bool:
        """Count `n` matches; return whether they are in the filters."""
        type_ok = self.chosen is None or kind in self.chosen
        domain_ok = self.domain is None or in_domain == self.domain
        owner_ok = self.owner is None or owned_by == self.owner
        if domain_ok and owner_ok:
            self.counts["type"][kind] += n
        if type_ok and owner_ok and in_domain:
            self.counts["domain"][in_domain] += n
        if type_ok and domain_ok and owned_by:
            self.counts["owner"][owned_by] += n
        found = type_ok and domain_ok and owner_ok
        self.total += n if found else 0
        return found

    def to_dict(self) -> dict:
        return {name: dict(counts.most_common()) for name, counts in self.counts.items()}

    def filters(self) -> list:
        """Return the filters as SQL conditions."""
        found = [d.type.in_(self.chosen)] if self.chosen else []
        found += [d.domain == self.domain] if self.domain else []
        return found + ([d.owner == self.owner] if self.owner else [])


def rank(session: Session, user, query: ParsedQuery, facets: Facets, need: int, now) -> list:
    """Return the best `need` matches as (-score, resource id, tier, candidate), best first.

    Python rates the documents whose titles hold every word (every tier down to typos in a
    title); the many that hold a word only in their body (tiers BODY and FUZZY, ordered by
    popularity alone) are counted in SQL and fetched only when the page reaches them.
    """
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    fts = sqlite and "search_fts" in search_tables(conn)
    where = and_(visible_clause(user, now), match_clause(query.words, fts))
    in_titles = and_(*(in_titles_clause(w) for w in query.words))
    columns = _columns(query)
    body_only = and_(where, not_(in_titles))
    indexed = all(len(n) >= 3 for w in query.words for n in w.alternatives())
    with nullcontext() if sqlite else _planner_hints(conn, indexed):
        if sqlite:
            rows = conn.execute(select(*columns).where(where, in_titles)).all()
            keys = (d.type, d.domain, d.owner, columns[EXACT])
            groups = conn.execute(select(*keys, func.count()).where(body_only).group_by(*keys))
        else:
            rows, groups = _fetch_both(conn, columns, where, in_titles)
        best = _rate(query, rows, facets, need)
        in_titles_only, body_tier = facets.total, Tier.FUZZY
        for kind, in_domain, owned_by, exact, n in groups:
            in_filters = facets.add(kind, in_domain or None, owned_by or None, int(n))
            if in_filters and (not query.loose or exact == "1"):
                body_tier = Tier.BODY
        body_best = -score(body_tier, 0.0, CAPPED_VIEWS)
        if facets.total == in_titles_only or (len(best) == need and best[-1][0] <= body_best):
            return best
        capped = case((d.views_30d > CAPPED_VIEWS, CAPPED_VIEWS), else_=d.views_30d)
        statement = (
            select(*columns)
            .where(body_only, *facets.filters())
            .order_by(columns[EXACT].desc(), capped.desc(), d.resource_id)
            .limit(need)
        )
        for c in _fetch(conn, statement):
            tier = Tier.BODY if not query.loose or c[EXACT] == "1" else Tier.FUZZY
            best.append((-score(tier, 0.0, int(c[VIEWS])), int(c[RID]), tier, c))
    return heapq.nsmallest(need, best)


def _rate(query: ParsedQuery, rows, facets: Facets, need: int) -> list:
    """Rate title matches and count them in the facets; return the best `need` of them."""
    match, ranked, keys = text_matcher(query), [], Counter()
    admits = None if facets.unfiltered else facets.admits
    for c in rows:
        rated = match(c)
        if rated is not None:
            key = (c[TYPE], c[DOMAIN] or None, c[OWNER] or None)
            keys[key] += 1
            if admits is None or admits(*key):
                tier, coverage = rated
                ranked.append((-score(tier, coverage, int(c[VIEWS])), int(c[RID]), tier, c))
    for (kind, in_domain, owned_by), n in keys.items():
        facets.add(kind, in_domain, owned_by, n)
    return heapq.nsmallest(need, ranked)


# -- permission ---------------------------------------------------------------------------------
def is_locked(session: Session, user, resource: Resource) -> bool:
    """Return whether search shows the resource locked (with a request-access action).

    Only datasets lock: one is open to its owner, to the data-reading roles (leader, analyst,
    data owner) and to anyone holding a current view grant (user, group or role); others,
    such as customer managers, find it locked until granted.
    """
    if resource.type != "dataset" or user.role_codes & DATA_READER_ROLES:
        return False
    return not has_permission(session, user, resource.id, "view")


def _locked_ids(session: Session, user, resources, now: datetime) -> set[int]:
    """Return the ids among `resources` that `is_locked` would lock, in one query."""
    if user.role_codes & DATA_READER_ROLES:
        return set()
    datasets = {r.id for r in resources if r.type == "dataset" and r.owner_id != user.id}
    if not datasets:
        return set()
    granted = granted_view(user, now).where(Grant.resource_id.in_(datasets))
    return datasets - set(session.scalars(granted))


# -- results ------------------------------------------------------------------------------------
def _spans(text: str, needles) -> list[list[int]]:
    lowered = text.lower()
    if len(lowered) != len(text):
        return []
    spans = []
    for needle in needles:
        start = lowered.find(needle) if needle else -1
        while start >= 0 and len(spans) < 20:
            spans.append([start, start + len(needle)])
            start = lowered.find(needle, start + len(needle))
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def _snippet(text: str, spans: list[list[int]]) -> tuple[str, list[list[int]]]:
    start = max(0, spans[0][0] - SNIPPET_CHARS)
    end = min(len(text), spans[0][1] + SNIPPET_CHARS)
    cut = text[start:end]
    kept = [[s - start, min(e, end) - start] for s, e in spans if s >= start and s < end]
    return ("…" if start else "") + cut + ("…" if end < len(text) else ""), [
        [s + (1 if start else 0), e + (1 if start else 0)] for s, e in kept
    ]


def highlight(
    query: ParsedQuery, resource: Resource, tier: Tier, english: bool, row
) -> dict | None:
    """Return where the query matched: {"field", "text", "spans": [[start, end], ...]}."""
    if tier in (Tier.PINYIN, Tier.PINYIN_PART):
        form = row.initials if query.compact in row.initials else row.pinyin
        return {"field": "pinyin", "text": form, "spans": _spans(form, [query.compact])}
    if tier >= Tier.PHRASE:
        needles = [query.phrase]
    else:
        needles = [n for w in query.words for n in (w.text, *w.variants, *w.bigrams)]
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    titles = [("title_en", resource.title_en), ("title_zh", resource.title_zh)]
    descriptions = [
        ("description", spec.get("description_en")),
        ("description", resource.description),
    ]
    if not english:
        titles.reverse()
        descriptions.reverse()
    fields = [("title", titles[0][1]), titles[1]]
    fields += [("key", resource.key if is_natural_key(resource.key) else None)]
    fields += [("column", c) for c in column_names(spec)] + descriptions
    for field, value in fields:
        if not isinstance(value, str) or not value:
            continue
        spans = _spans(value, needles)
        if spans:
            if field == "description":
                value, spans = _snippet(value, spans)
            return {"field": field, "text": value, "spans": spans}
    return None


def _result(query, resource, tier, points, row, locked: bool, english: bool) -> dict:
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    if english:
        title = resource.title_en or resource.title_zh
        description = spec.get("description_en") or resource.description
    else:
        title, description = resource.title_zh or resource.title_en, resource.description
    return {
        "id": resource.id,
        "type": resource.type,
        "key": resource.key,
        "title": title,
        "description": description or "",
        "domain": row.domain,
        "owner": row.owner,
        "score": round(points, 3),
        "locked": locked,
        "actions": ["request_access"] if locked else ["open"],
        "highlight": highlight(query, resource, tier, english, row),
    }


# -- the service --------------------------------------------------------------------------------
def _check_types(types) -> frozenset[str] | None:
    if types is None:
        return None
    if isinstance(types, str):
        types = types.split(",")
    if not isinstance(types, list | tuple | set | frozenset):
        raise Invalid(
            _("Unknown resource type: %(type)s", type=str(types)[:20]), code="unknown_type"
        )
    chosen = set()
    for value in types:
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None):
            continue
        if value not in SEARCH_TYPES:
            raise Invalid(
                _("Unknown resource type: %(type)s", type=str(value)[:20]), code="unknown_type"
            )
        chosen.add(value)
    return frozenset(chosen) or None


def _check_number(value, low: int, high: int, code: str, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(message, code=code)
    return value


def _check_query(q) -> str:
    if not isinstance(q, str) or not q.strip():
        raise Invalid(_("Enter something to search for."), code="empty_query")
    q = q.strip()
    if len(q) > MAX_QUERY_CHARS:
        raise Invalid(
            _("The search text is too long: at most %(n)d characters.", n=MAX_QUERY_CHARS),
            code="query_too_long",
        )
    return q


def _check_filter(value, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        raise Invalid(_("Invalid search filter: %(name)s", name=name), code="bad_filter")
    return value


def search(
    session: Session,
    user,
    q: str,
    types=None,
    limit: int = 20,
    offset: int = 0,
    *,
    locale: str | None = "zh_CN",
    domain: str | None = None,
    owner: str | None = None,
) -> dict:
    """Search every resource the user may find; return one page of ranked results and facets.

    `types` (a list or a comma list) keeps results of those types; `domain` and `owner`
    filter on those facets. Each facet counts the matches in the other filters, ignoring its
    own, so that a user can switch between its values.
    """
    q = _check_query(q)
    chosen = _check_types(types)
    limit = _check_number(
        limit, 1, MAX_LIMIT, "bad_limit",
        _("The limit must be a whole number from 1 to %(n)d.", n=MAX_LIMIT),
    )  # fmt: skip
    offset = _check_number(
        offset, 0, MAX_OFFSET, "bad_offset",
        _("The offset must be a whole number from 0 to %(n)d.", n=MAX_OFFSET),
    )  # fmt: skip
    domain, owner = _check_filter(domain, "domain"), _check_filter(owner, "owner")
    query = parse_query(q)
    found = {
        "query": q,
        "total": 0,
        "results": [],
        "facets": {"type": {}, "domain": {}, "owner": {}},
    }
    if not query.words:
        return found
    loosen(query, functools.cache(lambda: vocabulary(session)))
    now = utcnow()
    facets = Facets(chosen, domain, owner)
    page = rank(session, user, query, facets, offset + limit, now)[offset:]
    found["total"], found["facets"] = facets.total, facets.to_dict()
    if not page:
        return found
    ids = [rid for _score, rid, _tier, _c in page]
    resources = {r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))}
    locked = _locked_ids(session, user, resources.values(), now)
    english = (locale or "").startswith("en")
    for negative, rid, tier, c in page:
        if rid in resources:  # else deleted since the search began
            initials, pinyin = c[TITLES].split(TITLE_SEPARATOR)[3:]
            row = Candidate(rid, c[DOMAIN] or None, c[OWNER] or None, initials, pinyin)
            found["results"].append(
                _result(query, resources[rid], tier, -negative, row, rid in locked, english)
            )
    return found
