"""Percent-decoding and URL-encoded forms read every input exactly as urllib reads it."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote_to_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kommunen_kg.web.http.forms import form_pairs, percent_decoded

# Bytes a hostile or careless client puts around escapes: percent signs, hex digits, the
# backslash and "x" of the C decoder's own escapes, separators, and bytes that are no UTF-8.
TRICKY = st.lists(
    st.sampled_from(
        [
            *(b"%", b"\\", b"x", b"X", b"0", b"4", b"1", b"a", b"F", b"g", b"&", b"=", b"+", b" "),
            *(b"\xc3", b"\xa4", b"\xff", b"\x00", b"\n", b"%41", b"%c3%a4", b"%5C", b"%78", b"%%"),
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(TRICKY)
def test_percent_decoding_equals_urllib_for_any_bytes(raw: bytes) -> None:
    assert percent_decoded(raw) == unquote_to_bytes(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_a_quoted_text_decodes_to_itself(text: str) -> None:
    assert percent_decoded(quote(text, safe="").encode("ascii")).decode("utf-8") == text


@settings(max_examples=400, deadline=None)
@given(TRICKY)
def test_form_pairs_equal_parse_qsl_and_refuse_what_it_refuses(raw: bytes) -> None:
    try:
        expected = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict"
        )
    except UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            form_pairs(raw)
        return
    assert form_pairs(raw) == expected


def test_a_sparql_query_string_gives_its_query_and_its_other_parameters() -> None:
    query = 'SELECT ?s WHERE { ?s ?p "ä+€ %41" } # 100%'
    raw = f"query={quote(query, safe='')}&format=json&default-graph-uri=&named".encode("ascii")
    assert form_pairs(raw) == [
        ("query", query),
        ("format", "json"),
        ("default-graph-uri", ""),
        ("named", ""),
    ]


def test_a_plus_is_a_space_and_an_escaped_plus_a_plus() -> None:
    assert form_pairs(b"query=a+b%2Bc") == [("query", "a b+c")]


def test_an_escape_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(UnicodeDecodeError):
        form_pairs(b"query=%ff")
