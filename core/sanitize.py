"""One sanitiser for text from outside (Azure, vCenter, files, the journal): nothing reaches a terminal raw.

Names of VMs are set in vCenter by people with far fewer rights than the failback operator, ARM error text
comes from whatever answered, and scenario, config and journal files are read from disk. Before any of it is
written to a terminal, a report or a command line, it goes through here:

- `one_line`: control characters (C0, DEL, C1), invisible format characters (bidi overrides, zero-width
  spaces, the BOM), line and paragraph separators and lone surrogates become visible escapes (`\\x1b`,
  `\\u202e`), so no escape sequence, window-title or clipboard write (OSC 52), screen clear or spoofed line
  can come out of a name; a tab becomes a space; bearer tokens and JWTs are masked.
- `block`: the same for text that keeps its line breaks (a REST call, a report), optionally capped.
- `message`: an error message on one line, capped at MESSAGE_CHARS characters.
- `json_text`: JSON for a terminal: the characters above escaped as JSON escapes (still valid JSON, the
  same value once parsed).
- `markdown` / `markdown_code`: a value as inert Markdown text (no heading, list, link, emphasis or raw HTML
  can come out of it) or as a code span it cannot break out of.

Zero-width joiners (U+200C, U+200D) are kept: scripts and emoji need them, and they draw nothing by themselves.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Characters of the Unicode categories Cc, Cf, Cs, Zl and Zp (Unicode 14, the database of Python 3.11), less
# U+200C/U+200D. Written out: building the class from unicodedata at import would cost every launch ~0.1 s.
_FORMAT_AND_REST = (
    "\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE = re.compile(f"[\x00-\x1f{_FORMAT_AND_REST}]")
# In JSON text a raw C0 character can only be the line break of its indentation: json.dumps escapes the rest.
_UNSAFE_IN_JSON = re.compile(f"[{_FORMAT_AND_REST}]")

# A bearer token in any text (an echoed header, a proxy's error page), and a JWT on its own. The JWT's first
# part always starts with the encoding of '{"'; the minimum lengths keep words such as "eyJohn.doe" out.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer)(\s+|%20|\\[nrt]|\\x[0-9a-f]{2})+[^\s\"',;<>]{8,}")
HIDDEN = "<hidden>"

# What a message may show on a terminal; the rest stays where it was recorded (the journal keeps it whole).
MESSAGE_CHARS = 2000


def _escape(char: str) -> str:
    point = ord(char)
    if char == "\t":
        return " "
    if char in "\n\r":
        return "\\n" if char == "\n" else "\\r"
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def mask_secrets(text: str) -> str:
    """`Bearer <anything>` and JWTs replaced by <hidden>, whatever text they sit in."""
    if "earer" not in text and "EARER" not in text and "eyJ" not in text:
        return text
    text = _BEARER.sub(lambda m: f"{m.group(1)} {HIDDEN}", text)
    return JWT.sub(HIDDEN, text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def one_line(value: Any, limit: int = 0) -> str:
    """`value` as one line of inert text; longer than `limit` (when given) it is cut with an ellipsis."""
    text = mask_secrets(_text(value))
    if not text.isprintable() and _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: _escape(m.group()), text)
    if limit and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def lines_of(value: Any) -> list[str]:
    """The lines of a text, split on the line breaks a terminal knows (CR LF, CR, LF) and nothing else."""
    return re.split(r"\r\n|\r|\n", _text(value))


def block(value: Any, max_lines: int = 0, max_chars: int = 0) -> str:
    """Text that keeps its line breaks, each line made inert; capped at `max_lines` / `max_chars` when given,
    with a last line saying how much was left out."""
    lines = [one_line(line) for line in lines_of(value)]
    whole = "\n".join(lines)
    text = "\n".join(lines[:max_lines]) if max_lines else whole
    if max_chars and len(text) > max_chars:
        text = text[:max_chars]
    left_out = len(whole) - len(text)
    if left_out > 0:
        text += f"…\n… ({left_out} more characters not shown)"
    return text


def message(value: Any) -> str:
    """An error message for a terminal: one inert line (a line break in it, from a name or from ARM, cannot start
    a line of its own), at most MESSAGE_CHARS characters, and how much was left out."""
    text = one_line(value)
    if len(text) <= MESSAGE_CHARS:
        return text
    return f"{text[:MESSAGE_CHARS]}… ({len(text) - MESSAGE_CHARS} more characters not shown)"


def _json_escape(char: str) -> str:
    point = ord(char)
    if point < 0x10000:
        return f"\\u{point:04x}"
    point -= 0x10000
    return f"\\u{0xD800 + (point >> 10):04x}\\u{0xDC00 + (point & 0x3FF):04x}"


def json_text(data: Any, **options: Any) -> str:
    """json.dumps(data) with the characters a terminal would act on written as JSON escapes (same value)."""
    text = json.dumps(data, ensure_ascii=False, **options)
    if text.isprintable():
        return text
    # Only inside strings can such characters appear (JSON's own syntax is ASCII); newlines of `indent` stay.
    return _UNSAFE_IN_JSON.sub(lambda m: _json_escape(m.group()), text)


# Markdown that a value could start: emphasis, code, links and images, raw HTML, tables, strike-through.
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
# ... and what only acts at the start of a line: headings, quotes, list items, rules, setext underlines.
_MD_LEAD = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def markdown(value: Any, limit: int = 0) -> str:
    """A value as inert Markdown: one line, every construct it could open escaped, HTML as entities."""
    text = one_line(value, limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_INLINE.sub(r"\\\1", text)
    return _MD_LEAD.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def markdown_code(value: Any) -> str:
    """A value as a Markdown code span, fenced by more backticks than it holds (CommonMark's rule)."""
    text = one_line(value)
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


__all__ = [
    "HIDDEN",
    "JWT",
    "MESSAGE_CHARS",
    "block",
    "json_text",
    "lines_of",
    "markdown",
    "markdown_code",
    "mask_secrets",
    "message",
    "one_line",
]
