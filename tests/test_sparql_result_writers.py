"""The SPARQL results writers (sparql/results.py) write what the formats' readers read back.

The JSON and XML writers write each distinct term once, as text; these tests hold them to what
``json.dumps`` of the same document gives and to what pyoxigraph's own readers read back.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kommunen_kg.sparql import results

XSD = "http://www.w3.org/2001/XMLSchema#"
TRICKY = [
    "plain",
    'quote " and backslash \\ and slash /',
    "control \x00\x01\x1f tab\t line\n return\r",
    "Umlaute äöü ß, € and 🙂, line separator \u2028 and \u2029",
]
ROWS = [(ox.NamedNode("http://example.org/a"), ox.Literal(text), None) for text in TRICKY] + [
    (
        ox.BlankNode("b1"),
        ox.Literal("Mobilität", language="de"),
        ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")),
    ),
    (
        ox.NamedNode("http://example.org/a"),
        None,
        ox.Literal("2016", datatype=ox.NamedNode(XSD + "gYear")),
    ),
]
VARIABLES = ["s", "o", "n"]


def _as_dicts() -> dict:
    bindings = [
        {
            name: results._json_term(term)
            for name, term in zip(VARIABLES, row, strict=True)
            if term is not None
        }
        for row in ROWS
    ]
    return {"head": {"vars": VARIABLES}, "results": {"bindings": bindings}}


def test_the_json_writer_writes_what_json_dumps_writes():
    expected = json.dumps(_as_dicts(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert results.to_json(VARIABLES, ROWS) == expected


@pytest.mark.parametrize("fmt", ["json", "tsv"])
def test_every_writer_is_read_back_to_the_same_rows(fmt):
    written = results.WRITERS[fmt](VARIABLES, ROWS)
    back = ox.parse_query_results(written, ox.QueryResultsFormat.from_extension(fmt))
    assert [v.value for v in back.variables] == VARIABLES
    assert [tuple(row) for row in back] == ROWS


def test_the_xml_writer_is_read_back_to_the_same_rows_without_control_characters():
    # XML cannot carry most control characters: they are written as U+FFFD (module docstring)
    rows = [row for row in ROWS if not any(c in str(row) for c in "\x00\x01\x1f")]
    back = ox.parse_query_results(results.to_xml(VARIABLES, rows), ox.QueryResultsFormat.XML)
    assert [tuple(row) for row in back] == rows
