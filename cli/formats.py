"""`-o json|jsonc|yaml|tsv|table|none` and `--query`: one JSON document, printed the way the operator asked.

Every command builds its JSON (the shapes of `cli.shapes`, the keys today's scripts read); this module turns it
into text. `--query` (JMESPath, as az uses it) runs before printing, on the command's *result*: for a listing
(items, plans, jobs, the fleet) the list of rows, as az's list commands return a list; otherwise the whole
document. Every string leaves inert (`core.sanitize`): a VM name cannot move the cursor whatever the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from core.errors import UsageError
from core.sanitize import json_text, one_line

FORMATS = ("table", "json", "jsonc", "yaml", "tsv", "none")
FORMAT_HELP = (
    "table (the default: aligned, for people), json (stable keys, UTC times), jsonc (json in colour), yaml, "
    "tsv (tab-separated values for shell loops), none (only the exit code)"
)

# SGR colours, always with words beside them: colour only helps the eye, it never carries the meaning alone.
RESET = "\x1b[0m"
_JSON_COLOURS = {"key": "\x1b[34m", "string": "\x1b[32m", "number": "\x1b[36m", "literal": "\x1b[35m"}
_JSON_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
    r"|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)"
)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def result_of(data: Any, rows: str | None) -> Any:
    """What --query and tsv work on: the named list of a listing, else the whole document."""
    if rows and isinstance(data, dict) and isinstance(data.get(rows), list):
        return data[rows]
    return data


def compile_query(expression: str) -> Any:
    """The JMESPath expression, compiled once; a mistake in it is a usage error (exit 2) that says where."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise UsageError(
            f"--query is not a JMESPath expression: {one_line(exc, 200)}",
            hint="For example: --query \"[?stage=='ready'].friendly_name\" (https://jmespath.org/tutorial.html).",
        ) from None


def run_query(compiled: Any, data: Any) -> Any:
    from jmespath.exceptions import JMESPathError

    try:
        return compiled.search(data)
    except JMESPathError as exc:  # e.g. a function given the wrong type of value
        raise UsageError(f"--query could not be applied: {one_line(exc, 200)}") from None


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _cell(value: Any) -> str:
    """One TSV or table cell: null is empty, booleans are lowercase as in JSON, breaks and tabs are spaces."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value)
    return one_line(re.sub(r"[\t\r\n]+", " ", text))


def tsv_lines(data: Any) -> list[str]:
    """az's tsv: a row per element of a list, its scalar values in field order; nested lists and objects left out."""
    rows = data if isinstance(data, list) else [data]
    lines = []
    for row in rows:
        if isinstance(row, dict):
            lines.append("\t".join(_cell(v) for v in row.values() if _scalar(v)))
        elif isinstance(row, list):
            lines.append("\t".join(_cell(v) for v in row if _scalar(v)))
        else:
            lines.append(_cell(row))
    return lines


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json_text(str(value))  # a double-quoted YAML scalar: JSON's escapes are YAML's


def _yaml_key(key: Any) -> str:
    text = str(key)
    return (
        text
        if _PLAIN_KEY.match(text) and text not in ("null", "true", "false", "y", "n", "yes", "no")
        else (json_text(text))
    )


def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML of a JSON value (strings always quoted, so no value is read back as another type)."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            head = f"{pad}{_yaml_key(key)}:"
            if _scalar(item) or not item:
                lines.append(f"{head} {_yaml_scalar(item) if _scalar(item) else ('{}' if item == {} else '[]')}")
            elif isinstance(item, list):
                lines.append(head)
                lines.extend(yaml_lines(item, indent))
            else:
                lines.append(head)
                lines.extend(yaml_lines(item, indent + 2))
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            if _scalar(item) or not item:
                lines.append(f"{pad}- {_yaml_scalar(item) if _scalar(item) else ('{}' if item == {} else '[]')}")
                continue
            nested = yaml_lines(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines.extend(nested[1:])
        return lines
    return [pad + _yaml_scalar(value)]


def jsonc_text(data: Any, colour: bool) -> str:
    """JSON as -o json prints it, keys and values in colour when the terminal takes colour."""
    text = json_text(data, sort_keys=True, indent=2)
    if not colour:
        return text

    def paint(match: re.Match[str]) -> str:
        if match.group("string") is not None:
            kind = "key" if match.group("colon") else "string"
            return f"{_JSON_COLOURS[kind]}{match.group('string')}{RESET}{match.group('colon') or ''}"
        kind = "number" if match.group("number") is not None else "literal"
        return f"{_JSON_COLOURS[kind]}{match.group()}{RESET}"

    return _JSON_TOKEN.sub(paint, text)


def generic_table(data: Any, width: int) -> list[str]:
    """A table of any JSON value (for --query with -o table): a row per element, a column per scalar field."""
    from cli.output import table

    if isinstance(data, dict) and not all(_scalar(v) for v in data.values()):
        data = [data]
    if isinstance(data, dict):
        rows = [[str(k), _cell(v)] for k, v in data.items()]
        return table(["KEY", "VALUE"], rows, [30, width], width=width) if rows else []
    if not isinstance(data, list):
        return [] if data is None else [_cell(data)]
    if all(_scalar(v) for v in data):
        return [_cell(v) for v in data]
    columns: list[str] = []
    for row in data:
        if isinstance(row, dict):
            columns += [k for k, v in row.items() if _scalar(v) and k not in columns]
    if not columns:
        return []
    body = [[_cell(row.get(c)) if isinstance(row, dict) else "" for c in columns] for row in data]
    share = max(8, (width - 2 * (len(columns) - 1)) // len(columns))
    return table([c.upper() for c in columns], body, [max(share, 8)] * len(columns), width=width)


def render(
    data: Any,
    fmt: str,
    *,
    rows: str | None = None,
    query: Any = None,
    colour: bool = False,
    width: int = 80,
) -> list[str]:
    """The lines to print for `data` in format `fmt` (json documents are one multi-line string)."""
    if query is not None:
        data = run_query(query, result_of(data, rows))
        rows = None
    if fmt == "none":
        return []
    if fmt == "json":
        return [json_text(data, sort_keys=True, indent=2)]
    if fmt == "jsonc":
        return [jsonc_text(data, colour)]
    if fmt == "yaml":
        return yaml_lines(data)
    if fmt == "tsv":
        return tsv_lines(result_of(data, rows))
    return generic_table(result_of(data, rows), width)


Paint = Callable[[int, int, str], str]


def stage_paint(keys: Sequence[str], column: int) -> Paint:
    """Colour the stage column of a table by each row's stage key (the words stay: colour is only a help)."""
    colours = {
        "ready": "\x1b[32m",
        "failed-over": "\x1b[33m",
        "committed": "\x1b[33m",
        "protected-to-azure": "\x1b[36m",
        "not-ready": "\x1b[31m",
        "in-azure": "\x1b[35m",
    }

    def paint(row: int, col: int, cell: str) -> str:
        if col != column or row >= len(keys):
            return cell
        code = colours.get(keys[row], "\x1b[34m" if keys[row].endswith("-running") else "")
        return f"{code}{cell}{RESET}" if code else cell

    return paint
