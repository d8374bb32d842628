"""The lexical analysis of client queries (no HTTP): form, SERVICE calls, dataset clauses.

The scanner must skip exactly what the grammar skips (comments, strings, IRIs) and must never
miss a SERVICE that the engine would execute; it may see one too many. The last test checks the
form it finds against pyoxigraph for every query of the W3C syntax suites.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kommunen_kg.engine import QueryRefused
from kommunen_kg.query_analysis import (
    QueryTooLong,
    ServiceRefused,
    UpdateRefused,
    analyse,
    vet,
)

from .support import CONFORMANCE


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * { ?s ?p ?o }", "SELECT"),
        ("select * { ?s ?p ?o }", "SELECT"),
        ("ASK {}", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://example.org/>", "DESCRIBE"),
        ("# SELECT in a comment\nASK {}", "ASK"),
        (
            "BASE <http://example.org/>\nPREFIX ex: <ns#>\nprefix : <x>\nCONSTRUCT {} WHERE {}",
            "CONSTRUCT",
        ),
        ("\ufeffSELECT * {}", None),  # pyoxigraph rejects a byte order mark, too
        ("INSERT DATA { <a> <b> <c> }", "UPDATE"),
        ("PREFIX ex: <http://example.org/>\nDELETE WHERE { ?s ?p ?o }", "UPDATE"),
        ("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "UPDATE"),
        ("LOAD <http://example.org/data.ttl>", "UPDATE"),
        ("CLEAR ALL", "UPDATE"),
        ("DROP GRAPH <g>", "UPDATE"),
        ("SELEC * {}", None),
        ("", None),
    ],
)
def test_query_form_is_found_after_the_prologue(query, form):
    assert analyse(query).form == form


def test_service_iri_is_resolved_through_prefix_and_base():
    analysis = analyse(
        "BASE <http://example.org/base/>\nPREFIX p: <rel/>\n"
        "SELECT * { SERVICE p:sparql { ?s ?p ?o } SERVICE <other> {}\n"
        "SERVICE SILENT <http://x/> {} }"
    )
    assert [(c.endpoint, c.silent) for c in analysis.services] == [
        ("http://example.org/base/rel/sparql", False),
        ("http://example.org/base/other", False),
        ("http://x/", True),
    ]


def test_service_in_strings_comments_and_iris_is_no_service():
    query = (
        "SELECT * {\n"
        "  BIND('SERVICE <http://a/> {}' AS ?a)\n"
        '  BIND("""SERVICE\n<http://b/> {}""" AS ?b)\n'
        "  BIND(<http://example.org/SERVICE> AS ?c)\n"
        "  # SERVICE <http://d/> {}\n"
        "  ?service <http://example.org/service> ?x\n"
        "}"
    )
    assert analyse(query).services == ()


def test_escaped_quotes_do_not_end_a_string_early():
    query = r'SELECT * { BIND("a \" SERVICE <http://a/> {} \" b" AS ?x) }'
    assert analyse(query).services == ()
    query = r'SELECT * { BIND("a \\" AS ?x) SERVICE <http://b/> {} } #"'
    assert [c.endpoint for c in analyse(query).services] == ["http://b/"]


def test_service_glued_to_a_prefixed_name_is_found():
    analysis = analyse("PREFIX : <http://evil.example/>\nSELECT * { SERVICE:x { ?s ?p ?o } }")
    assert [c.endpoint for c in analysis.services] == ["http://evil.example/x"]
    silent = analyse("PREFIX : <http://evil.example/>\nSELECT * { SERVICE SILENT:x {} }")
    assert [(c.endpoint, c.silent) for c in silent.services] == [("http://evil.example/x", True)]


def test_service_with_a_variable_has_no_endpoint():
    assert [c.endpoint for c in analyse("SELECT * { SERVICE ?e {} }").services] == [None]


def test_dataset_clause_is_noticed():
    assert analyse("SELECT * FROM <g> { ?s ?p ?o }").has_dataset_clause
    assert analyse("SELECT * FROM NAMED <g> { GRAPH ?g { ?s ?p ?o } }").has_dataset_clause
    assert not analyse('SELECT * { ?s ?p "FROM" }').has_dataset_clause


def test_extension_functions_are_named_but_not_xsd_casts():
    analysis = analyse(
        "PREFIX ex: <http://example.org/>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        "SELECT (ex:f(?x) AS ?y) (xsd:integer(?x) AS ?z) (<http://example.org/g>(1) AS ?w) {}"
    )
    assert analysis.extension_functions == {"http://example.org/f", "http://example.org/g"}


def test_vet_refuses_updates():
    with pytest.raises(UpdateRefused, match="read-only"):
        vet("INSERT DATA { <a> <b> <c> }", max_length=1000)


def test_vet_refuses_service_unless_allow_listed():
    query = "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    with pytest.raises(ServiceRefused, match="not allowed"):
        vet(query, max_length=1000)
    assert vet(query, max_length=1000, service_allowlist=["http://example.org/sparql"]).services
    with pytest.raises(ServiceRefused, match="variable"):
        vet("SELECT * { SERVICE ?e {} }", max_length=1000, service_allowlist=["http://x/"])


def test_vet_refuses_queries_over_the_length_limit():
    with pytest.raises(QueryTooLong) as error:
        vet("ASK {}" + " " * 20, max_length=10)
    assert isinstance(error.value, QueryRefused)
    assert error.value.length == 26 and error.value.limit == 10


def _syntax_suite_queries() -> list:
    folder = CONFORMANCE / "sparql11" / "syntax-query"
    if not folder.is_dir():
        return []
    return sorted(folder.glob("*.rq"))


@pytest.mark.skipif(not _syntax_suite_queries(), reason="the W3C syntax suite is not available")
def test_form_agrees_with_the_engine_on_every_query_that_parses():
    store = ox.Store()
    checked = 0
    for path in _syntax_suite_queries():
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            result = store.query(text, base_iri=path.as_uri())
        except SyntaxError:
            continue
        except RuntimeError:  # parses, but evaluation fails (an unknown function)
            result = None
        form = analyse(text).form
        if isinstance(result, ox.QueryBoolean):
            assert form == "ASK", path.name
        elif isinstance(result, ox.QueryTriples):
            assert form in ("CONSTRUCT", "DESCRIBE"), path.name
        elif isinstance(result, ox.QuerySolutions):
            assert form == "SELECT", path.name
        checked += 1
    assert checked > 50
