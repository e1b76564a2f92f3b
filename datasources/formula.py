"""Compile the metric catalog's formulas (a small, safe subset of Python) to Ibis expressions.

A formula such as ``balance.sum(where=grade.isin(['次级', '可疑', '损失'])) / balance.sum()``
is parsed with `ast` and walked node by node; only column names, joined columns
(``product.category``), constants, arithmetic, comparisons, boolean logic and a whitelist of
column methods are accepted. Nothing is ever passed to `eval`, so a catalog entry cannot run
code; anything else raises `FormulaError` naming the offending part.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

import ibis

JOIN_SEPARATOR = "__"

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
# Column methods a formula may call, with the keyword arguments each accepts.
_METHODS: dict[str, set[str]] = {
    "sum": {"where"},
    "mean": {"where"},
    "count": {"where"},
    "nunique": {"where"},
    "min": {"where"},
    "max": {"where"},
    "isin": set(),
    "notin": set(),
    "isnull": set(),
    "notnull": set(),
    "abs": set(),
    "fill_null": set(),
    "year": set(),
    "quarter": set(),
    "month": set(),
    "day": set(),
}
AGGREGATE_METHODS = {"sum", "mean", "count", "nunique", "min", "max"}


class FormulaError(ValueError):
    """A formula uses something outside the allowed subset."""


def referenced_names(text: str) -> set[str]:
    """Return the columns a formula refers to, joined ones as ``alias__column``."""
    tree = _parse(text)
    methods = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names: set[str] = set()
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in methods:
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names.add(f"{node.value.id}{JOIN_SEPARATOR}{node.attr}")
            aliases.add(node.value.id)
        elif isinstance(node, ast.Name) and node.id != "ifelse":
            names.add(node.id)
    # The alias of a joined reference (`product` in product.category) is not a column.
    return names - aliases


def compile_formula(text: str, column: Callable[[str], object], aggregate: Callable | None = None):
    """Return the Ibis expression for `text`, resolving names through `column(name)`.

    `aggregate(method, target_node, where)`, when given, builds each aggregate call instead
    (used to rewrite a measure over pre-aggregated partials); it may raise NotDecomposable.
    """
    return _Compiler(column, aggregate).visit(_parse(text).body)


def column_resolver(table):
    """Return the column lookup `compile_formula` needs for an Ibis table (joined: alias__col)."""

    def column(name: str):
        if name not in table.columns:
            raise FormulaError(f"unknown column '{name.replace(JOIN_SEPARATOR, '.')}'")
        return table[name]

    return column


class NotDecomposable(FormulaError):
    """The formula cannot be computed from partial aggregates; use the plain plan."""


def aggregate_calls(text: str) -> list[tuple[str, ast.AST, ast.AST | None]]:
    """Return (method, target node, where node or None) for every aggregate call in a formula."""
    return [
        (
            node.func.attr,
            node.func.value,
            next((k.value for k in node.keywords if k.arg == "where"), None),
        )
        for node in ast.walk(_parse(text))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in AGGREGATE_METHODS
    ]


def _check_identifier(name: str) -> None:
    if name.startswith("_"):
        raise FormulaError(f"name '{name}' is not allowed (names may not start with '_')")


def _parse(text: str) -> ast.Expression:
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("formula is empty")
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"formula is not valid: {exc.msg} in {text!r}") from None


class _Compiler:
    def __init__(self, column: Callable[[str], object], aggregate: Callable | None = None):
        self.column = column
        self.aggregate = aggregate

    def visit(self, node):
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is None:
            raise FormulaError(f"'{type(node).__name__}' is not allowed in a formula")
        return handler(node)

    def visit_Constant(self, node: ast.Constant):
        if node.value is None or isinstance(node.value, bool | int | float | str):
            return node.value
        raise FormulaError(f"constant {node.value!r} is not allowed")

    def visit_List(self, node: ast.List):
        return [self._constant(e) for e in node.elts]

    visit_Tuple = visit_List

    def _constant(self, node):
        value = self.visit(node)
        if isinstance(value, list) or hasattr(value, "op"):
            raise FormulaError("lists may hold constants only")
        return value

    def visit_Name(self, node: ast.Name):
        _check_identifier(node.id)
        return self.column(node.id)

    def visit_Attribute(self, node: ast.Attribute):
        _check_identifier(node.attr)
        if isinstance(node.value, ast.Name):
            _check_identifier(node.value.id)
            return self.column(f"{node.value.id}{JOIN_SEPARATOR}{node.attr}")
        raise FormulaError(f"'.{node.attr}' must follow a join name, as in product.category")

    def visit_BinOp(self, node: ast.BinOp):
        op = _BINARY.get(type(node.op))
        if op is None:
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
        left, right = self.visit(node.left), self.visit(node.right)
        if op is operator.truediv and hasattr(right, "nullif"):
            right = right.nullif(0)  # x / 0 is NULL, not an error, on every backend
        return op(left, right)

    def visit_UnaryOp(self, node: ast.UnaryOp):
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.Not):
            return ~operand
        raise FormulaError(f"operator {type(node.op).__name__} is not allowed")

    def visit_BoolOp(self, node: ast.BoolOp):
        values = [self.visit(v) for v in node.values]
        combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result

    def visit_Compare(self, node: ast.Compare):
        left = self.visit(node.left)
        result = None
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.visit(right_node)
            if isinstance(op_node, ast.In | ast.NotIn):
                if not isinstance(right, list):
                    raise FormulaError("'in' needs a list of constants, as in x in ['a', 'b']")
                part = left.isin(right) if isinstance(op_node, ast.In) else left.notin(right)
            else:
                op = _COMPARE.get(type(op_node))
                if op is None:
                    raise FormulaError(f"comparison {type(op_node).__name__} is not allowed")
                part = op(left, right)
            result = part if result is None else result & part
            left = right
        return result

    def visit_Call(self, node: ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id == "ifelse":
            if len(node.args) != 3 or node.keywords:
                raise FormulaError("ifelse takes three arguments: ifelse(condition, then, else)")
            cond, then, other = (self.visit(a) for a in node.args)
            return ibis.ifelse(cond, then, other)
        if not isinstance(node.func, ast.Attribute):
            raise FormulaError(
                "only column methods (x.sum(), x.isin([...])) and ifelse() may be called"
            )
        method = node.func.attr
        _check_identifier(method)
        allowed_kw = _METHODS.get(method)
        if allowed_kw is None:
            raise FormulaError(
                f"method '{method}' is not allowed (allowed: {', '.join(sorted(_METHODS))})"
            )
        if self.aggregate is not None and method in AGGREGATE_METHODS:
            if node.args or {kw.arg for kw in node.keywords} - allowed_kw:
                raise NotDecomposable(method)
            where = {kw.arg: self.visit(kw.value) for kw in node.keywords}.get("where")
            return self.aggregate(method, node.func.value, where)
        target = self.visit(node.func.value)
        args = [self.visit(a) for a in node.args]
        kwargs = {}
        for kw in node.keywords:
            if kw.arg not in allowed_kw:
                raise FormulaError(f"'{method}' does not take the argument '{kw.arg}'")
            kwargs[kw.arg] = self.visit(kw.value)
        try:
            result = getattr(target, method)(*args, **kwargs)
        except (AttributeError, TypeError) as exc:
            raise FormulaError(f"'{method}' cannot be applied here: {exc}") from None
        if method == "sum" and "where" in kwargs:
            # SQL gives NULL when no row of a non-empty group matches; the business answer is 0.
            result = result.fill_null(0)
        return result
