"""The unified search index (SPEC §3.1): one document per resource, kept current automatically.

A document holds what search matches, folded (NFKC, lower case): both titles, the key, the
Chinese title's pinyin initials and full pinyin (存款余额 -> `ckye`, `cunkuanyue`), the
description in both languages, tags, a dataset's column names and the owner (`body`). Its
`grams` are the Chinese characters and character pairs of that text, each padded to three
characters with a private-use mark (存款 -> `存款\ue000`), so that the trigram indexes (FTS5
trigram on SQLite, pg_trgm on PostgreSQL) also serve one- and two-character Chinese words;
`title_grams` are those of the titles alone.
Every distinct Latin word goes to `search_terms`, the vocabulary typo tolerance looks in.
Type, owner and the published flag are copied into the document so that search filters
without joining `resources`.

SQLAlchemy `after_flush` hooks index every Resource a session inserts or changes and drop
every one it deletes, so no code path has to remember to. Bulk `UPDATE` / `INSERT` statements
bypass the ORM and its hooks: run `reindex_all` (or `ensure_index`) after them. A JSON `spec`
changed in place is not seen either; assign a new dict. Views recorded through the ORM bump
their resource's popularity at once; `refresh_popularity` recounts the last 30 days (daily).

The tables are named `search_*` and live outside the models' metadata (migration 0002);
`include_object` keeps Alembic's autogenerate away from them.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import combinations

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from portal.models import Resource, User, View
from portal.models.base import UTCDateTime, utcnow
from portal.models.resources import RESOURCE_TYPES

log = logging.getLogger(__name__)

# Quick-entry tiles are navigation, not content: everything else is searchable.
INDEXED_TYPES = tuple(t for t in RESOURCE_TYPES if t != "tile")
INDEXED_FIELDS = ("type", "key", "title_zh", "title_en", "description", "owner_id", "spec")
POPULARITY_DAYS = 30
MAX_TYPO_TERM = 16  # longer words are not corrected towards (their typo tables grow fast)
SEARCH_TABLE_PREFIX = "search_"
_CHUNK = 500

SEARCH_METADATA = MetaData()
search_documents = Table(
    "search_documents",
    SEARCH_METADATA,
    Column("resource_id", Integer, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("owner_id", Integer),
    Column("published", Boolean, nullable=False, default=False),
    Column("domain", String(32)),
    Column("owner", String(64)),
    # Folded title_zh, title_en, key (unless generated), pinyin initials and full pinyin, in
    # one value separated by TITLE_SEPARATOR: search ranks thousands of candidates at a time.
    Column("titles", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("grams", Text, nullable=False),
    Column("title_grams", Text, nullable=False),
    Column("views_30d", Integer, nullable=False, default=0),
    Column("indexed_at", UTCDateTime(), nullable=False),
)
search_terms = Table("search_terms", SEARCH_METADATA, Column("term", String(64), primary_key=True))

CJK_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK_CHARS}]")
WORD_RE = re.compile(r"[a-z0-9]+")
CJK_RUN_RE = re.compile(f"[{CJK_CHARS}]+")
GENERATED_KEY_RE = re.compile(r"[0-9a-f]{32}")
# Pads one- and two-character Chinese grams to a trigram; removed from any input text.
GRAM_MARK = "\ue000"
TITLE_SEPARATOR = "\x1f"
# Control characters never reach a document: search uses some as separators.
CONTROL_RE = re.compile(r"[\x00-\x1f]")
FTS_COLUMNS = ("resource_id", "body", "grams", "title_grams")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Tell Alembic's autogenerate to skip the search index's tables (pass to `configure`)."""
    if type_ == "table":
        return not str(name).startswith(SEARCH_TABLE_PREFIX)
    table = getattr(obj, "table", None)
    return table is None or not str(table.name).startswith(SEARCH_TABLE_PREFIX)


# -- text -------------------------------------------------------------------------------------
def fold(value) -> str:
    """Return text normalised for matching: NFKC, lower case, single spaces."""
    if not value:
        return ""
    folded = unicodedata.normalize("NFKC", str(value)).lower()
    folded = CONTROL_RE.sub(" ", folded.replace(GRAM_MARK, ""))
    return " ".join(folded.split())


def gram(chars: str) -> str:
    """Return a one- or two-character Chinese word as the padded gram documents hold."""
    return chars + GRAM_MARK * (3 - len(chars))


def chinese_grams(text: str) -> str:
    """Return the padded single characters and character pairs of the Chinese in `text`."""
    grams = {}
    for run in CJK_RUN_RE.findall(text):
        for i, char in enumerate(run):
            grams[gram(char)] = None
            if i + 1 < len(run):
                grams[gram(run[i : i + 2])] = None
    return " ".join(grams)


def pinyin_forms(title: str | None) -> tuple[str, str]:
    """Return the pinyin initials and the full pinyin of a Chinese title ('', '' if none)."""
    if not title or not CJK_RE.search(title):
        return "", ""
    # Imported here: its phrase tables are large, and only indexing needs them.
    from pypinyin import Style, lazy_pinyin

    initials = "".join(lazy_pinyin(title, style=Style.FIRST_LETTER))
    full = "".join(lazy_pinyin(title))
    return "".join(WORD_RE.findall(fold(initials))), "".join(WORD_RE.findall(fold(full)))


def is_natural_key(key: str | None) -> bool:
    """Return whether a key names something (a metric id, a table), not a generated uuid."""
    return bool(key) and not GENERATED_KEY_RE.fullmatch(key)


def column_names(spec) -> list[str]:
    """Return the column names listed in a dataset's spec (strings or {"name": ...})."""
    columns = spec.get("columns") if isinstance(spec, dict) else None
    names = []
    for column in columns if isinstance(columns, list) else ():
        name = column.get("name") if isinstance(column, dict) else column
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def build_document(resource: Resource, owner: tuple[str, str] | None = None) -> dict:
    """Return the search document of a resource; `owner` is (username, display name).

    Its `terms` (not a column) are the words typo tolerance may correct towards: words of
    3 to 32 Latin letters, not the pinyin (typo tolerance is for English).
    """
    spec = resource.spec if isinstance(resource.spec, dict) else {}
    key = fold(resource.key) if is_natural_key(resource.key) else ""
    title_zh, title_en = fold(resource.title_zh), fold(resource.title_en)
    initials, full = pinyin_forms(resource.title_zh)
    owner_label = (
        owner[0] if owner else (spec.get("owner") if isinstance(spec.get("owner"), str) else None)
    )
    domain = spec.get("domain") if isinstance(spec.get("domain"), str) else None
    parts = [
        title_zh,
        title_en,
        key,
        initials,
        full,
        fold(resource.description),
        fold(spec.get("description_en")),
        fold(" ".join(_strings(spec.get("tags")) + _strings(spec.get("keywords")))),
        fold(" ".join(column_names(spec))),
        fold(" ".join(owner)) if owner else fold(owner_label),
    ]
    text = "\n".join(p for p in parts if p)
    latin = " ".join(p for p in parts if p not in (initials, full))
    return {
        "resource_id": resource.id,
        "type": resource.type,
        "owner_id": resource.owner_id,
        "published": spec.get("published") is True,
        "domain": domain[:32] if domain else None,
        "owner": owner_label[:64] if owner_label else None,
        "titles": TITLE_SEPARATOR.join((title_zh, title_en, key, initials, full)),
        "body": text,
        "grams": chinese_grams(text),
        "title_grams": chinese_grams(" ".join((title_zh, title_en, key))),
        "terms": {w for w in WORD_RE.findall(latin) if 3 <= len(w) <= 32 and w.isalpha()},
    }


# -- storage ----------------------------------------------------------------------------------
def search_tables(conn: Connection) -> set[str]:
    """Return which of search_documents / search_fts exist in the connected store."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(
            text(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND name IN ('search_documents', 'search_fts')"
            )
        )
        return {row[0] for row in rows}
    if conn.dialect.name == "postgresql":
        found = conn.execute(text("SELECT to_regclass('search_documents')")).scalar()
        return {"search_documents"} if found else set()
    return set(inspect(conn).get_table_names()) & {"search_documents"}


def _chunks(items: list, size: int = _CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _owners(conn: Connection, owner_ids: set[int]) -> dict[int, tuple[str, str]]:
    owners = {}
    for ids in _chunks(sorted(owner_ids)):
        query = select(User.id, User.username, User.display_name).where(User.id.in_(ids))
        owners.update({row.id: (row.username, row.display_name) for row in conn.execute(query)})
    return owners


def _recent_views(conn: Connection, resource_ids: list[int], now: datetime) -> Counter:
    counts: Counter = Counter()
    cutoff = now - timedelta(days=POPULARITY_DAYS)
    for ids in _chunks(resource_ids):
        query = (
            select(View.resource_id, func.count())
            .where(View.resource_id.in_(ids), View.at >= cutoff)
            .group_by(View.resource_id)
        )
        counts.update(dict(conn.execute(query).all()))
    return counts


def _insert_terms(conn: Connection, terms: set[str]) -> None:
    if not terms:
        return
    rows = [{"term": t} for t in sorted(terms)]
    if conn.dialect.name == "sqlite":
        statement = sqlite_insert(search_terms).on_conflict_do_nothing()
    elif conn.dialect.name == "postgresql":
        statement = pg_insert(search_terms).on_conflict_do_nothing()
    else:
        known = set(conn.scalars(select(search_terms.c.term)))
        rows = [r for r in rows if r["term"] not in known]
        statement = insert(search_terms)
    for chunk in _chunks(rows):
        conn.execute(statement, chunk)


def _delete_documents(conn: Connection, ids: list[int], fts: bool) -> None:
    for chunk in _chunks(ids):
        conn.execute(delete(search_documents).where(search_documents.c.resource_id.in_(chunk)))
        if fts:
            conn.execute(
                text("DELETE FROM search_fts WHERE rowid = :id"), [{"id": i} for i in chunk]
            )


def write_documents(conn: Connection, resources: list[Resource], tables: set[str] | None = None):
    """Index the given resources (replacing their documents); drop those not searchable."""
    tables = search_tables(conn) if tables is None else tables
    if "search_documents" not in tables or not resources:
        return
    fts = "search_fts" in tables
    now = utcnow()
    indexed = [r for r in resources if r.type in INDEXED_TYPES]
    _delete_documents(conn, sorted({r.id for r in resources}), fts)
    if not indexed:
        return
    owners = _owners(conn, {r.owner_id for r in indexed if r.owner_id is not None})
    views = _recent_views(conn, [r.id for r in indexed], now)
    documents, terms = [], set()
    for resource in indexed:
        doc = build_document(resource, owners.get(resource.owner_id))
        doc.update(views_30d=views.get(resource.id, 0), indexed_at=now)
        terms |= doc.pop("terms")
        documents.append(doc)
    for chunk in _chunks(documents):
        conn.execute(insert(search_documents), chunk)
        if fts:
            conn.execute(
                text(
                    "INSERT INTO search_fts (rowid, body, grams, title_grams) "
                    "VALUES (:resource_id, :body, :grams, :title_grams)"
                ),
                [{k: doc[k] for k in FTS_COLUMNS} for doc in chunk],
            )
    _insert_terms(conn, terms)


def index_resource(session: Session, resource: Resource) -> None:
    """Write (or rewrite) one resource's search document. Does not commit."""
    if resource.id is None:
        session.flush()  # the after_flush hook indexes it
        return
    write_documents(session.connection(), [resource])


def remove_resource(session: Session, resource: Resource | int) -> None:
    """Drop a resource's search document. Does not commit."""
    conn = session.connection()
    tables = search_tables(conn)
    if "search_documents" in tables:
        resource_id = resource if isinstance(resource, int) else resource.id
        _delete_documents(conn, [resource_id], "search_fts" in tables)


def reindex_all(session: Session) -> int:
    """Rebuild every search document from the resources; return how many were indexed."""
    conn = session.connection()
    tables = search_tables(conn)
    if "search_documents" not in tables:
        return 0
    conn.execute(delete(search_documents))
    if "search_fts" in tables:
        conn.execute(text("DELETE FROM search_fts"))
    ids = list(session.scalars(select(Resource.id).where(Resource.type.in_(INDEXED_TYPES))))
    for chunk in _chunks(ids):
        write_documents(
            conn, list(session.scalars(select(Resource).where(Resource.id.in_(chunk)))), tables
        )
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE search_documents"))  # plans need statistics after a rebuild
    return len(ids)


def ensure_index(session: Session) -> int:
    """Index the searchable resources that have no document yet; return how many."""
    conn = session.connection()
    tables = search_tables(conn)
    if "search_documents" not in tables:
        return 0
    missing = select(Resource).where(
        Resource.type.in_(INDEXED_TYPES),
        Resource.id.not_in(select(search_documents.c.resource_id)),
    )
    resources = list(session.scalars(missing))
    for chunk in _chunks(resources):
        write_documents(conn, chunk, tables)
    return len(resources)


def refresh_popularity(session: Session, now: datetime | None = None) -> None:
    """Recount every document's views of the last 30 days (run daily; views age out)."""
    if "search_documents" not in search_tables(session.connection()):
        return
    cutoff = (now or utcnow()) - timedelta(days=POPULARITY_DAYS)
    recent = (
        select(func.count())
        .where(View.resource_id == search_documents.c.resource_id, View.at >= cutoff)
        .scalar_subquery()
    )
    session.execute(update(search_documents).values(views_30d=recent))


# -- hooks ------------------------------------------------------------------------------------
def _recent(at: datetime | None, since: datetime) -> bool:
    if at is None:
        return True
    return (at if at.tzinfo else at.replace(tzinfo=UTC)) >= since


def _changed(resource: Resource) -> bool:
    state = inspect(resource)
    return any(state.attrs[name].history.has_changes() for name in INDEXED_FIELDS)


def _after_flush(session: Session, flush_context) -> None:
    """Index the resources this flush inserted or changed, drop deleted ones, count views."""
    changed: list[Resource] = []
    views: Counter = Counter()
    recent = utcnow() - timedelta(days=POPULARITY_DAYS)
    for obj in session.new:
        if isinstance(obj, Resource):
            changed.append(obj)
        elif isinstance(obj, View) and obj.resource_id is not None and _recent(obj.at, recent):
            views[obj.resource_id] += 1
    deleted = [o.id for o in session.deleted if isinstance(o, Resource) and o.id is not None]
    changed += [
        o
        for o in session.dirty
        if isinstance(o, Resource) and o not in session.deleted and _changed(o)
    ]
    if not (changed or deleted or views):
        return
    conn = session.connection()
    tables = search_tables(conn)
    if "search_documents" not in tables:
        return  # the store predates migration 0002
    if deleted:
        _delete_documents(conn, deleted, "search_fts" in tables)
    if changed:
        write_documents(conn, changed, tables)
    for resource_id, count in views.items():
        conn.execute(
            update(search_documents)
            .where(search_documents.c.resource_id == resource_id)
            .values(views_30d=search_documents.c.views_30d + count)
        )


def install_hooks() -> None:
    """Keep the index current on every ORM flush (idempotent; done on import)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install_hooks()


# -- vocabulary for typo tolerance ------------------------------------------------------------
def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the edit distance (adjacent swaps count one), or limit + 1 if it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1] if row[-1] <= limit else limit + 1


def _deletes(word: str, depth: int) -> set[str]:
    variants = {word}
    for n in range(1, min(depth, len(word) - 1) + 1):
        for drop in combinations(range(len(word)), n):
            variants.add("".join(c for i, c in enumerate(word) if i not in drop))
    return variants


def allowed_typos(token: str) -> int:
    """Return how many typos a query word may contain: 0 below 4 letters, 1, 2 from 8."""
    return 0 if len(token) < 4 else 1 if len(token) < 8 else 2


class Vocabulary:
    """The index's words, with a symmetric-delete table to find near spellings quickly."""

    def __init__(self, terms) -> None:
        self.terms = frozenset(terms)
        self._prefixes = {t[:n] for t in self.terms for n in range(4, len(t))}
        by_delete: dict[str, list[str]] = defaultdict(list)
        for term in self.terms:
            if len(term) <= MAX_TYPO_TERM:
                for variant in _deletes(term, 2 if len(term) >= 6 else 1):
                    by_delete[variant].append(term)
        # Tuples of strings are not tracked by the garbage collector; lists would be.
        self._by_delete = {variant: tuple(terms) for variant, terms in by_delete.items()}

    def knows(self, token: str) -> bool:
        """Return whether the token is a word of the index or the start of one."""
        return token in self.terms or token in self._prefixes

    def similar(self, token: str, limit: int = 8) -> list[str]:
        """Return the index's words within the allowed typos of `token`, closest first."""
        typos = allowed_typos(token)
        if not typos:
            return []
        found = {}
        for variant in _deletes(token, typos):
            for term in self._by_delete.get(variant, ()):
                if term != token and term not in found:
                    distance = edit_distance(token, term, typos)
                    if distance <= typos:
                        found[term] = distance
        ranked = sorted(found, key=lambda t: (found[t], abs(len(t) - len(token)), t))
        return ranked[:limit]


_vocabularies: dict[str, tuple[int, Vocabulary]] = {}
_vocabulary_lock = threading.Lock()


def vocabulary(session: Session) -> Vocabulary:
    """Return the store's vocabulary, rebuilt in this process only when words were added."""
    conn = session.connection()
    key = conn.engine.url.render_as_string(hide_password=True)
    stamp = conn.execute(select(func.count()).select_from(search_terms)).scalar_one()
    cached = _vocabularies.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    built = Vocabulary(conn.scalars(select(search_terms.c.term)))
    with _vocabulary_lock:
        if len(_vocabularies) > 32:
            _vocabularies.clear()
        _vocabularies[key] = (stamp, built)
    return built
