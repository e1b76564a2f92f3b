"""Load and validate the metric catalog (SPEC §5.2) from YAML.

`load_catalog()` reads `metrics.yaml` beside this file (or another path) and checks every
entry: names in both languages, owner, format, the table and time column, formulas compiled
against the warehouse schema, and that each listed dimension can be reached from the
metric's table. Problems raise `CatalogError`, one line per problem, each naming the entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from datasources.formula import JOIN_SEPARATOR, FormulaError, compile_formula, referenced_names
from datasources.reference import DEPARTMENT_BY_CODE
from datasources.relations import (
    DERIVED,
    DERIVED_SOURCES,
    UnboundTables,
    build_source,
    relation_columns,
)
from datasources.schema import TABLES

DEFAULT_PATH = Path(__file__).with_name("metrics.yaml")
FORMATS = {"currency", "number", "percent", "count"}
TIME_GRAINS = {"snapshot", "flow"}
_METRIC_KEYS = {
    "name",
    "description",
    "owner",
    "unit",
    "format",
    "table",
    "time_column",
    "time_grain",
    "filter",
    "expression",
    "dimensions",
    "ratio",
    "higher_is_better",
    "lineage",
}
_DIMENSION_KEYS = {"name", "description", "key", "label", "label_en", "time"}


class CatalogError(ValueError):
    """The catalog file is malformed; the message has one line per problem."""


@dataclass(frozen=True)
class Text:
    zh: str
    en: str

    def get(self, locale: str | None) -> str:
        return self.en if (locale or "").startswith("en") else self.zh

    def to_dict(self) -> dict:
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Join:
    alias: str
    table: str
    on: str


@dataclass(frozen=True)
class Dimension:
    id: str
    name: Text
    description: Text
    key: str | None = None
    label: str | None = None
    label_en: str | None = None
    time: bool = False

    def label_for(self, locale: str | None) -> str | None:
        if (locale or "").startswith("en") and self.label_en:
            return self.label_en
        return self.label

    def formulas(self) -> list[str]:
        return [f for f in (self.key, self.label, self.label_en) if f]

    def to_dict(self, locale: str | None = None) -> dict:
        return {
            "id": self.id,
            "name": self.name.get(locale) if locale else self.name.to_dict(),
            "description": self.description.get(locale) if locale else self.description.to_dict(),
            "time": self.time,
        }


@dataclass(frozen=True)
class Metric:
    id: str
    name: Text
    description: Text
    owner: str
    unit: str
    format: str
    dimensions: tuple[str, ...]
    table: str | None = None
    time_column: str | None = None
    time_grain: str | None = None
    expression: str | None = None
    filter: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    higher_is_better: bool = True
    upstream: tuple[str, ...] = field(default=())

    @property
    def is_ratio(self) -> bool:
        return self.numerator is not None

    def to_dict(self, locale: str | None = None) -> dict:
        owner = DEPARTMENT_BY_CODE[self.owner]
        data = {
            "id": self.id,
            "name": self.name.get(locale) if locale else self.name.to_dict(),
            "description": self.description.get(locale) if locale else self.description.to_dict(),
            "owner": self.owner,
            "owner_name": (owner.name_en if (locale or "").startswith("en") else owner.name_zh)
            if locale
            else {"zh": owner.name_zh, "en": owner.name_en},
            "unit": self.unit,
            "format": self.format,
            "dimensions": list(self.dimensions),
            "higher_is_better": self.higher_is_better,
            "lineage": {"upstream": list(self.upstream)},
        }
        if self.is_ratio:
            data["ratio"] = {"numerator": self.numerator, "denominator": self.denominator}
        else:
            data.update(
                table=self.table,
                time_column=self.time_column,
                time_grain=self.time_grain,
                expression=self.expression,
                filter=self.filter,
            )
        return data


@dataclass(frozen=True)
class Catalog:
    joins: dict[str, Join]
    dimensions: dict[str, Dimension]
    metrics: dict[str, Metric]

    def metric(self, metric_id: str) -> Metric:
        return self.metrics[metric_id]


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read, validate and return the catalog; raise CatalogError listing every problem."""
    path = Path(path) if path else DEFAULT_PATH
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read the catalog: {exc}") from None
    return parse_catalog(raw, source=str(path))


def parse_catalog(raw, source: str = "catalog") -> Catalog:
    """Validate an already-parsed catalog document."""
    errors: list[str] = []
    if not isinstance(raw, dict):
        raise CatalogError(
            f"{source}: the catalog must be a mapping with joins, dimensions, metrics"
        )
    for section in ("joins", "dimensions", "metrics"):
        if not isinstance(raw.get(section), dict) or not raw.get(section):
            errors.append(f"{source}: section '{section}' is missing or empty")
    if errors:
        raise CatalogError("\n".join(errors))

    joins = _parse_joins(raw["joins"], errors)
    dimensions = {
        d: _parse_dimension(d, spec, joins, errors) for d, spec in raw["dimensions"].items()
    }
    dimensions = {k: v for k, v in dimensions.items() if v is not None}
    metrics: dict[str, Metric] = {}
    for metric_id, spec in raw["metrics"].items():
        metric = _parse_metric(metric_id, spec, joins, dimensions, errors)
        if metric is not None:
            metrics[metric_id] = metric
    for metric in list(metrics.values()):
        if metric.is_ratio:
            metrics[metric.id] = _check_ratio(metric, metrics, errors)
    if errors:
        raise CatalogError("\n".join(f"{source}: {e}" for e in errors))
    return Catalog(joins=joins, dimensions=dimensions, metrics=metrics)


def _parse_joins(raw: dict, errors: list[str]) -> dict[str, Join]:
    joins = {}
    for alias, spec in raw.items():
        where = f"join '{alias}'"
        if not isinstance(spec, dict) or set(spec) != {"table", "key"}:
            errors.append(f"{where}: needs exactly 'table' and 'key' (the column both sides share)")
            continue
        if spec["table"] not in TABLES and spec["table"] not in DERIVED:
            errors.append(f"{where}: unknown table '{spec['table']}'")
            continue
        if spec["key"] not in relation_columns(spec["table"]):
            errors.append(f"{where}: table '{spec['table']}' has no column '{spec['key']}'")
            continue
        joins[alias] = Join(alias, spec["table"], spec["key"])
    return joins


def _text(where: str, field_name: str, value, errors: list[str]) -> Text | None:
    if isinstance(value, dict) and all(
        isinstance(value.get(k), str) and value[k].strip() for k in ("zh", "en")
    ):
        return Text(value["zh"].strip(), value["en"].strip())
    errors.append(f"{where}: '{field_name}' needs non-empty 'zh' and 'en' texts")
    return None


def _parse_dimension(
    dim_id: str, spec, joins: dict[str, Join], errors: list[str]
) -> Dimension | None:
    where = f"dimension '{dim_id}'"
    if not isinstance(spec, dict):
        errors.append(f"{where}: must be a mapping")
        return None
    unknown = set(spec) - _DIMENSION_KEYS
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = _text(where, "name", spec.get("name"), errors)
    description = _text(where, "description", spec.get("description"), errors)
    is_time = bool(spec.get("time", False))
    if not is_time and not spec.get("key"):
        errors.append(f"{where}: needs a 'key' formula (or time: true)")
        return None
    for field_name in ("key", "label", "label_en"):
        formula = spec.get(field_name)
        if formula is None:
            continue
        try:
            for ref in referenced_names(formula):
                alias = ref.split(JOIN_SEPARATOR, 1)[0] if JOIN_SEPARATOR in ref else None
                if alias is not None and alias not in joins:
                    errors.append(f"{where}: {field_name} refers to unknown join '{alias}'")
        except FormulaError as exc:
            errors.append(f"{where}: {field_name}: {exc}")
    if name is None or description is None:
        return None
    return Dimension(
        dim_id, name, description, spec.get("key"), spec.get("label"), spec.get("label_en"), is_time
    )


def _parse_metric(metric_id, spec, joins, dimensions, errors) -> Metric | None:
    where = f"metric '{metric_id}'"
    if not isinstance(spec, dict):
        errors.append(f"{where}: must be a mapping")
        return None
    unknown = set(spec) - _METRIC_KEYS
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    count = len(errors)
    name = _text(where, "name", spec.get("name"), errors)
    description = _text(where, "description", spec.get("description"), errors)
    owner = spec.get("owner")
    if owner not in DEPARTMENT_BY_CODE:
        errors.append(
            f"{where}: owner '{owner}' is not a department ({', '.join(sorted(DEPARTMENT_BY_CODE))})"
        )
    if not isinstance(spec.get("unit"), str) or not spec.get("unit"):
        errors.append(f"{where}: 'unit' is missing")
    if spec.get("format") not in FORMATS:
        errors.append(
            f"{where}: format '{spec.get('format')}' is not one of {', '.join(sorted(FORMATS))}"
        )
    dims = spec.get("dimensions")
    if not isinstance(dims, list) or not all(isinstance(d, str) for d in dims):
        errors.append(f"{where}: 'dimensions' must be a list of dimension ids")
        dims = []
    for d in dims:
        if d not in dimensions:
            errors.append(f"{where}: unknown dimension '{d}'")

    ratio = spec.get("ratio")
    if ratio is not None:
        if not isinstance(ratio, dict) or set(ratio) != {"numerator", "denominator"}:
            errors.append(f"{where}: 'ratio' needs exactly 'numerator' and 'denominator'")
        for field_name in ("table", "expression", "filter", "time_column", "time_grain"):
            if field_name in spec:
                errors.append(f"{where}: a ratio metric takes no '{field_name}'")
        if len(errors) > count:
            return None
        return Metric(
            metric_id,
            name,
            description,
            owner,
            spec["unit"],
            spec["format"],
            tuple(dims),
            numerator=ratio["numerator"],
            denominator=ratio["denominator"],
            higher_is_better=bool(spec.get("higher_is_better", True)),
        )

    table = spec.get("table")
    if table not in TABLES and table not in DERIVED:
        errors.append(f"{where}: unknown table '{table}'")
        return None
    columns = set(relation_columns(table))
    time_column = spec.get("time_column")
    if time_column not in columns:
        errors.append(f"{where}: time_column '{time_column}' is not a column of {table}")
    if spec.get("time_grain") not in TIME_GRAINS:
        errors.append(f"{where}: time_grain must be 'snapshot' or 'flow'")
    if not spec.get("expression"):
        errors.append(f"{where}: 'expression' is missing")
    if len(errors) > count:
        return None

    reachable = {a for a, j in joins.items() if j.on in columns}
    for field_name in ("expression", "filter"):
        if spec.get(field_name):
            _check_formula(where, field_name, spec[field_name], table, joins, reachable, errors)
    for d in dims:
        dim = dimensions.get(d)
        if dim is None or dim.time:
            continue
        for formula in dim.formulas():
            missing = _unreachable(formula, columns, reachable)
            if missing:
                errors.append(
                    f"{where}: dimension '{d}' needs {missing}, which {table} cannot reach"
                )
                break
    if len(errors) > count:
        return None
    used_aliases = _aliases(
        spec.get("expression"),
        spec.get("filter"),
        *[f for d in dims if d in dimensions for f in dimensions[d].formulas()],
    )
    upstream = sorted(
        set(DERIVED_SOURCES.get(table, [table]))
        | {
            s
            for a in used_aliases
            if a in joins
            for s in DERIVED_SOURCES.get(joins[a].table, [joins[a].table])
        }
    )
    return Metric(
        metric_id,
        name,
        description,
        owner,
        spec["unit"],
        spec["format"],
        tuple(dims),
        table=table,
        time_column=time_column,
        time_grain=spec["time_grain"],
        expression=spec["expression"],
        filter=spec.get("filter"),
        higher_is_better=bool(spec.get("higher_is_better", True)),
        upstream=tuple(upstream),
    )


def _aliases(*formulas) -> set[str]:
    out = set()
    for f in formulas:
        if f:
            out |= {
                r.split(JOIN_SEPARATOR, 1)[0] for r in referenced_names(f) if JOIN_SEPARATOR in r
            }
    return out


def _unreachable(formula: str, columns: set[str], reachable: set[str]) -> str | None:
    for ref in referenced_names(formula):
        if JOIN_SEPARATOR in ref:
            if ref.split(JOIN_SEPARATOR, 1)[0] not in reachable:
                return f"'{ref.replace(JOIN_SEPARATOR, '.')}'"
        elif ref not in columns:
            return f"column '{ref}'"
    return None


def _check_formula(where, field_name, text, table, joins, reachable, errors) -> None:
    """Compile a formula against schema-only tables so that mistakes surface at load time."""
    try:
        aliases = {
            r.split(JOIN_SEPARATOR, 1)[0] for r in referenced_names(text) if JOIN_SEPARATOR in r
        }
        unknown = aliases - reachable
        if unknown:
            raise FormulaError(f"'{sorted(unknown)[0]}' is not a join reachable from {table}")
        source = build_source(UnboundTables(), joins, table, aliases)

        def column(name: str):
            if name not in source.columns:
                raise FormulaError(f"{table} has no column '{name.replace(JOIN_SEPARATOR, '.')}'")
            return source[name]

        compile_formula(text, column)
    except FormulaError as exc:
        errors.append(f"{where}: {field_name}: {exc}")


def _check_ratio(metric: Metric, metrics: dict[str, Metric], errors: list[str]) -> Metric:
    where = f"metric '{metric.id}'"
    parts = []
    for part in (metric.numerator, metric.denominator):
        other = metrics.get(part)
        if other is None:
            errors.append(f"{where}: ratio refers to unknown metric '{part}'")
        elif other.is_ratio:
            errors.append(f"{where}: ratio part '{part}' is itself a ratio")
        else:
            parts.append(other)
    for d in metric.dimensions:
        for other in parts:
            if d not in other.dimensions:
                errors.append(f"{where}: dimension '{d}' is not allowed for its part '{other.id}'")
    upstream = sorted({u for p in parts for u in p.upstream})
    return Metric(**{**metric.__dict__, "upstream": tuple(upstream)})
