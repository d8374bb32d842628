"""The lexical scan keeps the tokens of a query's prologue: the readings stay those of the text."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kommunen_kg.sparql import lexer

PROLOGUE_PARTS = [
    "PREFIX a: <http://x/a#>",
    "PREFIX : <>",
    "prefix ü-b: <urn:é>",
    "BASE <http://x/>",
    "base<x#y>",
    "PREFIXa:<b>",
    "PREFIX a:b <c>",
    "PREFIX a: <\\u0041>",
    "PREFIX a: <x#'>",
    "PREFIX\ta:\t<a b>",
    "# a comment\n",
    "#",
    "\n",
    " ",
]
BODY_PARTS = [
    "SELECT * { ?s ?p ?o }",
    "ASK { FILTER(?a<?b)SERVICE:#> }",
    "<y#z>",
    "<y#'>",
    "?y",
    "1",
    "SERVICE <x>",
    "'''a",
    '"b"',
    "a-b:c",
    "\\u0041",
    "\n",
    " ",
]


def _whole_scan(text: str) -> list[list[lexer.Token]]:
    """The readings as the scan finds them without keeping a prologue."""
    kept = lexer.PROLOGUE_KEPT
    lexer.PROLOGUE_KEPT = -1
    try:
        return [list(reading) for reading in lexer._readings.__wrapped__(text)]
    finally:
        lexer.PROLOGUE_KEPT = kept


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(PROLOGUE_PARTS), max_size=6),
    st.lists(st.sampled_from(BODY_PARTS), max_size=6),
)
def test_readings_with_a_kept_prologue_are_those_of_the_whole_text(prologue, body):
    text = "".join(prologue) + "".join(body)
    kept = [list(reading) for reading in lexer._readings.__wrapped__(text)]
    assert kept == _whole_scan(text)


def test_the_prologue_of_a_query_is_scanned_once_for_every_query_that_shares_it():
    prologue = "PREFIX ki: <https://w3id.org/kommunen-innovativ/def#>\n# a comment\nBASE <x:>"
    lexer._prologue.cache_clear()
    lexer.readings(prologue + "\n# query 1\nSELECT * { ?s ki:theme ?o } LIMIT 1")
    lexer.readings(prologue + "\n# query 2\nSELECT * { ?s ki:theme ?o } LIMIT 2")
    assert lexer._prologue.cache_info().hits == 1


def test_a_prologue_longer_than_kept_is_scanned_with_the_rest():
    text = "PREFIX a: <x>\n" * (lexer.PROLOGUE_KEPT // 14 + 1) + "ASK {}"
    lexer._prologue.cache_clear()
    found = lexer.readings(text)
    assert found[0][-3].text == "ASK"
    assert lexer._prologue.cache_info().currsize == 1  # the empty prologue, not this one


def test_a_run_of_digits_is_one_token():
    found = [(t.kind, t.text) for t in lexer.tokens("LIMIT 1000000123 OFFSET 0")]
    assert found == [("word", "LIMIT"), ("other", "1000000123"), ("word", "OFFSET"), ("other", "0")]


def test_a_decimal_and_an_exponent_keep_their_parts():
    found = [t.text for t in lexer.tokens("1.25e3 -7")]
    assert found == ["1", ".", "25", "e3", "-", "7"]


def test_digits_inside_a_run_of_names_split_as_a_scan_would_split_them():
    assert [t.text for t in lexer.tokens("ab-12c")] == ["ab", "-", "12", "c"]


# The token pattern as it reads IRIs, strings and local names one character at a time.
_ONE_AT_A_TIME = re.compile(
    r"""
    (\s*+)(?:
    (?P<comment>\#[^\r\n]*)
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*+>)
  | (?P<string>
        \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*+(?:\"\"\"|"{0,2}\\?\Z)
      | '''(?:(?:'|'')?(?:[^'\\]|\\.))*+(?:'''|'{0,2}\\?\Z)
      | "(?:[^"\\\r\n]|\\.)*+(?:"|(?=[\r\n])|\\?\Z)
      | '(?:[^'\\\r\n]|\\.)*+(?:'|(?=[\r\n])|\\?\Z)
    )
  | (?P<var>[?$]\w+)
  | (?P<name>[^\W\d][\w\-]*+)(?::(?P<local>(?:[\w:\-]|%[0-9A-Fa-f]{2}|\\[^\s])*+))?
  | :(?P<nslocal>(?:[\w:\-]|%[0-9A-Fa-f]{2}|\\[^\s])*+)
  | (?P<other>[0-9]++|.)
  | \Z)
    """,
    re.VERBOSE | re.DOTALL,
)
PIECES = [
    *("<", ">", '"', "'", "\\", "\\u0041", "\\U0001F600", "\\u00", "%4", "%41", ":", "-"),
    *("a", "b:c", "x", "1", " ", "\n", "\r", "#", "{", "?v", '"""', "'''", "é", "\t"),
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_runs_of_plain_characters_give_the_tokens_of_one_character_at_a_time(text):
    def matches(pattern):
        return [(m.lastgroup, m.span()) for m in pattern.finditer(text)]

    assert matches(lexer._TOKEN) == matches(_ONE_AT_A_TIME)
