"""List pages: the nextLink read from a page's end (so the page is parsed off the request path) is never wrong,
and a page that is not the ARM shape is a typed error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.azure.backend import _next_link_at_end, _page_json
from core.errors import MalformedResponse

LINK = "https://management.azure.com/Subscriptions/s/replicationProtectedItems?api-version=1&skipToken=50"

# Text that looks like the member being searched for, to tempt a careless reading.
_TRICKY = st.sampled_from(
    ['", "nextLink": "evil"}', '"nextLink": null}', "}", '\\"', ", ", "nextLink", "é", "\u2028", ""]
)
_TEXT = st.lists(st.one_of(_TRICKY, st.text(max_size=8)), max_size=4).map("".join)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), _TEXT)
_JSON = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.just("nextLink"), _TEXT), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    value=st.lists(_JSON, max_size=3),
    link=st.one_of(st.none(), _TEXT, st.just(LINK)),
    extra=st.dictionaries(_TEXT.filter(lambda k: k not in ("value", "nextLink")), _JSON, max_size=2),
    link_first=st.booleans(),
    compact=st.booleans(),
    ascii_only=st.booleans(),
)
def test_the_link_read_from_the_end_is_the_pages_own(
    value: list[Any], link: str | None, extra: dict[str, Any], link_first: bool, compact: bool, ascii_only: bool
) -> None:
    members: list[tuple[str, Any]] = [("value", value), *extra.items()]
    members.insert(0 if link_first else len(members), ("nextLink", link))
    separators = (",", ":") if compact else (", ", ": ")
    raw = json.dumps(dict(members), separators=separators, ensure_ascii=ascii_only).encode()
    found, read = _next_link_at_end(raw)
    if found:
        assert read == json.loads(raw)["nextLink"]
    else:
        assert read is None
    if not link_first:
        assert found, "a page that ends with its nextLink is read without parsing it"


def test_pages_that_do_not_end_with_their_link_are_left_to_the_parser() -> None:
    for raw in (
        b'{"nextLink": "x", "value": []}',
        b'{"value": [{"nextLink": "inner"}]}',
        b'{"value": [], "more": {"nextLink": "inner"}}',
        b'{"value": [], "nextLink": 7}',
        b'{"value": [], "nextLink": "cut',
        b"",
    ):
        assert _next_link_at_end(raw) == (False, None), raw
    assert _next_link_at_end(b'{"value": [],\n "nextLink" : null }\n') == (True, None)
    assert _next_link_at_end(b'{"value": [], "nextLink": "a\\"b\\u00e9"}') == (True, 'a"b\u00e9')


def test_a_page_that_is_not_the_arm_shape_is_a_typed_error() -> None:
    assert _page_json(b'{"value": [{"id": "x"}], "nextLink": null}') == {"value": [{"id": "x"}], "nextLink": None}
    assert _page_json({"value": []}) == {"value": []}
    for raw in (b'{"value": [', b"[1, 2]", b'{"value": {}}', b"\xff\xfe{"):
        with pytest.raises(MalformedResponse):
            _page_json(raw)
