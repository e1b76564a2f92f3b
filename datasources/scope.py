"""Row-level scope and PII masking: the table provider that a user's queries go through.

`ScopedTables(warehouse, principal)` hands out warehouse tables already filtered to the rows
the principal may see and with PII columns masked, so every query built on it (metrics,
pivots, ad-hoc queries, exports, derived relations) inherits both. Which rows a principal
sees comes from rules kept as data in `scope_rules.yaml`, combined like Superset's
RowLevelSecurityFilter: clauses of the same group key are ORed, different group keys ANDed,
and a principal no rule applies to sees nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ibis
import yaml

from datasources.reference import BRANCH_BY_ID, BRANCHES, descendants
from datasources.schema import BRANCH_COLUMN, PII_COLUMNS, TABLES, UNSCOPED_TABLES

log = logging.getLogger(__name__)

DEFAULT_RULES_PATH = Path(__file__).with_name("scope_rules.yaml")
CLAUSES = ("all", "own_branch", "none")
ALL_BRANCH_IDS = frozenset(b.branch_id for b in BRANCHES)
# Rows without a branch in these tables are public external data, not orphaned customer rows.
PUBLIC_WHEN_UNASSIGNED = frozenset({"ext_company_registry"})
_RULE_KEYS = {"name", "description", "roles", "groups", "branches", "clause", "group_key"}
_SELECTORS = ("roles", "groups", "branches")


@dataclass(frozen=True)
class Principal:
    """Who is asking: enough of a user to decide which rows and columns they see."""

    user_id: int | None
    username: str
    branch_id: str | None
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    unmask: frozenset[str] = frozenset()  # warehouse tables the user may see PII of

    @classmethod
    def from_user(cls, user, unmask: Iterable[str] = ()) -> Principal:
        """Build a principal from a portal `User` and the tables it holds unmask grants on."""
        return cls(
            user_id=user.id,
            username=user.username,
            branch_id=user.branch_id,
            roles=frozenset(role.code for role in user.roles),
            groups=frozenset(group.name for group in user.groups),
            unmask=frozenset(unmask),
        )

    def key(self, rules: Sequence[ScopeRule] | None = None) -> str:
        """Return the cache scope key: equal exactly when visible rows and masking are equal.

        Built from the effective branch set and the unmasked PII tables, never from the user's
        identity, so that users who see the same thing share cache entries.
        """
        branch_ids = scope_branch_ids(self, rules)
        if branch_ids is not None and not branch_ids:
            return "rows=none"  # nothing visible, so masking cannot differ
        rows = "all" if branch_ids is None else ",".join(sorted(branch_ids))
        unmasked = ",".join(sorted(self.unmask & PII_COLUMNS.keys())) or "-"
        return f"rows={rows};unmask={unmasked}"


# -- rules ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScopeRule:
    """One rule: who it applies to (roles / groups / branches) and what it lets them see."""

    name: str
    clause: str
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    branches: frozenset[str] = frozenset()
    group_key: str = ""
    description: str = ""
    _branch_subtree: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def matches(self, principal: Principal) -> bool:
        """Return whether the rule applies: the principal matches every selector it has."""
        if self.roles and self.roles.isdisjoint(principal.roles):
            return False
        if self.groups and self.groups.isdisjoint(principal.groups):
            return False
        return not self.branches or principal.branch_id in self._branch_subtree

    def branch_ids(self, principal: Principal) -> frozenset[str] | None:
        """Return the branches the clause opens to the principal (None: all)."""
        if self.clause == "all":
            return None
        if self.clause == "own_branch" and principal.branch_id:
            return frozenset(descendants(principal.branch_id))
        return frozenset()


def parse_rules(data, source: str = "scope rules") -> tuple[ScopeRule, ...]:
    """Validate rules loaded from YAML and return them; raise ValueError naming each problem."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ValueError(f"{source}: expected a mapping with a 'rules' list")
    problems = [f"{source}: unknown top-level key '{k}'" for k in data if k != "rules"]
    rules, seen = [], set()
    for index, raw in enumerate(data["rules"], start=1):
        label = f"{source}: rule #{index}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"]:
            label = f"{source}: rule '{raw['name']}'"
        rule_problems = _rule_problems(raw, seen)
        problems += [f"{label}: {p}" for p in rule_problems]
        if not rule_problems:
            seen.add(raw["name"])
            rules.append(_build_rule(raw))
    if problems:
        raise ValueError("\n".join(problems))
    return tuple(rules)


def _rule_problems(raw, seen: set[str]) -> list[str]:
    if not isinstance(raw, dict):
        return ["must be a mapping"]
    problems = [f"unknown key '{k}'" for k in raw if k not in _RULE_KEYS]
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.append("needs a 'name'")
    elif name in seen:
        problems.append("duplicate name")
    if raw.get("clause") not in CLAUSES:
        problems.append(
            f"unknown clause kind {raw.get('clause')!r} (expected one of {', '.join(CLAUSES)})"
        )
    for key in _SELECTORS:
        values = raw.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            problems.append(f"'{key}' must be a list of names")
    if not any(raw.get(key) for key in _SELECTORS):
        # A rule for everyone is too easy to write by accident; say who it is for.
        problems.append("needs at least one of roles, groups, branches")
    branches = raw.get("branches")
    if isinstance(branches, list):
        problems += [f"unknown branch '{b}'" for b in branches if b not in BRANCH_BY_ID]
    for key in ("group_key", "description"):
        if key in raw and not isinstance(raw[key], str):
            problems.append(f"'{key}' must be text")
    return problems


def _build_rule(raw: dict) -> ScopeRule:
    branches = frozenset(raw.get("branches", []))
    return ScopeRule(
        name=raw["name"],
        clause=raw["clause"],
        roles=frozenset(raw.get("roles", [])),
        groups=frozenset(raw.get("groups", [])),
        branches=branches,
        group_key=raw.get("group_key", ""),
        description=raw.get("description", ""),
        _branch_subtree=frozenset().union(*(descendants(b) for b in branches)),
    )


def load_rules(path: str | Path = DEFAULT_RULES_PATH) -> tuple[ScopeRule, ...]:
    """Read and validate a rules file."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        return parse_rules(yaml.safe_load(handle), source=path.name)


@lru_cache(maxsize=1)
def default_rules() -> tuple[ScopeRule, ...]:
    """Return the rules of `scope_rules.yaml`, read once per process."""
    return load_rules(DEFAULT_RULES_PATH)


def scope_branch_ids(
    principal: Principal, rules: Sequence[ScopeRule] | None = None
) -> frozenset[str] | None:
    """Return the branch ids whose rows the principal sees: None for all, empty for none."""
    rules = default_rules() if rules is None else rules
    by_group: dict[str, list[frozenset[str] | None]] = {}
    for rule in rules:
        if rule.matches(principal):
            by_group.setdefault(rule.group_key, []).append(rule.branch_ids(principal))
    if not by_group:
        return frozenset()  # default deny
    result: frozenset[str] | None = None
    for clauses in by_group.values():
        union = None if None in clauses else frozenset().union(*clauses)
        result = union if result is None else (result if union is None else result & union)
    # The whole hierarchy is "all": share the key and skip a filter that removes nothing.
    if result is not None and result >= ALL_BRANCH_IDS:
        return None
    return result


# -- masking -------------------------------------------------------------------------------------
# Only substring, length, repeat, concatenation and CASE, so the SQL runs on any backend.
def _stars(n):
    return ibis.literal("*").repeat(n)


def mask_name(col):
    """Keep the first character and star the rest: 张三 -> 张*."""
    return col.substr(0, 1) + _stars(col.length() - 1)


def mask_id_number(col):
    """Keep the first and last four characters: 3301**********1234."""
    n = col.length()
    return ibis.ifelse(n > 8, col.substr(0, 4) + _stars(n - 8) + col.right(4), _stars(n))


def mask_phone(col):
    """Keep the first three and last four digits: 138****5678."""
    n = col.length()
    return ibis.ifelse(n > 7, col.substr(0, 3) + "****" + col.right(4), _stars(n))


def mask_address(col):
    """Keep the first six characters (city and district) and hide the rest."""
    return ibis.ifelse(col.length() > 6, col.substr(0, 6) + "****", ibis.literal("****"))


MASKS = {
    "name": mask_name,
    "id_number": mask_id_number,
    "phone": mask_phone,
    "address": mask_address,
}


def mask_column(col, kind: str):
    """Return the masked expression for a PII column of the given kind; NULL stays NULL."""
    return ibis.ifelse(col.isnull(), ibis.null("string"), MASKS[kind](col))


# -- the provider --------------------------------------------------------------------------------
class ScopedTables:
    """Tables filtered to the principal's rows, with PII masked unless they may unmask it."""

    def __init__(self, warehouse, principal: Principal, rules: Sequence[ScopeRule] | None = None):
        self.warehouse = warehouse
        self.principal = principal
        self.rules = default_rules() if rules is None else tuple(rules)
        self.branch_ids = scope_branch_ids(principal, self.rules)
        self.scope_key = principal.key(self.rules)

    def table(self, name: str):
        """Return the table as this principal may see it."""
        if name not in TABLES:
            raise KeyError(name)
        return self._mask(name, self._filter_rows(name, self.warehouse.table(name)))

    def _filter_rows(self, name: str, t):
        if name in UNSCOPED_TABLES or self.branch_ids is None:
            return t
        if BRANCH_COLUMN not in t.columns:
            # Fail closed: a new table nobody classified may hold customer rows.
            log.warning("table %s has no %s and is not unscoped: denied", name, BRANCH_COLUMN)
            return t.filter(ibis.literal(False))
        if not self.branch_ids:
            return t.filter(ibis.literal(False))
        branch = t[BRANCH_COLUMN]
        visible = branch.isin(sorted(self.branch_ids))
        if name in PUBLIC_WHEN_UNASSIGNED:
            visible = visible | branch.isnull()
        return t.filter(visible)

    def _mask(self, name: str, t):
        pii = PII_COLUMNS.get(name)
        if not pii or name in self.principal.unmask:
            return t
        return t.mutate(**{col: mask_column(t[col], kind) for col, kind in pii.items()})
