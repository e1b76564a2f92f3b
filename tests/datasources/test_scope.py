"""Row-level scope and PII masking: no query path shows a row or a PII value it should not."""

from __future__ import annotations

import re
from types import SimpleNamespace

import ibis
import pytest
from flask import Flask
from flask_caching import Cache

from datasources.catalog import load_catalog
from datasources.reference import BRANCHES, descendants
from datasources.relations import FullAccess, relation
from datasources.schema import BRANCH_COLUMN, TABLES, UNSCOPED_TABLES
from datasources.scope import (
    Principal,
    ScopedTables,
    default_rules,
    load_rules,
    mask_column,
    parse_rules,
    scope_branch_ids,
)
from datasources.warehouse import Warehouse
from portal.services.metrics import MetricService
from portal.services.setup import ROLES


def principal(username, branch_id, *roles, user_id=1, groups=(), unmask=()):
    return Principal(
        user_id, username, branch_id, frozenset(roles), frozenset(groups), frozenset(unmask)
    )


BJ_CM = principal("bj_cm", "BJ-CY", "customer_manager")
SH_CM = principal("sh_cm", "SH-PD", "customer_manager")
BJ_LEADER = principal("bj_leader", "BJ", "leader")
HO_LEADER = principal("leader", "HO", "leader")
UNKNOWN = principal("stranger", "HO", "unknown_role")
NO_ROLES = principal("nobody", "HO")
SCOPED = sorted(t for t in TABLES if t not in UNSCOPED_TABLES)
BRANCH_CODES = {b.branch_id for b in BRANCHES if b.level == "branch"}
ID_RETAIL = re.compile(r"^\d{4}\*{10}[\dX]{4}$")
ID_ANY = re.compile(r"^.{4}\*{10}.{4}$")
PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")


@pytest.fixture(scope="module")
def wh(warehouse_url):
    warehouse = Warehouse(warehouse_url)
    yield warehouse
    warehouse.close()


@pytest.fixture(scope="module")
def service(wh):
    return MetricService(wh, load_catalog())


def rows(wh, expr) -> int:
    return int(wh.execute(expr.count().name("n").as_table(), use_cache=False)["n"].iloc[0])


def branch_ids(wh, t) -> set:
    return set(
        wh.execute(t.select(BRANCH_COLUMN).distinct(), use_cache=False)[BRANCH_COLUMN].dropna()
    )


# -- (a) a sub-branch customer manager gets only their sub-branch's rows --------------------------
@pytest.mark.parametrize("name", [t for t in SCOPED if t != "ext_company_registry"])
def test_branch_user_gets_exactly_their_rows(wh, duck, name):
    tables = ScopedTables(wh, BJ_CM)
    expected = duck.execute(f"SELECT COUNT(*) FROM {name} WHERE branch_id = 'BJ-CY'").fetchone()[0]
    assert rows(wh, tables.table(name)) == expected
    assert branch_ids(wh, tables.table(name)) <= {"BJ-CY"}
    if name == "fact_budget":
        assert expected == 0  # budgets are set per branch, none per sub-branch
    else:
        assert expected > 0
        assert (
            duck.execute(f"SELECT COUNT(*) FROM {name} WHERE branch_id LIKE 'SH%'").fetchone()[0]
            > 0
        )


def test_company_registry_keeps_public_rows(wh, duck):
    for who, subtree in ((BJ_CM, ["BJ-CY"]), (BJ_LEADER, sorted(descendants("BJ")))):
        t = ScopedTables(wh, who).table("ext_company_registry")
        listed = ", ".join(f"'{b}'" for b in subtree)
        matched, public = duck.execute(f"""SELECT COUNT(*) FILTER (WHERE branch_id IN ({listed})),
            COUNT(*) FILTER (WHERE branch_id IS NULL) FROM ext_company_registry""").fetchone()
        assert public > 0
        assert rows(wh, t) == matched + public
        assert branch_ids(wh, t) <= set(subtree)
    assert rows(wh, ScopedTables(wh, NO_ROLES).table("ext_company_registry")) == 0


# -- (b) no path leads to a Shanghai row -----------------------------------------------------------
def test_joins_and_derived_relations_stay_in_scope(wh, duck):
    tables = ScopedTables(wh, BJ_CM)
    txn, cust = tables.table("fact_transaction"), tables.table("dim_customer")
    joined = txn.join(cust, "customer_id")
    assert branch_ids(wh, joined) == {"BJ-CY"}
    # Asking for Shanghai customers through the join finds none.
    assert rows(wh, joined.filter(cust.branch_id.startswith("SH"))) == 0
    right = cust.right_join(txn, "customer_id")
    assert set(wh.execute(right.select(b=right.branch_id_right).distinct())["b"]) == {"BJ-CY"}

    org = relation(tables, "org")  # the branch dimension is not scoped: it names, it holds no rows
    assert rows(wh, org) == len(BRANCHES)
    on_org = txn.join(org, "branch_id")
    assert set(wh.execute(on_org.select("branch_code").distinct())["branch_code"]) == {"BJ"}

    cdm = relation(tables, "customer_deposit_monthly")
    full = relation(FullAccess(wh), "customer_deposit_monthly")
    assert branch_ids(wh, cdm) == {"BJ-CY"}
    assert rows(wh, cdm) == rows(wh, full.filter(full.branch_id == "BJ-CY")) > 0
    churned = cdm.filter(cdm.churned)
    assert rows(wh, churned) == rows(wh, full.filter(full.churned & (full.branch_id == "BJ-CY")))


def _by_branch(result) -> dict:
    return {r["branch"]: (r["value"], r["previous"]) for r in result["rows"]}


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a == pytest.approx(b, rel=1e-9, abs=1e-12)


BRANCH_METRICS = [
    m for m, metric in load_catalog().metrics.items() if "branch" in metric.dimensions
]


@pytest.mark.parametrize("metric_id", BRANCH_METRICS)
def test_every_metric_by_branch_equals_full_access_filtered_to_the_sub_branch(
    service, wh, metric_id
):
    got = _by_branch(service.query(ScopedTables(wh, BJ_CM), metric_id, by=["branch"], period="ytd"))
    assert set(got) <= {"BJ"}
    if "sub_branch" not in service.catalog.metrics[metric_id].dimensions:
        assert got == {}  # budgets exist per branch only; a sub-branch user has none
        return
    expected = _by_branch(
        service.query(
            FullAccess(wh),
            metric_id,
            by=["branch"],
            period="ytd",
            filters=[{"field": "sub_branch", "op": "eq", "value": "BJ-CY"}],
        )
    )
    assert got.keys() == expected.keys()
    for key, (value, previous) in expected.items():
        assert _same(got[key][0], value) and _same(got[key][1], previous), (
            metric_id,
            got,
            expected,
        )


# -- (c) masking ----------------------------------------------------------------------------------
def _pii(wh, tables):
    c = tables.table("dim_customer")
    cols = ["customer_id", "customer_type", "name", "id_number", "phone", "address"]
    return wh.execute(c.select(cols).order_by("customer_id"), use_cache=False)


def test_pii_is_masked(wh, duck):
    masked = _pii(wh, ScopedTables(wh, BJ_CM))
    raw = {
        r[0]: r
        for r in duck.execute(
            "SELECT customer_id, name, id_number, phone, address FROM dim_customer WHERE branch_id = 'BJ-CY'"
        ).fetchall()
    }
    assert len(masked) == len(raw) > 0
    for r in masked.itertuples():
        _, name, id_number, phone, address = raw[r.customer_id]
        assert r.name == name[0] + "*" * (len(name) - 1) and r.name.endswith("*")
        assert (ID_RETAIL if r.customer_type == "retail" else ID_ANY).match(r.id_number)
        assert r.id_number[:4] + r.id_number[-4:] == id_number[:4] + id_number[-4:]
        assert PHONE.match(r.phone) and r.phone != phone
        assert r.address == address[:6] + "****"
    reg = ScopedTables(wh, BJ_CM).table("ext_company_registry")
    reps = wh.execute(reg.select("legal_representative"))["legal_representative"].dropna()
    assert len(reps) and all(v.endswith("*") for v in reps)


def test_unmask_grant_shows_raw_values_of_that_table_only(wh, duck):
    tables = ScopedTables(
        wh, principal("bj_cm", "BJ-CY", "customer_manager", unmask={"dim_customer"})
    )
    got = _pii(wh, tables)
    raw = duck.execute("""SELECT customer_id, customer_type, name, id_number, phone, address
        FROM dim_customer WHERE branch_id = 'BJ-CY' ORDER BY customer_id""").fetchall()
    assert [tuple(r) for r in got.itertuples(index=False)] == raw
    reps = wh.execute(tables.table("ext_company_registry").select("legal_representative"))
    assert all(v.endswith("*") for v in reps["legal_representative"].dropna())


MASK_CASES = [
    ("name", "张三", "张*"),
    ("name", "欧阳娜娜", "欧***"),
    ("name", "李", "李"),
    ("id_number", "330106196204111234", "3301**********1234"),
    ("id_number", "33010619620411123X", "3301**********123X"),
    ("id_number", "12345", "*****"),
    ("phone", "13812345678", "138****5678"),
    ("phone", "110", "***"),
    ("address", "北京市朝阳区建国路88号", "北京市朝阳区****"),
    ("address", "朝阳区", "****"),
    ("name", None, None),
    ("id_number", None, None),
    ("phone", None, None),
    ("address", None, None),
]


def _mask_cases(con) -> list:
    t = ibis.memtable(
        {"i": list(range(len(MASK_CASES))), "v": [v for _, v, _ in MASK_CASES]},
        schema={"i": "int64", "v": "string"},
    )
    masked = {f"m{i}": mask_column(t.v, kind) for i, (kind, _, _) in enumerate(MASK_CASES)}
    frame = con.execute(t.mutate(**masked).order_by("i"))
    return [frame[f"m{i}"].iloc[i] for i in range(len(MASK_CASES))]


def test_mask_rules_on_edge_cases():
    got = _mask_cases(ibis.duckdb.connect())
    assert [None if v is None or v != v else v for v in got] == [m for _, _, m in MASK_CASES]


# -- (d) hierarchy and default deny ------------------------------------------------------------------
def test_branch_leader_sees_the_branch_subtree_only(wh, service):
    tables = ScopedTables(wh, BJ_LEADER)
    subs = {b.branch_id for b in BRANCHES if b.parent_id == "BJ"}
    assert branch_ids(wh, tables.table("fact_balance_monthly")) == subs
    assert branch_ids(wh, tables.table("fact_budget")) == {"BJ"}
    result = service.query(tables, "deposit_balance", by=["sub_branch"], period="ytd")
    assert {r["sub_branch"] for r in result["rows"]} == subs
    attainment = service.query(tables, "budget_attainment", by=["branch"], period="ytd")
    full = service.query(FullAccess(wh), "budget_attainment", by=["branch"], period="ytd")
    got, expected = _by_branch(attainment), _by_branch(full)["BJ"]
    assert got.keys() == {"BJ"} and all(map(_same, got["BJ"], expected))


def test_head_office_leader_sees_the_whole_bank(wh, service, duck):
    tables = ScopedTables(wh, HO_LEADER)
    for name in SCOPED:
        assert (
            rows(wh, tables.table(name))
            == duck.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
        )
    result = service.query(tables, "loan_balance", by=["branch"], period="ytd")
    assert {r["branch"] for r in result["rows"]} == BRANCH_CODES and len(BRANCH_CODES) == 12
    full = _by_branch(service.query(FullAccess(wh), "loan_balance", by=["branch"], period="ytd"))
    assert _by_branch(result) == full


@pytest.mark.parametrize(
    "who",
    [UNKNOWN, NO_ROLES, principal("cm_nowhere", None, "customer_manager")],
    ids=["unknown_role", "no_roles", "no_branch"],
)
def test_default_deny_shows_no_rows_and_never_raises(wh, service, who):
    tables = ScopedTables(wh, who)
    assert scope_branch_ids(who) == frozenset() and tables.scope_key == "rows=none"
    for name in SCOPED:
        assert rows(wh, tables.table(name)) == 0, name
    for metric_id in BRANCH_METRICS:
        assert service.query(tables, metric_id, by=["branch"], period="ytd")["rows"] == []
    total = service.query(tables, "deposit_balance")["rows"][0]
    assert total["value"] is None


def test_sh_customer_manager_sees_no_beijing_row(wh):
    tables = ScopedTables(wh, SH_CM)
    assert branch_ids(wh, tables.table("fact_transaction")) == {"SH-PD"}
    assert (
        rows(wh, tables.table("dim_customer").filter(lambda c: c.branch_id.startswith("BJ"))) == 0
    )


# -- rule semantics ---------------------------------------------------------------------------------
RULES = parse_rules(
    {
        "rules": [
            {"name": "staff", "roles": ["customer_manager", "leader"], "clause": "own_branch"},
            {"name": "owners", "roles": ["data_owner"], "clause": "all"},
            {"name": "north_pilot", "groups": ["pilot"], "branches": ["BJ"], "clause": "all"},
            {
                "name": "region_cap",
                "roles": ["capped"],
                "group_key": "region",
                "clause": "own_branch",
            },
            {"name": "frozen", "groups": ["frozen"], "group_key": "suspension", "clause": "none"},
        ]
    }
)


def test_clauses_or_within_a_group_key_and_across_keys():
    assert scope_branch_ids(BJ_CM, RULES) == {"BJ-CY"}
    # Two roles in the same (default) group widen the scope.
    assert (
        scope_branch_ids(principal("x", "BJ-CY", "customer_manager", "data_owner"), RULES) is None
    )
    # A group rule limited to users under BJ: applies in BJ-CY, not in SH-PD.
    assert (
        scope_branch_ids(principal("x", "BJ-CY", "customer_manager", groups={"pilot"}), RULES)
        is None
    )
    assert scope_branch_ids(
        principal("x", "SH-PD", "customer_manager", groups={"pilot"}), RULES
    ) == {"SH-PD"}
    # Different group keys AND: 'all' capped by own_branch, anything capped by 'none'.
    assert scope_branch_ids(principal("x", "SH-PD", "data_owner", "capped"), RULES) == {"SH-PD"}
    assert (
        scope_branch_ids(principal("x", "HO", "data_owner", groups={"frozen"}), RULES)
        == frozenset()
    )
    # Only the group key 'region' matches: no default-group rule is needed to see rows.
    assert scope_branch_ids(principal("x", "BJ", "capped"), RULES) == descendants("BJ")


def test_default_rules_follow_the_role_table():
    for code, _zh, _en, scope in ROLES:
        ids = scope_branch_ids(principal("x", "SH-PD", code))
        if scope == "none":
            assert ids == frozenset(), code
            assert scope_branch_ids(principal("x", "HO", code)) == frozenset(), code
            continue
        assert ids == (None if scope == "all" else {"SH-PD"}), code
        assert scope_branch_ids(principal("x", "HO", code)) is None, code


# -- (e) scope keys ------------------------------------------------------------------------------------
def test_scope_keys_follow_what_is_visible_not_who_asks():
    analysts = [principal(f"analyst{i}", "HO", "analyst", user_id=i) for i in (1, 2)]
    assert analysts[0].key() == analysts[1].key() == HO_LEADER.key()
    assert HO_LEADER.key() == principal("owner", "SH-PD", "data_owner").key()  # both see all
    other_cm = principal("cm2", "BJ-CY", "customer_manager", user_id=99)
    assert other_cm.key() == BJ_CM.key()
    assert "bj_cm" not in BJ_CM.key() and "99" not in other_cm.key()
    keys = {p.key() for p in (BJ_CM, SH_CM, BJ_LEADER, HO_LEADER, UNKNOWN)}
    assert len(keys) == 5
    unmasked = principal("bj_cm", "BJ-CY", "customer_manager", unmask={"dim_customer"})
    assert unmasked.key() != BJ_CM.key()
    # A grant on a table without PII changes nothing, so it must not split the cache.
    assert (
        principal("bj_cm", "BJ-CY", "customer_manager", unmask={"fact_loan"}).key() == BJ_CM.key()
    )
    assert UNKNOWN.key() == NO_ROLES.key()


def test_principal_from_a_portal_user():
    user = SimpleNamespace(
        id=5,
        username="bj_cm",
        branch_id="BJ-CY",
        roles=[SimpleNamespace(code="customer_manager")],
        groups=[SimpleNamespace(name="营销团队")],
    )
    built = Principal.from_user(user, unmask=["dim_customer"])
    assert built == Principal(
        5,
        "bj_cm",
        "BJ-CY",
        frozenset({"customer_manager"}),
        frozenset({"营销团队"}),
        frozenset({"dim_customer"}),
    )


def test_warehouse_cache_never_serves_one_scope_to_another(warehouse_url):
    wh = Warehouse(
        warehouse_url, cache=Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"})
    )
    service = MetricService(wh, load_catalog())
    records = []
    wh.add_listener(lambda r: records.append(r) if r.label.startswith("metric:") else None)
    leader = service.query(ScopedTables(wh, HO_LEADER), "deposit_balance", by=["branch"])
    cm = service.query(ScopedTables(wh, BJ_CM), "deposit_balance", by=["branch"])
    assert len(leader["rows"]) == 12
    assert [r["branch"] for r in cm["rows"]] == ["BJ"]
    assert cm["rows"][0]["value"] < next(r for r in leader["rows"] if r["branch"] == "BJ")["value"]
    assert [r.cached for r in records] == [False, False]
    # Another head-office analyst shares the leader's entry: answered from the metric service's
    # result cache or the warehouse's, never by a new query.
    again = service.query(
        ScopedTables(wh, principal("analyst", "HO", "analyst", user_id=7)),
        "deposit_balance",
        by=["branch"],
    )
    assert again["rows"] == leader["rows"]
    assert all(r.cached for r in records[2:])
    wh.close()


# -- (f) PostgreSQL ---------------------------------------------------------------------------------
@pytest.mark.services
def test_masking_is_identical_on_postgres(wh, pg_warehouse_url):
    pg = Warehouse(pg_warehouse_url)
    try:
        for who in (BJ_CM, HO_LEADER):
            duck_rows = _pii(wh, ScopedTables(wh, who))
            pg_rows = _pii(pg, ScopedTables(pg, who))
            assert len(duck_rows) >= 28
            assert duck_rows.to_dict("records") == pg_rows.to_dict("records")
        assert _mask_cases(pg.backend) == _mask_cases(ibis.duckdb.connect())
    finally:
        pg.close()


# -- (g) rule file validation ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"name": "r1", "roles": ["leader"], "clause": "everything"},
            "rule 'r1': unknown clause kind 'everything'",
        ),
        (
            {"name": "r2", "roles": ["leader"], "clause": "all", "table": "x"},
            "rule 'r2': unknown key 'table'",
        ),
        (
            {"name": "r3", "clause": "all"},
            "rule 'r3': needs at least one of roles, groups, branches",
        ),
        ({"name": "r4", "branches": ["MARS"], "clause": "all"}, "rule 'r4': unknown branch 'MARS'"),
        ({"name": "r5", "roles": "leader", "clause": "all"}, "rule 'r5': 'roles' must be a list"),
        ({"roles": ["leader"], "clause": "all"}, "rule #1: needs a 'name'"),
    ],
)
def test_invalid_rules_are_refused_naming_the_rule(rule, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_rules({"rules": [rule]})


def test_rule_file_errors(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - {name: a, roles: [leader], clause: all}\n"
        "  - {name: a, roles: [analyst], clause: none}\nextra: 1\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as info:
        load_rules(path)
    assert "unknown top-level key 'extra'" in str(info.value)
    assert "rule 'a': duplicate name" in str(info.value)
    with pytest.raises(ValueError, match="'rules' list"):
        parse_rules({"rule": []})
    assert {r.name for r in default_rules()} == {"branch_staff", "data_owners"}
