"""The small OData $filter dialect ASR accepts: `Prop eq 'value'`, `and`, `or` and parentheses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(?P<open>\()|(?P<close>\))|'(?P<str>(?:[^']|'')*)'|(?P<word>[A-Za-z0-9_.:+-]+))")
_OPS = ("eq", "ne", "ge", "gt", "le", "lt")


class FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Clause:
    prop: str
    op: str
    value: str


# A parsed filter: a tree of ("and"|"or", [children]) tuples and Clause leaves.
Node = Clause | tuple[str, list["Node"]]


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match:
            raise FilterError(f"cannot read the filter at character {pos + 1}: {text[pos : pos + 20]!r}")
        pos = match.end()
        if match["open"]:
            out.append(("(", "("))
        elif match["close"]:
            out.append((")", ")"))
        elif match["str"] is not None:
            out.append(("str", match["str"].replace("''", "'")))
        else:
            out.append(("word", match["word"]))
    return out


def parse(text: str) -> Node:
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise FilterError("the filter ends too early")
        pos += 1
        return tokens[pos - 1]

    def expr() -> Node:
        parts = [term()]
        while (tok := peek()) and tok[0] == "word" and tok[1].lower() == "or":
            take()
            parts.append(term())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def term() -> Node:
        parts = [factor()]
        while (tok := peek()) and tok[0] == "word" and tok[1].lower() == "and":
            take()
            parts.append(factor())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def factor() -> Node:
        kind, value = take()
        if kind == "(":
            inner = expr()
            if take()[0] != ")":
                raise FilterError("a '(' is not closed")
            return inner
        if kind != "word":
            raise FilterError(f"expected a property name, got {value!r}")
        op_kind, op = take()
        if op_kind != "word" or op.lower() not in _OPS:
            raise FilterError(f"expected an operator ({', '.join(_OPS)}) after {value!r}, got {op!r}")
        val_kind, val = take()
        if val_kind not in ("str", "word"):
            raise FilterError(f"expected a value after '{value} {op}'")
        return Clause(value, op.lower(), val)

    tree = expr()
    if pos != len(tokens):
        raise FilterError(f"unexpected {tokens[pos][1]!r} in the filter")
    return tree


def clauses(node: Node) -> list[Clause]:
    if isinstance(node, Clause):
        return [node]
    return [c for child in node[1] for c in clauses(child)]


def evaluate(node: Node, test: Callable[[Clause], bool]) -> bool:
    if isinstance(node, Clause):
        return test(node)
    op, children = node
    if op == "and":
        return all(evaluate(c, test) for c in children)
    return any(evaluate(c, test) for c in children)
