"""The one sanitiser for outside text: what it escapes, what it keeps, and that it never raises."""

from __future__ import annotations

import json

from hypothesis import given

from core.sanitize import block, json_text, markdown, markdown_code, mask_secrets, message, one_line
from tests.hostile_text import hostile_text, inert

hostile = hostile_text(20)


def test_escape_sequences_become_visible_text() -> None:
    osc52 = "web-01\x1b]52;c;ZWNobyBwd25lZA==\x07"
    assert one_line(osc52) == "web-01\\x1b]52;c;ZWNobyBwd25lZA==\\x07"
    assert one_line("title\x1b]0;owned\x9c") == "title\\x1b]0;owned\\x9c"
    assert one_line("clear\x1b[2J\x1b[H") == "clear\\x1b[2J\\x1b[H"
    assert one_line("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert one_line("a\nb\r\nc") == "a\\nb\\r\\nc"
    assert one_line("tab\there") == "tab here"


def test_ordinary_names_are_left_alone() -> None:
    for name in ("web-shop-01", "SQL-02 [PROD]", "Ω-db", "数据库-01", "👩\u200d💻-dev", "a b  c"):
        assert one_line(name) == name


def test_bearer_tokens_and_jwts_are_masked() -> None:
    jwt = "eyJhbGciOiJub25lIn0.eyJ1cG4iOiJhQGIuYyJ9.sig"
    assert one_line(f"header value 'Bearer {jwt}\\n' is invalid") == "header value 'Bearer <hidden>' is invalid"
    assert mask_secrets(f"token={jwt}") == "token=<hidden>"
    assert mask_secrets("Bearer opaque-token-value-1234") == "Bearer <hidden>"
    # prose about bearer tokens is not a token
    assert mask_secrets("the header is not a bearer token.") == "the header is not a bearer token."


def test_a_long_message_is_capped_and_says_so() -> None:
    huge = "\n".join(f"line {n}" for n in range(65000))
    shown = message(huge)
    assert "\n" not in shown and len(shown) < 2100
    assert shown.endswith("more characters not shown)")
    assert len(block("x" * 10, max_chars=4)) < 60


def test_json_text_is_the_same_value_and_inert() -> None:
    data = {"name": "x\x9b1m\u202e\U000e0041\ud800\x1b", "n": 1}
    text = json_text(data, indent=2)
    assert json.loads(text) == data
    assert inert(text)


def test_markdown_cannot_open_a_construct() -> None:
    assert markdown("# Heading") == "\\# Heading"
    assert markdown("- item") == "\\- item"
    assert markdown("[x](http://e)") == "\\[x\\](http://e)"
    assert markdown("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert markdown("a|b") == "a\\|b"
    assert markdown("line\n## two") == "line\\\\n## two"  # the escape is escaped: it renders as typed
    assert markdown_code("a`b") == "`` a`b ``"


@given(hostile)
def test_one_line_output_is_always_one_inert_line(text: str) -> None:
    shown = one_line(text)
    assert "\n" not in shown and "\r" not in shown
    assert inert(shown)
    assert shown.encode("utf-8")  # no lone surrogate survives: printing it would raise


@given(hostile)
def test_block_keeps_lines_but_nothing_else(text: str) -> None:
    shown = block(text)
    assert all(inert(line) for line in shown.split("\n"))


@given(hostile)
def test_markdown_output_holds_no_raw_html_or_line_break(text: str) -> None:
    shown = markdown(text)
    assert "<" not in shown and ">" not in shown and "\n" not in shown and inert(shown)
