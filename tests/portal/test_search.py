"""Unified search on SQLite and PostgreSQL: matching, ranking, permissions, facets, freshness."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, inspect, select, text

from datasources.catalog import load_catalog
from portal.errors import Invalid
from portal.models import Grant, Group, Resource, User, View, utcnow
from portal.services.search import dataset_tables, is_locked, search, sync_catalog_resources
from portal.services.search_catalog import DATASETS
from portal.services.search_index import (
    INDEXED_TYPES,
    ensure_index,
    include_object,
    refresh_popularity,
    reindex_all,
    search_documents,
)

# Every resource but the quick-entry tiles (navigation, not content) has a search document.
INDEXED_COUNT = select(func.count()).select_from(Resource).where(Resource.type.in_(INDEXED_TYPES))


def _user(s, name):
    return s.scalar(select(User).where(User.username == name))


def _find(db, username, q, **kwargs):
    with db.session() as s:
        return search(s, _user(s, username), q, **kwargs)


def _titles(result):
    return [r["title"] for r in result["results"]]


def _add(db, owner=None, **fields):
    with db.session() as s, s.begin():
        resource = Resource(
            owner_id=_user(s, owner).id if owner else None,
            **{"title_en": fields.get("title_zh", ""), **fields},
        )
        s.add(resource)
        s.flush()
        return resource.id


@pytest.fixture
def catalog_db(db):
    """The seeded store with a resource per catalog metric and warehouse table."""
    with db.session() as s, s.begin():
        sync_catalog_resources(s, load_catalog())
    return db


# -- the catalog's resources --------------------------------------------------------------------
def test_sync_catalog_resources_is_idempotent(db):
    catalog = load_catalog()
    with db.session() as s, s.begin():
        first = sync_catalog_resources(s, catalog)
    with db.session() as s, s.begin():
        second = sync_catalog_resources(s, catalog)
        metric = s.scalar(select(Resource).where(Resource.key == "deposit_balance"))
        dataset = s.scalar(select(Resource).where(Resource.key == "dim_customer"))
        documents = s.scalar(select(func.count()).select_from(search_documents))
    # init_store (behind the `db` fixture) already registered them: nothing new either time.
    assert first == second == {"created": 0, "updated": 0}
    assert documents >= len(catalog.metrics) + len(dataset_tables())
    assert (metric.type, metric.title_zh, metric.title_en) == (
        "metric",
        "存款余额",
        "Deposit balance",
    )
    assert metric.spec["unit"] == "CNY" and metric.spec["owner"] == "finance"
    assert dataset.type == "dataset" and dataset.spec["domain"] == "customers"
    assert {"name": "phone", "type": "string", "pii": True} in dataset.spec["columns"]
    assert documents == len(catalog.metrics) + len(dataset_tables())
    # Every table the generator writes is a dataset, but not the rollups pivots read unseen.
    assert set(DATASETS) <= set(dataset_tables())
    assert not [t for t in dataset_tables() if t.startswith("agg_")]


def test_sync_keeps_spec_keys_others_added(db):
    with db.session() as s, s.begin():
        sync_catalog_resources(s, load_catalog())
        s.scalar(select(Resource).where(Resource.key == "loan_balance")).spec = {
            "unit": "old",
            "featured": True,
        }
    with db.session() as s, s.begin():
        assert sync_catalog_resources(s, load_catalog()) == {"created": 0, "updated": 1}
        spec = s.scalar(select(Resource).where(Resource.key == "loan_balance")).spec
    assert spec["featured"] is True and spec["unit"] == "CNY"


# -- matching -----------------------------------------------------------------------------------
def test_chinese_substring_without_spaces(catalog_db):
    result = _find(catalog_db, "leader", "存款")
    titles = _titles(result)
    assert {"存款余额", "定期存款余额"} <= set(titles)
    assert titles.index("存款余额") < titles.index("定期存款余额")  # prefix beats inside
    assert result["results"][0]["highlight"]["spans"] == [[0, 2]]
    assert _titles(_find(catalog_db, "leader", "定期存款余额"))[0] == "定期存款余额"


def test_pinyin_initials_and_full_pinyin(catalog_db):
    first = _find(catalog_db, "leader", "ckye")["results"]
    assert first[0]["title"] == "存款余额"
    assert first[0]["highlight"] == {"field": "pinyin", "text": "ckye", "spans": [[0, 4]]}
    assert "定期存款余额" in [r["title"] for r in first]
    assert _titles(_find(catalog_db, "leader", "bll"))[0] == "不良率"
    assert _titles(_find(catalog_db, "leader", "CKYE"))[0] == "存款余额"
    assert _titles(_find(catalog_db, "leader", "cunkuanyue"))[0] == "存款余额"


def test_english_typos_are_tolerated(catalog_db):
    result = _find(catalog_db, "leader", "depost balanse", locale="en")
    assert result["results"][0]["title"] == "Deposit balance"
    assert "Time deposit balance" in _titles(result)
    assert _titles(_find(catalog_db, "leader", "custmers", locale="en"))[0] == "Customers"
    # Short words get no typo tolerance: "npk" is not "npl".
    assert _find(catalog_db, "leader", "npk ratio", locale="en")["total"] == 0


def test_english_title_and_column_names(catalog_db):
    result = _find(catalog_db, "leader", "Deposit balance", locale="en")
    assert result["results"][0]["title"] == "Deposit balance"
    assert result["results"][0]["score"] > result["results"][1]["score"]
    column = _find(catalog_db, "leader", "end_balance", locale="en")["results"]
    assert [r["key"] for r in column] == ["fact_balance_monthly"]
    assert column[0]["highlight"] == {"field": "column", "text": "end_balance", "spans": [[0, 11]]}


def test_exact_beats_phrase_beats_fuzzy_whatever_the_popularity(catalog_db):
    with catalog_db.session() as s, s.begin():
        leader = _user(s, "leader")
        popular = s.scalar(select(Resource.id).where(Resource.key == "time_deposit_balance"))
        s.add_all(View(user_id=leader.id, resource_id=popular) for _ in range(500))
    result = _find(catalog_db, "leader", "Deposit balance", locale="en")
    assert _titles(result)[:2] == ["Deposit balance", "Time deposit balance"]
    # Popularity orders results within a tier (both are typo matches here) ...
    fuzzy = _find(catalog_db, "leader", "depost balanse", locale="en")
    assert _titles(fuzzy)[:2] == ["Time deposit balance", "Deposit balance"]
    # ... but never lifts one above a better tier: the words in another order are not the
    # phrase, however often Time deposit balance is opened.
    reordered = _find(catalog_db, "leader", "balance deposit", locale="en")["results"]
    assert all(r["score"] < 50 for r in reordered)
    exact = _find(catalog_db, "leader", "deposit balance", locale="en")["results"][0]["score"]
    assert exact > _find(catalog_db, "leader", "depost balanse", locale="en")["results"][0]["score"]


def test_popularity_breaks_ties_within_a_tier(db):
    first = _add(db, type="report", key="a", title_zh="渠道月报甲", spec={"published": True})
    second = _add(db, type="report", key="b", title_zh="渠道月报乙", spec={"published": True})
    assert [r["id"] for r in _find(db, "leader", "渠道月报")["results"]] == [first, second]
    with db.session() as s, s.begin():
        leader = _user(s, "leader")
        s.add_all(View(user_id=leader.id, resource_id=second) for _ in range(3))
        # A view older than 30 days does not count once popularity is recounted.
        s.add_all(
            View(user_id=leader.id, resource_id=first, at=utcnow() - timedelta(days=40))
            for _ in range(10)
        )
    with db.session() as s, s.begin():
        refresh_popularity(s)
    assert [r["id"] for r in _find(db, "leader", "渠道月报")["results"]] == [second, first]


def test_body_matches_follow_title_matches_and_popularity(db):
    in_title = _add(db, type="report", key="t", title_zh="季度回顾", spec={"published": True})
    quiet, popular, typo = (
        _add(
            db,
            type="report",
            key=key,
            title_zh=title,
            description=description,
            spec={"published": True},
        )
        for key, title, description in (
            ("b1", "经营月报", "本月经营季度回顾"),
            ("b2", "经营周报", "含季度回顾摘要"),
            ("b3", "Quarterly notes", "A quartely review of the branches"),
        )
    )
    with db.session() as s, s.begin():
        leader = _user(s, "leader")
        s.add_all(View(user_id=leader.id, resource_id=popular) for _ in range(5))
    ids = [r["id"] for r in _find(db, "leader", "季度回顾")["results"]]
    assert ids == [in_title, popular, quiet]
    pages = [_find(db, "leader", "季度回顾", limit=1, offset=o) for o in range(4)]
    assert [r["id"] for p in pages for r in p["results"]] == ids
    assert {p["total"] for p in pages} == {3}
    review = _find(db, "leader", "quarterly review", locale="en")["results"]
    assert [r["id"] for r in review] == [typo]  # one word in the title, the other in the body


# -- permissions --------------------------------------------------------------------------------
def test_private_dashboards_are_invisible_to_others(db):
    private = _add(db, "analyst", type="dashboard", key="p", title_zh="流失分析仪表盘")
    public = _add(
        db,
        "analyst",
        type="dashboard",
        key="q",
        title_zh="流失预警仪表盘",
        spec={"published": True},
    )
    assert {r["id"] for r in _find(db, "analyst", "仪表盘")["results"]} == {private, public}
    seen = _find(db, "bj_cm", "仪表盘")
    assert [r["id"] for r in seen["results"]] == [public] and seen["total"] == 1
    assert seen["facets"]["type"] == {"dashboard": 1}
    with db.session() as s, s.begin():
        group = s.scalar(select(Group).where(Group.name == "营销团队"))
        s.add(
            Grant(subject_type="group", subject_id=group.id, resource_id=private, permission="edit")
        )
    assert {r["id"] for r in _find(db, "bj_cm", "仪表盘")["results"]} == {private, public}
    with db.session() as s, s.begin():
        s.execute(delete(Grant).where(Grant.resource_id == private))
        expired = utcnow() - timedelta(days=1)
        bj_cm = _user(s, "bj_cm")
        s.add(
            Grant(
                subject_type="user",
                subject_id=bj_cm.id,
                resource_id=private,
                permission="view",
                expires_at=expired,
            )
        )
    assert [r["id"] for r in _find(db, "bj_cm", "仪表盘")["results"]] == [public]


def test_datasets_are_locked_for_customer_managers_until_granted(catalog_db):
    def customers(username):
        found = _find(catalog_db, username, "客户维表")["results"]
        return next(r for r in found if r["key"] == "dim_customer")

    locked = customers("bj_cm")
    assert locked["locked"] is True and locked["actions"] == ["request_access"]
    assert customers("leader")["locked"] is False and customers("leader")["actions"] == ["open"]
    assert customers("analyst")["locked"] is False
    metric = _find(catalog_db, "bj_cm", "存款余额")["results"][0]
    assert metric["locked"] is False and metric["actions"] == ["open"]
    with catalog_db.session() as s, s.begin():
        bj_cm = _user(s, "bj_cm")
        dataset = s.scalar(select(Resource).where(Resource.key == "dim_customer"))
        assert is_locked(s, bj_cm, dataset) is True
        s.add(
            Grant(
                subject_type="user", subject_id=bj_cm.id, resource_id=dataset.id, permission="view"
            )
        )
        s.flush()
        assert is_locked(s, bj_cm, dataset) is False
    assert customers("bj_cm")["locked"] is False and customers("bj_cm")["actions"] == ["open"]
    assert customers("sh_cm")["locked"] is True


# -- facets and paging --------------------------------------------------------------------------
def test_facets_count_every_match_and_ignore_their_own_filter(catalog_db):
    _add(
        catalog_db,
        "analyst",
        type="report",
        key="r1",
        title_zh="客户月报",
        spec={"published": True, "domain": "customers"},
    )
    everything = _find(catalog_db, "leader", "客户")
    facets = everything["facets"]
    assert facets["type"]["report"] == 1 and facets["type"]["dataset"] >= 1
    assert sum(facets["type"].values()) == everything["total"]
    assert facets["domain"]["customers"] >= 2 and facets["owner"]["analyst"] == 1
    assert facets["owner"]["retail"] >= 1  # a metric's owner is its department
    reports = _find(catalog_db, "leader", "客户", types=["report"])
    assert reports["total"] == 1 and [r["type"] for r in reports["results"]] == ["report"]
    assert reports["facets"]["type"] == facets["type"]
    assert reports["facets"]["domain"] == {"customers": 1}
    both = _find(catalog_db, "leader", "客户", types="report,dataset")
    assert {r["type"] for r in both["results"]} == {"report", "dataset"}
    in_domain = _find(catalog_db, "leader", "客户", domain="customers")
    assert {r["domain"] for r in in_domain["results"]} == {"customers"}


def test_paging_is_stable(catalog_db):
    whole = _find(catalog_db, "leader", "客户", limit=100)
    pages = [_find(catalog_db, "leader", "客户", limit=3, offset=o)["results"] for o in (0, 3, 6)]
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in whole["results"]][:9]


# -- the index stays current --------------------------------------------------------------------
def test_renaming_and_deleting_update_the_index(db):
    report = _add(db, type="report", key="x", title_zh="代发工资月报", spec={"published": True})
    assert _titles(_find(db, "leader", "代发工资", types="report")) == ["代发工资月报"]
    with db.session() as s, s.begin():
        renamed = s.get(Resource, report)
        renamed.title_zh, renamed.title_en = "理财产品周报", "Wealth products weekly"
    assert _find(db, "leader", "代发工资", types="report")["total"] == 0
    assert _titles(_find(db, "leader", "lccpzb")) == ["理财产品周报"]
    with db.session() as s, s.begin():
        s.get(Resource, report).spec = {"published": False}
    assert _find(db, "bj_cm", "理财产品", types="report")["total"] == 0
    with db.session() as s, s.begin():
        s.delete(s.get(Resource, report))
    assert _find(db, "leader", "理财产品", types="report")["total"] == 0
    with db.session() as s:
        assert s.get(Resource, report) is None
        documents = select(func.count()).select_from(search_documents)
        assert s.scalar(documents.where(search_documents.c.resource_id == report)) == 0
        assert s.scalar(documents) == s.scalar(INDEXED_COUNT)


def test_bulk_inserts_are_indexed_by_ensure_index(db):
    with db.session() as s, s.begin():
        s.execute(
            insert(Resource),
            [
                {
                    "type": "app",
                    "key": "k1",
                    "title_zh": "客户画像",
                    "title_en": "Customer profile",
                    "spec": {"published": True},
                }
            ],
        )
    assert _find(db, "leader", "客户画像")["total"] == 0
    with db.session() as s, s.begin():
        assert ensure_index(s) == 1
        assert ensure_index(s) == 0
    assert _titles(_find(db, "leader", "khhx")) == ["客户画像"]
    with db.session() as s, s.begin():
        assert reindex_all(s) == s.scalar(INDEXED_COUNT)
    assert _titles(_find(db, "leader", "Customer profile", locale="en")) == ["Customer profile"]


def test_the_index_tables_are_kept_out_of_autogenerate(db):
    from portal.db import create_store_engine

    engine = create_store_engine(db.url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"search_documents", "search_terms"} <= tables
    assert include_object(None, "search_documents", "table", True, None) is False
    assert include_object(None, "resources", "table", True, None) is True


# -- literal text and bad input -----------------------------------------------------------------
def test_wildcards_quotes_and_sql_are_literal(db):
    with db.session() as s:
        before = s.scalar(select(func.count()).select_from(Resource))
    rate = _add(
        db,
        type="report",
        key="r",
        title_zh="达成率 100%",
        title_en="Attainment 100%",
        spec={"published": True},
    )
    quoted = _add(
        db,
        type="report",
        key="q",
        title_zh="O'Brien 的报表",
        title_en="O'Brien's report",
        spec={"published": True},
    )
    _add(
        db,
        type="report",
        key="u",
        title_zh="a_b 报表",
        title_en="a_b report",
        spec={"published": True},
    )
    assert [r["id"] for r in _find(db, "leader", "100%")["results"]] == [rate]
    assert _find(db, "leader", "%%")["total"] == 0
    assert _find(db, "leader", "a%b")["total"] == 0
    assert _find(db, "leader", "__")["total"] == 0
    assert _titles(_find(db, "leader", "a_b", locale="en")) == ["a_b report"]
    assert _find(db, "leader", "axb")["total"] == 0
    assert [r["id"] for r in _find(db, "leader", "o'brien")["results"]] == [quoted]
    assert _find(db, "leader", '"达成率"')["results"][0]["id"] == rate
    assert _find(db, "leader", "x'); DROP TABLE resources; --")["total"] == 0
    assert _find(db, "leader", '" OR 1=1 --')["total"] == 0
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Resource)) == before + 3


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"q": ""}, "empty_query"),
        ({"q": "   "}, "empty_query"),
        ({"q": None}, "empty_query"),
        ({"q": "存" * 201}, "query_too_long"),
        ({"q": "存款", "limit": 0}, "bad_limit"),
        ({"q": "存款", "limit": 101}, "bad_limit"),
        ({"q": "存款", "offset": -1}, "bad_offset"),
        ({"q": "存款", "types": ["spreadsheet"]}, "unknown_type"),
        ({"q": "存款", "types": "metric,tile"}, "unknown_type"),
    ],
)
def test_bad_queries_are_refused(db, kwargs, code):
    with db.session() as s, pytest.raises(Invalid) as caught:
        search(s, _user(s, "leader"), **kwargs)
    assert caught.value.code == code


def test_punctuation_only_finds_nothing(db):
    assert _find(db, "leader", "，。") == {
        "query": "，。",
        "total": 0,
        "results": [],
        "facets": {"type": {}, "domain": {}, "owner": {}},
    }


def test_search_scans_with_like_when_sqlite_lacks_fts5(catalog_db):
    if not catalog_db.url.startswith("sqlite"):
        pytest.skip("FTS5 is SQLite's")
    with catalog_db.session() as s, s.begin():
        s.execute(text("DROP TABLE search_fts"))
    assert _titles(_find(catalog_db, "leader", "存款"))[:1] == ["存款余额"]
    assert _titles(_find(catalog_db, "leader", "depost balanse", locale="en"))[0] == (
        "Deposit balance"
    )
    assert "定期存款余额" in _titles(_find(catalog_db, "leader", "定期存款额"))
    _add(catalog_db, type="report", key="r", title_zh="新报表", spec={"published": True})
    assert _titles(_find(catalog_db, "leader", "xbb")) == ["新报表"]


def test_planner_hints_do_not_outlive_the_search(catalog_db):
    if not catalog_db.url.startswith("postgresql"):
        pytest.skip("planner settings are PostgreSQL's")
    with catalog_db.session() as s:
        search(s, _user(s, "leader"), "deposit")
        settings = s.execute(
            text("SELECT current_setting('enable_seqscan'), current_setting('random_page_cost')")
        ).one()
    assert tuple(settings) == ("on", "4")
