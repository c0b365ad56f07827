"""A small, safe rule language for config files, compiled to Polars expressions.

Upsell criteria (`config/upsell.yaml`) and audience filters (`config/audiences.yaml`) are written by
marketers, e.g. `seat_utilization >= 0.8 and pricing_page_visits_30d >= 2`. The text is parsed with
Python's `ast` module and every node is checked against an explicit whitelist, then translated to a
`pl.Expr`. Nothing is ever evaluated as Python or SQL.

Allowed:
- column names (checked against the columns the caller allows), numbers, 'text', true/false/null
  (also True/False/None);
- comparisons `== != < <= > >=` (chained: `0.5 <= x < 0.8`), `x is null`, `x is not null`;
- `x in [1, 2]`, `x not in ['a', 'b']` (a list of literals), `'abm' in list_col` (list membership);
- `and`, `or`, `not`, parentheses; arithmetic `+ - * /` on numbers (x / 0 is null, not infinity);
- functions `is_null(x)`, `contains(list_col, 'x')`, `startswith(text_col, 'x')`.

The structured YAML form is accepted too: a rule is a string, or `{all: [rule, ...]}`,
`{any: [rule, ...]}`, `{not: rule}`, nested freely.

Missing data never meets a rule: the compiled predicate turns null into false at the top (so
`not (x > 1)` is false, not true, when x is null; test `is_null(x)` explicitly when you mean it).
When the caller passes column types (a `Mapping[str, pl.DataType]`), type mistakes such as
`industry > 3` are rejected at compile time instead of failing in the middle of a run.
"""
from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable

import polars as pl

MAX_RULE_LENGTH = 2000
MAX_STRING_LENGTH = 200
MAX_LIST_ITEMS = 1000
MAX_DEPTH = 40
INT64 = 2**63 - 1

ALLOWED_HELP = (
    "allowed: column names, numbers, 'text', true/false/null, comparisons (== != < <= > >=), "
    "is null / is not null, in / not in [list of values], and / or / not, parentheses, + - * /, "
    "is_null(col), contains(list_col, 'x'), startswith(col, 'x')"
)
LITERAL_NAMES = {"true": True, "false": False, "null": None}
FUNCTIONS = {"is_null": 1, "contains": 2, "startswith": 2}
STRUCTURED_KEYS = ("all", "any", "not")
CAST_FOR_KIND = {"num": pl.Float64, "str": pl.String, "bool": pl.Boolean}

# What we tell the author instead of a Python node name.
REJECTED = {
    ast.Attribute: "attribute access ('.') is not allowed",
    ast.Subscript: "indexing or slicing ('[...]' after a value) is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.IfExp: "'x if c else y' is not allowed",
    ast.NamedExpr: "assignment (':=') is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Dict: "a {mapping} is not allowed inside a rule",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}


class RuleError(ValueError):
    """A rule is not valid. Names where it came from, the text, the position and what is allowed."""

    def __init__(self, text: str, position: int | None, problem: str, where: str = ""):
        self.text, self.position, self.problem, self.where = text, position, problem, where
        at = f" at character {position}" if position else ""
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}rule {text!r}{at}: {problem}")


@dataclass(frozen=True)
class Typed:
    """A compiled piece of a rule: the Polars expression and what kind of value it yields.

    kind: bool | num | str | temporal | null | other | any | list:<kind>; `any` when the caller gave
    column names without types, so only Polars can tell at run time.
    """

    expr: pl.Expr
    kind: str
    literal: Any = None
    is_literal: bool = False


def dtype_kind(dtype: Any) -> str:
    """Our kind for a Polars data type (see `Typed`)."""
    if dtype is None:
        return "any"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.Null:
        return "any"
    if isinstance(dtype, (pl.List, pl.Array)) or dtype in (pl.List, pl.Array):
        inner = getattr(dtype, "inner", None)
        return "list:" + dtype_kind(inner)
    if dtype.is_numeric():
        return "num"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return "str"
    if dtype.is_temporal():
        return "temporal"
    return "other"


def compatible(a: str, b: str) -> bool:
    """Whether two kinds can be compared with == / != (null is handled before this)."""
    return a == b or "any" in (a, b)


class _Compiler:
    """Walks one parsed rule. `columns` None means any name is a column (used by `rule_columns`)."""

    def __init__(self, text: str, flat: str, offset: int, columns: Mapping[str, Any] | None, where: str):
        self.text, self.offset, self.columns, self.where = text, offset, columns, where
        self.flat = flat  # the text as parsed: stripped, line breaks turned into spaces
        self.used: set[str] = set()

    # -- errors -------------------------------------------------------------------------------------
    def fail(self, node: ast.AST | None, problem: str, hint: bool = True) -> RuleError:
        position = None
        if node is not None and hasattr(node, "col_offset"):
            # ast offsets count UTF-8 bytes; authors count characters.
            chars = len(self.flat.encode("utf-8")[: node.col_offset].decode("utf-8", errors="ignore"))
            position = self.offset + chars + 1
        message = f"{problem}; {ALLOWED_HELP}" if hint else problem
        return RuleError(self.text, position, message, self.where)

    # -- entry --------------------------------------------------------------------------------------
    def compile(self, tree: ast.Expression) -> pl.Expr:
        result = self.node(tree.body, 0)
        if result.kind not in ("bool", "any"):
            raise self.fail(tree.body, f"a rule must be true or false, but this gives a {result.kind} value "
                            "(compare it, e.g. `x >= 1`)", hint=False)
        return result.expr

    def node(self, node: ast.AST, depth: int) -> Typed:
        if depth > MAX_DEPTH:
            raise self.fail(node, f"the rule nests deeper than {MAX_DEPTH} levels; split it", hint=False)
        handler: Callable[[Any, int], Typed] | None = {
            ast.Constant: self.constant,
            ast.Name: self.name,
            ast.BoolOp: self.bool_op,
            ast.UnaryOp: self.unary_op,
            ast.BinOp: self.bin_op,
            ast.Compare: self.compare,
            ast.Call: self.call,
        }.get(type(node))
        if handler is None:
            if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                raise self.fail(node, "a list of values is only allowed after 'in' / 'not in'")
            problem = REJECTED.get(type(node), f"'{type(node).__name__}' is not allowed")
            raise self.fail(node, problem)
        return handler(node, depth + 1)

    # -- leaves -------------------------------------------------------------------------------------
    def literal(self, node: ast.AST, value: Any) -> Typed:
        if value is None:
            return Typed(pl.lit(None), "null", None, True)
        if isinstance(value, bool):
            return Typed(pl.lit(value), "bool", value, True)
        if isinstance(value, int):
            if abs(value) > INT64:
                raise self.fail(node, f"the number {value} is too large", hint=False)
            return Typed(pl.lit(value), "num", value, True)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(node, "numbers must be finite", hint=False)
            return Typed(pl.lit(value), "num", value, True)
        if isinstance(value, str):
            if len(value) > MAX_STRING_LENGTH:
                raise self.fail(node, f"text values are limited to {MAX_STRING_LENGTH} characters", hint=False)
            return Typed(pl.lit(value), "str", value, True)
        raise self.fail(node, f"the value {value!r} is not allowed (only numbers, 'text', true/false/null)")

    def constant(self, node: ast.Constant, depth: int) -> Typed:
        return self.literal(node, node.value)

    def name(self, node: ast.Name, depth: int) -> Typed:
        ident = node.id
        if ident in LITERAL_NAMES:
            return self.literal(node, LITERAL_NAMES[ident])
        if ident.startswith("__") or ident.endswith("__"):
            raise self.fail(node, f"names with double underscores ({ident!r}) are not allowed")
        if ident in FUNCTIONS:
            raise self.fail(node, f"{ident!r} is a function: call it, e.g. {ident}(col, ...)")
        if self.columns is not None and ident not in self.columns:
            known = ", ".join(sorted(self.columns)) or "(none)"
            raise self.fail(node, f"unknown column {ident!r}; columns you can use: {known}", hint=False)
        self.used.add(ident)
        dtype = self.columns.get(ident) if isinstance(self.columns, Mapping) else None
        kind = dtype_kind(dtype)
        if kind == "str" and dtype != pl.String:  # categorical/enum: compare as text, like the author reads it
            return Typed(pl.col(ident).cast(pl.String), kind)
        return Typed(pl.col(ident), kind)

    # -- operators ----------------------------------------------------------------------------------
    def need(self, node: ast.AST, typed: Typed, kinds: tuple[str, ...], what: str) -> None:
        if typed.kind not in kinds and typed.kind != "any":
            raise self.fail(node, f"{what} needs {' or '.join(kinds)} values, not {typed.kind}", hint=False)

    def bool_op(self, node: ast.BoolOp, depth: int) -> Typed:
        parts = []
        for value in node.values:
            typed = self.node(value, depth)
            self.need(value, typed, ("bool",), "'and' / 'or'")
            parts.append(typed.expr)
        combine = (lambda a, b: a & b) if isinstance(node.op, ast.And) else (lambda a, b: a | b)
        return Typed(reduce(combine, parts), "bool")

    def unary_op(self, node: ast.UnaryOp, depth: int) -> Typed:
        operand = self.node(node.operand, depth)
        if isinstance(node.op, ast.Not):
            self.need(node.operand, operand, ("bool",), "'not'")
            return Typed(~operand.expr, "bool")
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            self.need(node.operand, operand, ("num",), "a sign")
            if operand.is_literal:  # keep -1 a literal so it can appear in `in [-1, 0]`
                return self.literal(node, -operand.literal if isinstance(node.op, ast.USub) else operand.literal)
            return Typed(-operand.expr if isinstance(node.op, ast.USub) else operand.expr, "num")
        raise self.fail(node, "'~' is not allowed; use 'not'")

    def bin_op(self, node: ast.BinOp, depth: int) -> Typed:
        ops = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
        symbol = ops.get(type(node.op))
        if symbol is None:
            raise self.fail(node, f"the operator {type(node.op).__name__} is not allowed (only + - * /)")
        left, right = self.node(node.left, depth), self.node(node.right, depth)
        self.need(node.left, left, ("num",), f"'{symbol}'")
        self.need(node.right, right, ("num",), f"'{symbol}'")
        if left.is_literal and right.is_literal:
            return self.folded(node, symbol, left.literal, right.literal)
        a, b = left.expr, right.expr
        if symbol == "+":
            return Typed(a + b, "num")
        if symbol == "-":
            return Typed(a - b, "num")
        if symbol == "*":
            return Typed(a * b, "num")
        # A ratio over zero (e.g. no seats purchased) is unknown, not infinite.
        return Typed(pl.when(b != 0).then(a.cast(pl.Float64) / b), "num")

    def folded(self, node: ast.AST, symbol: str, a: Any, b: Any) -> Typed:
        """Arithmetic on two literals, done here: it stays a literal (usable in `in [...]`) and Polars
        never sees a constant `when/then`, which it cannot compare with a column expression."""
        if a is None or b is None or (symbol == "/" and b == 0):
            return Typed(pl.lit(None, dtype=pl.Float64), "num", None, True)
        value = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[symbol]()
        return self.literal(node, value)

    def compare(self, node: ast.Compare, depth: int) -> Typed:
        parts = []
        left_node, left = node.left, self.node(node.left, depth)
        for i, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
            if isinstance(op, (ast.In, ast.NotIn)):
                expr = self.membership(left_node, left, right_node, depth)
                parts.append(~expr if isinstance(op, ast.NotIn) else expr)
                if i + 1 < len(node.ops):  # chained after 'in': the right side is the next left side
                    left_node, left = right_node, self.node(right_node, depth)
                continue
            right = self.node(right_node, depth)
            parts.append(self.comparison(node, op, left, right))
            left_node, left = right_node, right
        return Typed(reduce(lambda a, b: a & b, parts), "bool")

    def comparison(self, node: ast.AST, op: ast.cmpop, left: Typed, right: Typed) -> pl.Expr:
        if isinstance(op, (ast.Is, ast.IsNot, ast.Eq, ast.NotEq)) and "null" in (left.kind, right.kind):
            other = right if left.kind == "null" else left
            negate = isinstance(op, (ast.IsNot, ast.NotEq))
            return other.expr.is_not_null() if negate else other.expr.is_null()
        if isinstance(op, (ast.Is, ast.IsNot)):
            raise self.fail(node, "'is' / 'is not' only work with null (e.g. `x is null`); use == / !=")
        if "null" in (left.kind, right.kind):
            raise self.fail(node, "null cannot be ordered; use is_null(x) or `x is not null`", hint=False)
        if left.kind.startswith("list:") or right.kind.startswith("list:"):
            raise self.fail(node, "lists cannot be compared; use contains(list_col, 'x')", hint=False)
        if not compatible(left.kind, right.kind):
            raise self.fail(node, f"cannot compare a {left.kind} value with a {right.kind} value", hint=False)
        symbols = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
        symbol = symbols[type(op)]
        if symbol not in ("==", "!=") and left.kind in ("bool", "other"):
            raise self.fail(node, f"{left.kind} values can only be compared with == or !=", hint=False)
        a, b = left.expr, right.expr
        return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[symbol]

    def membership(self, left_node: ast.AST, left: Typed, right_node: ast.AST, depth: int) -> pl.Expr:
        if isinstance(right_node, (ast.List, ast.Tuple, ast.Set)):
            values = [self.node(item, depth) for item in right_node.elts]
            if not values:
                raise self.fail(right_node, "the list after 'in' is empty", hint=False)
            if len(values) > MAX_LIST_ITEMS:
                raise self.fail(right_node, f"lists are limited to {MAX_LIST_ITEMS} values", hint=False)
            if left.kind.startswith("list:") or left.kind in ("other",):
                raise self.fail(left_node, f"'in [...]' needs a single value, not a {left.kind}", hint=False)
            kinds = {t.kind for t in values if t.kind != "null"}
            if len(kinds) > 1:
                raise self.fail(right_node, "the list after 'in' mixes kinds of values: " + ", ".join(sorted(kinds)),
                                hint=False)
            for item, typed in zip(right_node.elts, values):
                if not typed.is_literal:
                    raise self.fail(item, "the list after 'in' may only hold literal values", hint=False)
                if typed.kind != "null" and not compatible(left.kind, typed.kind):
                    raise self.fail(item, f"cannot compare a {left.kind} value with {typed.literal!r}", hint=False)
            plain = [t.literal for t in values if t.kind != "null"]
            if left.is_literal:  # `'a' in ['a']`: decide now (Polars would not broadcast the result)
                if left.literal is None:  # `(0 / 0) in [1, null]`: an unknown value matches only null
                    return pl.lit(len(plain) < len(values))
                return pl.lit(left.literal in plain)
            if plain:
                # Polars 2 refuses to coerce in is_in (Int64 vs Float64): put both sides in one type.
                target = CAST_FOR_KIND[kinds.pop()]
                expr = left.expr.cast(target).is_in(pl.Series(plain, dtype=target).implode())
            else:
                expr = pl.lit(False)
            if len(plain) < len(values):  # `x in [1, null]` also matches a missing x
                expr = expr.fill_null(False) | left.expr.is_null()
            if not left.expr.meta.root_names():  # `(0 + 0) in [0]`: make it a scalar so it broadcasts
                expr = expr.first()
            return expr
        right = self.node(right_node, depth)
        if right.kind.startswith("list:") or right.kind == "any":
            return self.list_contains(right_node, right, left_node, left)
        raise self.fail(right_node, "'in' needs a [list of values] or a list column on its right")

    def list_contains(self, list_node: ast.AST, lst: Typed, item_node: ast.AST, item: Typed) -> pl.Expr:
        if not item.is_literal or item.kind == "null":
            raise self.fail(item_node, "list membership needs a literal value, e.g. contains(col, 'abm')", hint=False)
        inner = lst.kind[5:] if lst.kind.startswith("list:") else "any"
        if not compatible(inner, item.kind):
            raise self.fail(item_node, f"the list holds {inner} values, not {item.literal!r}", hint=False)
        target = CAST_FOR_KIND[item.kind]
        return lst.expr.cast(pl.List(target)).list.contains(pl.lit(item.literal, dtype=target))

    def call(self, node: ast.Call, depth: int) -> Typed:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only the functions is_null, contains and startswith can be called")
        fname = node.func.id
        if fname not in FUNCTIONS:
            raise self.fail(node, f"unknown function {fname!r}; only is_null, contains and startswith exist")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(node, f"{fname}() takes plain positional arguments only")
        if len(node.args) != FUNCTIONS[fname]:
            raise self.fail(node, f"{fname}() takes {FUNCTIONS[fname]} argument(s), got {len(node.args)}")
        args = [self.node(a, depth) for a in node.args]
        if fname == "is_null":
            return Typed(args[0].expr.is_null(), "bool")
        if fname == "contains":
            if not (args[0].kind.startswith("list:") or args[0].kind == "any") or args[0].is_literal:
                raise self.fail(node.args[0], "contains() needs a list column first", hint=False)
            return Typed(self.list_contains(node.args[0], args[0], node.args[1], args[1]), "bool")
        # startswith
        self.need(node.args[0], args[0], ("str",), "startswith()")
        if args[1].kind != "str" or not args[1].is_literal:
            raise self.fail(node.args[1], "startswith() needs a 'text' prefix second", hint=False)
        return Typed(args[0].expr.str.starts_with(args[1].literal), "bool")


def _parse(text: Any, where: str) -> tuple[str, int, ast.Expression]:
    """Check the raw text and parse it; returns (parsed text, offset of its first character, tree)."""
    if not isinstance(text, str):
        raise RuleError(repr(text), None, "a rule is text (or {all: [...]}, {any: [...]}, {not: ...})", where)
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(text[:60] + "...", None, f"rules are limited to {MAX_RULE_LENGTH} characters", where)
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    # YAML block scalars bring line breaks; the parser wants one line. Same length, so positions hold.
    flat = re.sub(r"[\r\n\t\f\v]", " ", stripped.rstrip())
    if not flat:
        raise RuleError(text, None, "the rule is empty", where)
    try:
        tree = ast.parse(flat, mode="eval")
    except SyntaxError as exc:
        position = offset + exc.offset if exc.offset else None
        raise RuleError(text, position, f"not a valid rule ({exc.msg}); {ALLOWED_HELP}", where) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise RuleError(text, None, f"not a valid rule ({type(exc).__name__}); {ALLOWED_HELP}", where) from None
    try:
        # A '#' outside quotes would silently drop the rest of the rule: refuse it.
        for tok in tokenize.generate_tokens(io.StringIO(flat).readline):
            if tok.type == tokenize.COMMENT:
                raise RuleError(text, offset + tok.start[1] + 1, "comments ('#') are not allowed in a rule; "
                                "put notes in the description", where)
    except (tokenize.TokenError, SyntaxError):
        pass  # already parsed by ast; tokenize is only a second look for comments
    return flat, offset, tree


def _compile(rule: Any, columns: Mapping[str, Any] | None, where: str, used: set[str]) -> pl.Expr:
    if isinstance(rule, Mapping):
        if len(rule) != 1 or next(iter(rule)) not in STRUCTURED_KEYS:
            keys = ", ".join(map(str, rule)) or "(none)"
            raise RuleError(repr(dict(rule)), None, f"a structured rule has exactly one key: all, any or not "
                            f"(found: {keys})", where)
        key, value = next(iter(rule.items()))
        place = f"{where}.{key}" if where else key
        if key == "not":
            return ~_compile(value, columns, place, used)
        if not isinstance(value, list) or not value:
            raise RuleError(repr(value), None, f"'{key}' needs a non-empty list of rules", place)
        parts = [_compile(item, columns, f"{place}[{i}]", used) for i, item in enumerate(value)]
        return pl.all_horizontal(parts) if key == "all" else pl.any_horizontal(parts)
    flat, offset, tree = _parse(rule, where)
    text = rule
    compiler = _Compiler(text, flat, offset, columns, where)
    try:
        expr = compiler.compile(tree)
    except RecursionError:
        raise RuleError(text, None, "the rule is nested too deeply; split it", where) from None
    used |= compiler.used
    return expr


def compile_rule(
    text: str | Mapping[str, Any],
    allowed_columns: set[str] | frozenset[str] | Mapping[str, pl.DataType],
    where: str = "",
) -> pl.Expr:
    """Compile a rule (text or structured YAML form) to a boolean Polars expression (null -> false).

    `allowed_columns`: the column names a rule may use, or a mapping name -> Polars type (then type
    mistakes are caught here). `where` prefixes error messages, e.g. "config/upsell.yaml: criteria[0].rule".
    Raises RuleError for anything outside the language.
    """
    columns = allowed_columns if isinstance(allowed_columns, Mapping) else {c: None for c in allowed_columns}
    # Null is filled only here, at the top, so `not` keeps three-valued logic inside the rule.
    return _compile(text, columns, where, set()).fill_null(False)


def rule_columns(text: str | Mapping[str, Any], where: str = "") -> set[str]:
    """The column names a rule reads (the rule is parsed and checked, columns are not validated)."""
    used: set[str] = set()
    _compile(text, None, where, used)
    return used
