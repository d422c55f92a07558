"""The subset of Kusto (KQL) the emulated Resource Graph understands: parsed for real, evaluated over JSON rows.

Resource Graph runs KQL with its own limits (the tabular operators it allows, a subset of the scalar functions;
the query-language page of the Resource Graph docs lists them). This module is a small, genuine parser and
evaluator for part of that language: a table, then `where`, `project`, `extend`, `project-away`,
`order by`/`sort by`, `take`/`limit` and `count`; expressions with `and`, `or`, `not()`, the comparison
operators (`==`, `!=`, `=~`, `!~`, `<`, `<=`, `>`, `>=`), `in`, `in~`, `!in`, `!in~`, `has`, `contains`,
`startswith`, `endswith` (and their `!` forms), `+`/`-` on times, member access (`a.b`, `a['b']`, `a[0]`),
literals (strings, numbers, `true`/`false`, timespans like `1d`, `datetime(...)`, `dynamic(null)`) and a
handful of functions. What falls outside raises KqlError with the position and token, which the emulator turns
into Resource Graph's error envelope: a query it does not understand is refused, never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

Row = Mapping[str, Any]
Expr = Callable[[Row], Any]


class KqlError(ValueError):
    """A query outside the subset: `code` is the detail code Resource Graph would give, with where it failed."""

    def __init__(self, message: str, *, code: str = "ParserFailure", line: int = 1, column: int = 0, token: str = ""):
        super().__init__(message)
        self.code = code
        self.line = line
        self.column = column
        self.token = token


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<string>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
    | (?P<timespan>\d+(?:\.\d+)?(?:ms|d|h|m|s)\b)
    | (?P<number>\d+(?:\.\d+)?)
    | (?P<op>!in~|!in\b|in~|==|!=|=~|!~|<=|>=|[|(),.\[\]=<>+\-*/!])
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:-(?:away|expand|rename|keep|reorder)\b)?)
    """,
    re.VERBOSE,
)
_TIMESPAN_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_STRING_OPS = ("has", "contains", "startswith", "endswith")
_TABULAR = ("where", "project", "extend", "project-away", "order", "sort", "take", "limit", "count")
# Operators Resource Graph has that this subset does not: named so the refusal says what is missing.
_KNOWN_ELSEWHERE = ("summarize", "join", "union", "mv-expand", "mvexpand", "parse", "top", "distinct", "sample")


@dataclass(frozen=True)
class Token:
    kind: str  # string | timespan | number | op | name | end
    text: str
    line: int
    column: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    line, line_start = 1, 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise KqlError(
                f"unexpected character {text[pos]!r}", line=line, column=pos - line_start, token=text[pos : pos + 10]
            )
        kind = match.lastgroup or ""
        value = match.group(0)
        if kind == "space":
            for offset, char in enumerate(value):
                if char == "\n":
                    line, line_start = line + 1, pos + offset + 1
        else:
            tokens.append(Token(kind, value, line, pos - line_start))
        pos = match.end()
    tokens.append(Token("end", "", line, pos - line_start))
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


# -- values ---------------------------------------------------------------------------------------------------


def _parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    """tostring(): null is the empty string; JSON values are written as JSON would."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _number(value: Any, kind: type) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return None
    try:
        return kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError):
        return None


def _comparable(a: Any, b: Any) -> tuple[Any, Any] | None:
    if a is None or b is None:
        return None
    if isinstance(a, datetime) or isinstance(b, datetime):
        da, db = _parse_datetime(a), _parse_datetime(b)
        return (da, db) if da is not None and db is not None else None
    if isinstance(a, timedelta) and isinstance(b, timedelta):
        return a, b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a, b
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    return None


def _equal(a: Any, b: Any, fold: bool) -> bool:
    if fold:
        return a is not None and b is not None and _text(a).lower() == _text(b).lower()
    pair = _comparable(a, b)
    if pair is not None:
        return bool(pair[0] == pair[1])
    return a is not None and a == b


def _order_key(value: Any) -> tuple[int, Any]:
    # nulls first (KQL's default for ascending order), then numbers, times, text, anything else as text.
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, datetime):
        return (2, value.timestamp())
    if isinstance(value, str):
        return (3, value)
    return (4, _text(value))


# -- functions ------------------------------------------------------------------------------------------------


def _split(value: Any, separator: Any) -> list[str] | None:
    if value is None:
        return None
    return _text(value).split(_text(separator)) if _text(separator) else [_text(value)]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass
class Context:
    """What a query may read besides its rows: the service's clock (for now() and ago())."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))


_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    # name: (fewest arguments, most arguments, implementation); the last argument of every call is the Context.
    "tostring": (1, 1, lambda ctx, v: _text(v)),
    "tolower": (1, 1, lambda ctx, v: _text(v).lower()),
    "toupper": (1, 1, lambda ctx, v: _text(v).upper()),
    "toint": (1, 1, lambda ctx, v: _number(v, int)),
    "tolong": (1, 1, lambda ctx, v: _number(v, int)),
    "todouble": (1, 1, lambda ctx, v: _number(v, float)),
    "toreal": (1, 1, lambda ctx, v: _number(v, float)),
    "todatetime": (1, 1, lambda ctx, v: _parse_datetime(v)),
    "isnull": (1, 1, lambda ctx, v: v is None),
    "isnotnull": (1, 1, lambda ctx, v: v is not None),
    "isempty": (1, 1, lambda ctx, v: _is_empty(v)),
    "isnotempty": (1, 1, lambda ctx, v: not _is_empty(v)),
    "strlen": (1, 1, lambda ctx, v: None if v is None else len(_text(v))),
    "split": (2, 2, lambda ctx, v, sep: _split(v, sep)),
    "array_length": (1, 1, lambda ctx, v: len(v) if isinstance(v, list) else None),
    "coalesce": (1, 8, lambda ctx, *vs: next((v for v in vs if not _is_empty(v)), None)),
    "iff": (3, 3, lambda ctx, c, a, b: a if c is True else b),
    "now": (0, 0, lambda ctx: ctx.now),
    "ago": (1, 1, lambda ctx, span: ctx.now - span if isinstance(span, timedelta) else None),
    "not": (1, 1, lambda ctx, v: None if v is None else not bool(v)),
}
# Functions whose result has a static type (what Resource Graph reports as the column's type).
_TYPED = {
    "tostring": "string",
    "tolower": "string",
    "toupper": "string",
    "toint": "integer",
    "tolong": "integer",
    "todouble": "number",
    "toreal": "number",
    "todatetime": "datetime",
    "strlen": "integer",
    "isnull": "boolean",
    "isnotnull": "boolean",
    "isempty": "boolean",
    "isnotempty": "boolean",
    "now": "datetime",
    "ago": "datetime",
    "not": "boolean",
    "array_length": "integer",
}

# Columns every row of the resource tables carries, with their types; anything under them is dynamic.
STRING_COLUMNS = ("id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId", "managedBy")


@dataclass(frozen=True)
class Compiled:
    fn: Expr
    kind: str  # string | integer | number | boolean | datetime | timespan | dynamic
    path: tuple[str, ...] = ()  # a plain member path (a column name follows from it)


Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Stage:
    kind: str  # where | project | extend | project-away | order | take | count
    run: Callable[[Rows], Rows]
    row: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # project: one row's projection
    passthrough: frozenset[str] = frozenset()  # project: columns it copies unchanged
    columns: tuple[str, ...] = ()  # order: the plain columns it sorts on


@dataclass
class Query:
    """A parsed query: its table and a pipeline of stages over rows."""

    table: str
    stages: list[Stage]
    columns: list[str] | None  # the output columns when a projection fixes them
    column_kinds: dict[str, str]
    limited: bool  # take/limit present: Resource Graph gives no skip token then
    text: str

    def run(self, rows: Iterable[dict[str, Any]]) -> Rows:
        out, finish = self.run_lazy(rows)
        return out if finish is None else [finish(row) for row in out]

    def run_lazy(self, rows: Iterable[dict[str, Any]]) -> tuple[Rows, Callable[[dict[str, Any]], Any] | None]:
        """The rows, and the final projection still to apply to each (None: applied): a service projects only
        the page it sends, not the fifty thousand rows behind it. An order on columns the projection copies
        unchanged is done before it, which gives the same rows."""
        stages = list(self.stages)
        if (
            len(stages) >= 2
            and stages[-1].kind == "order"
            and stages[-2].kind == "project"
            and stages[-1].columns
            and set(stages[-1].columns) <= stages[-2].passthrough
        ):
            stages[-2], stages[-1] = stages[-1], stages[-2]
        finish = None
        if stages and stages[-1].kind == "project":
            finish = stages.pop().row
        out = list(rows)
        for stage in stages:
            out = stage.run(out)
        return out, finish


def _walk(fn: Expr, steps: tuple[str | int, ...]) -> Expr:
    """Member access and indexing in one loop (a path of three members is one call per row, not three)."""

    def get(row: Row) -> Any:
        value = fn(row)
        for step in steps:
            if type(step) is str:
                if type(value) is dict:
                    value = value.get(step)
                else:
                    value = value.get(step) if isinstance(value, Mapping) else None
            elif isinstance(value, list) and -len(value) <= step < len(value):  # type: ignore[operator]
                value = value[step]  # type: ignore[index]
            else:
                return None
        return value

    return get


def _first(n: int) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda rows: rows[:n]


def _sort_key(fn: Expr) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: _order_key(fn(row))


def _either(lf: Expr, rf: Expr) -> Expr:
    return lambda row: lf(row) is True or rf(row) is True


def _both(lf: Expr, rf: Expr) -> Expr:
    return lambda row: lf(row) is True and rf(row) is True


def _negate(fn: Expr) -> Expr:
    def run(row: Row) -> Any:
        value = fn(row)
        return -value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return run


class _Parser:
    def __init__(self, text: str, context: Context, tables: Iterable[str]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.ctx = context
        self.tables = {t.lower(): t for t in tables}

    # -- tokens

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def fail(self, message: str, token: Token | None = None, code: str = "ParserFailure") -> KqlError:
        at = token or self.tok
        return KqlError(message, code=code, line=at.line, column=at.column, token=at.text)

    def take(self) -> Token:
        token = self.tok
        self.pos += 1
        return token

    def accept(self, text: str) -> bool:
        if self.tok.kind in ("op", "name") and self.tok.text.lower() == text:
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> Token:
        if not self.accept(text):
            raise self.fail(f"expected {text!r}")
        return self.tokens[self.pos - 1]

    # -- the query

    def query(self) -> Query:
        first = self.take()
        if first.kind != "name":
            raise self.fail("a query starts with a table name", first)
        table = self.tables.get(first.text.lower())
        if table is None:
            raise self.fail(
                f"the table {first.text!r} is not one Resource Graph has here", first, "InvalidQueryLanguage"
            )
        stages: list[Stage] = []
        columns: list[str] | None = None
        kinds: dict[str, str] = {}
        limited = False
        while self.accept("|"):
            word = self.take()
            name = word.text.lower()
            if word.kind != "name" or name not in _TABULAR:
                known = name in _KNOWN_ELSEWHERE
                raise self.fail(
                    f"the operator {word.text!r} is {'outside the emulated subset' if known else 'unknown'}",
                    word,
                    "InvalidQueryLanguage" if known else "ParserFailure",
                )
            if name == "where":
                stages.append(Stage("where", self._where(self.expr())))
            elif name in ("project", "extend"):
                items = self._assignments(name)
                stages.append(self._project(items, keep=name == "extend"))
                if name == "project":
                    columns = [n for n, _ in items]
                    kinds = {n: c.kind for n, c in items}
                else:
                    if columns is not None:
                        columns += [n for n, _ in items if n not in columns]
                    kinds.update({n: c.kind for n, c in items})
            elif name == "project-away":
                names = [self._name()]
                while self.accept(","):
                    names.append(self._name())
                stages.append(Stage("project-away", self._away(names)))
                if columns is not None:
                    columns = [c for c in columns if c not in names]
            elif name in ("order", "sort"):
                self.expect("by")
                stages.append(self._order())
            elif name in ("take", "limit"):
                count = self.take()
                if count.kind != "number" or "." in count.text:
                    raise self.fail("take and limit need a whole number", count)
                n = int(count.text)
                stages.append(Stage("take", _first(n)))
                limited = True
            else:  # count
                stages.append(Stage("count", lambda rows: [{"Count": len(rows)}]))
                columns, kinds = ["Count"], {"Count": "integer"}
        if self.tok.kind != "end":
            raise self.fail(f"unexpected {self.tok.text!r}")
        return Query(table, stages, columns, kinds, limited, self.text)

    def _name(self) -> str:
        token = self.take()
        if token.kind != "name":
            raise self.fail("expected a column name", token)
        return token.text

    def _assignments(self, operator: str) -> list[tuple[str, Compiled]]:
        items: list[tuple[str, Compiled]] = []
        unnamed = 0
        while True:
            if self.tok.kind == "name" and self.tokens[self.pos + 1].text == "=":
                name = self.take().text
                self.take()
                items.append((name, self.expr()))
            else:
                start = self.tok
                compiled = self.expr()
                if compiled.path:
                    name = "_".join(compiled.path)
                elif operator == "extend":
                    raise self.fail("extend needs a name for each new column", start)
                else:
                    unnamed += 1
                    name = f"Column{unnamed}"
                items.append((name, compiled))
            if not self.accept(","):
                return items

    # -- stages

    @staticmethod
    def _where(cond: Compiled) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
        fn = cond.fn
        return lambda rows: [row for row in rows if fn(row) is True]

    @staticmethod
    def _project(items: list[tuple[str, Compiled]], keep: bool) -> Stage:
        pairs = [(name, compiled.fn) for name, compiled in items]

        def one(row: dict[str, Any]) -> dict[str, Any]:
            new = dict(row) if keep else {}
            for name, fn in pairs:
                new[name] = fn(row)
            return new

        passthrough = frozenset(name for name, compiled in items if compiled.path == (name,))
        return Stage(
            "extend" if keep else "project",
            lambda rows: [one(r) for r in rows],
            row=None if keep else one,
            passthrough=passthrough,
        )

    @staticmethod
    def _away(names: list[str]) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
        drop = set(names)
        return lambda rows: [{k: v for k, v in row.items() if k not in drop} for row in rows]

    def _order(self) -> Stage:
        keys: list[tuple[Expr, bool]] = []
        plain: list[str] = []
        while True:
            compiled = self.expr()
            if len(compiled.path) == 1:
                plain.append(compiled.path[0])
            descending = True  # KQL sorts descending unless told otherwise
            if self.accept("asc"):
                descending = False
            else:
                self.accept("desc")
            keys.append((compiled.fn, descending))
            if not self.accept(","):
                break

        def run(rows: Rows) -> Rows:
            out = list(rows)
            for fn, descending in reversed(keys):  # stable sorts, last key first
                out.sort(key=_sort_key(fn), reverse=descending)
            return out

        return Stage("order", run, columns=tuple(plain) if len(plain) == len(keys) else ())

    # -- expressions, lowest precedence first

    def expr(self) -> Compiled:
        left = self._and()
        while self.accept("or"):
            right = self._and()
            lf, rf = left.fn, right.fn
            left = Compiled(_either(lf, rf), "boolean")
        return left

    def _and(self) -> Compiled:
        left = self._comparison()
        while self.accept("and"):
            right = self._comparison()
            lf, rf = left.fn, right.fn
            left = Compiled(_both(lf, rf), "boolean")
        return left

    def _comparison(self) -> Compiled:
        left = self._additive()
        token = self.tok
        op = token.text.lower() if token.kind in ("op", "name") else ""
        negated = False
        if op == "!" and self.tokens[self.pos + 1].text.lower() in _STRING_OPS:
            self.take()
            negated = True
            op = self.tok.text.lower()
        if op in ("==", "!=", "=~", "!~"):
            self.take()
            right = self._additive()
            fold = op in ("=~", "!~")
            positive = op in ("==", "=~")
            lf, rf = left.fn, right.fn

            def compare(row: Row, lf: Expr = lf, rf: Expr = rf, fold: bool = fold, positive: bool = positive) -> Any:
                a, b = lf(row), rf(row)
                if a is None or b is None:
                    return False if positive else (a is None) != (b is None)
                return _equal(a, b, fold) is positive

            return Compiled(compare, "boolean")
        if op in ("<", "<=", ">", ">="):
            self.take()
            right = self._additive()
            lf, rf = left.fn, right.fn
            test = {
                "<": lambda a, b: a < b,
                "<=": lambda a, b: a <= b,
                ">": lambda a, b: a > b,
                ">=": lambda a, b: a >= b,
            }[op]

            def order(row: Row, lf: Expr = lf, rf: Expr = rf, test: Callable[[Any, Any], bool] = test) -> bool:
                pair = _comparable(lf(row), rf(row))
                return pair is not None and bool(test(*pair))

            return Compiled(order, "boolean")
        if op in ("in", "in~", "!in", "!in~"):
            self.take()
            self.expect("(")
            values = [self._additive()]
            while self.accept(","):
                values.append(self._additive())
            self.expect(")")
            fold = op.endswith("~")
            inside = not op.startswith("!")
            lf = left.fn
            fns = [v.fn for v in values]

            def member(
                row: Row, lf: Expr = lf, fns: list[Expr] = fns, fold: bool = fold, inside: bool = inside
            ) -> bool:
                a = lf(row)
                hit = a is not None and any(_equal(a, fn(row), fold) for fn in fns)
                return hit is inside

            return Compiled(member, "boolean")
        if op in _STRING_OPS:
            self.take()
            right = self._additive()
            lf, rf = left.fn, right.fn
            check = {
                "has": lambda a, b: re.search(rf"(?<![0-9a-z]){re.escape(b)}(?![0-9a-z])", a) is not None,
                "contains": lambda a, b: b in a,
                "startswith": lambda a, b: a.startswith(b),
                "endswith": lambda a, b: a.endswith(b),
            }[op]

            def text_test(
                row: Row, lf: Expr = lf, rf: Expr = rf, check: Callable[[str, str], bool] = check, neg: bool = negated
            ) -> bool:
                a, b = lf(row), rf(row)
                if a is None or b is None:
                    return neg
                return check(_text(a).lower(), _text(b).lower()) is not neg

            return Compiled(text_test, "boolean")
        if negated:
            raise self.fail("expected has, contains, startswith or endswith after '!'")
        return left

    def _additive(self) -> Compiled:
        left = self._unary()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            sign = self.take().text
            right = self._unary()
            lf, rf = left.fn, right.fn

            def arith(row: Row, lf: Expr = lf, rf: Expr = rf, plus: bool = sign == "+") -> Any:
                a, b = lf(row), rf(row)
                if isinstance(a, str):
                    a = _parse_datetime(a) or a
                try:
                    return a + b if plus else a - b
                except TypeError:
                    return None

            kind = left.kind if left.kind in ("datetime", "integer", "number") else "dynamic"
            left = Compiled(arith, kind)
        return left

    def _unary(self) -> Compiled:
        if self.tok.kind == "op" and self.tok.text == "-":
            self.take()
            inner = self._unary()
            fn = inner.fn
            return Compiled(_negate(fn), inner.kind)
        return self._postfix()

    def _postfix(self) -> Compiled:
        base = self._primary()
        path = list(base.path)
        steps: list[str | int] = []  # member names and list indexes, in order
        plain = bool(path)
        while True:
            if self.accept("."):
                member = self._name()
                path.append(member)
                steps.append(member)
            elif self.tok.text == "[" and self.tok.kind == "op":
                self.take()
                key = self.take()
                self.expect("]")
                if key.kind == "string":
                    member = _unquote(key.text)
                    path.append(member)
                    steps.append(member)
                elif key.kind == "number" and "." not in key.text:
                    plain = False
                    steps.append(int(key.text))
                else:
                    raise self.fail("an index is a string or a whole number", key)
            else:
                break
        if not steps:
            return base
        return Compiled(_walk(base.fn, tuple(steps)), "dynamic", tuple(path) if plain else ())

    def _primary(self) -> Compiled:
        token = self.take()
        if token.kind == "string":
            value = _unquote(token.text)
            return Compiled(lambda row: value, "string")
        if token.kind == "number":
            number: int | float = float(token.text) if "." in token.text else int(token.text)
            return Compiled(lambda row: number, "number" if isinstance(number, float) else "integer")
        if token.kind == "timespan":
            unit = next(u for u in ("ms", "d", "h", "m", "s") if token.text.endswith(u))
            span = timedelta(seconds=float(token.text[: -len(unit)]) * _TIMESPAN_UNITS[unit])
            return Compiled(lambda row: span, "timespan")
        if token.kind == "op" and token.text == "(":
            inner = self.expr()
            self.expect(")")
            return Compiled(inner.fn, inner.kind)
        if token.kind != "name":
            raise self.fail(f"unexpected {token.text!r}", token)
        word = token.text
        if word in ("true", "false"):
            flag = word == "true"
            return Compiled(lambda row: flag, "boolean")
        if self.tok.text == "(" and self.tok.kind == "op":
            return self._call(token)
        return Compiled(lambda row: row.get(word), "string" if word in STRING_COLUMNS else "dynamic", (word,))

    def _call(self, token: Token) -> Compiled:
        name = token.text.lower()
        self.expect("(")
        if name == "datetime":
            raw = []
            while not (self.tok.kind == "op" and self.tok.text == ")"):
                if self.tok.kind == "end":
                    raise self.fail("datetime( is not closed")
                raw.append(self.take().text)
            self.expect(")")
            text = "".join(raw)
            when = _parse_datetime(_unquote(text) if text[:1] in "'\"" else text)
            if when is None:
                raise self.fail(f"{text!r} is not a date and time", token)
            return Compiled(lambda row: when, "datetime")
        if name == "dynamic":
            # Only dynamic(null), the empty value a projection gives where a column is not wanted; bags and arrays
            # are outside the emulated subset.
            inner = self.take()
            if inner.kind != "name" or inner.text != "null" or not self.accept(")"):
                raise self.fail("only dynamic(null) is emulated", inner, "InvalidQueryLanguage")
            return Compiled(lambda row: None, "dynamic")
        spec = _FUNCTIONS.get(name)
        if spec is None:
            raise self.fail(
                f"the function {token.text!r} is outside the emulated subset", token, "InvalidQueryLanguage"
            )
        args: list[Compiled] = []
        if not self.accept(")"):
            args.append(self.expr())
            while self.accept(","):
                args.append(self.expr())
            self.expect(")")
        low, high, impl = spec
        if not low <= len(args) <= high:
            raise self.fail(f"{token.text}() takes {low}–{high} arguments, not {len(args)}", token)
        fns = [a.fn for a in args]
        ctx = self.ctx
        return Compiled(lambda row: impl(ctx, *(f(row) for f in fns)), _TYPED.get(name, "dynamic"))


def parse(text: str, tables: Iterable[str], context: Context | None = None) -> Query:
    """Parse `text` against the tables the service holds; raises KqlError for anything outside the subset."""
    if not text or not text.strip():
        raise KqlError("the query is empty", token="")
    return _Parser(text, context or Context(), tables).query()
