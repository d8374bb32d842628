"""The lexical analysis of client queries (no HTTP): form, SERVICE calls, dataset clauses.

The scanner must skip exactly what the grammar skips (comments, strings, IRIs) and must never
miss a SERVICE that the engine would execute; it may see one too many. Where pyoxigraph reads
a text otherwise than a tokenizer (a "<" that is less-than, escapes, glued keywords), the scan
follows every reading and a conservative second check refuses what it cannot resolve. The last test checks the
form it finds against pyoxigraph for every query of the W3C syntax suites.
"""

from __future__ import annotations

import contextlib

import pyoxigraph as ox
import pytest

from kommunen_kg.sparql.analysis import analyse
from kommunen_kg.sparql.errors import QueryRefused
from kommunen_kg.sparql.shape import QueryTooComplex
from kommunen_kg.sparql.vetting import QueryTooLong, ServiceRefused, UpdateRefused, vet

from .sparql_servers import Listener
from .support import CONFORMANCE
from .test_sparql_limits_and_refusals import BYPASSES


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


# --- texts the engine reads differently from a tokenizer -----------------------------------


@pytest.mark.parametrize("template", BYPASSES)
def test_each_bypass_text_reaches_the_network_when_given_to_the_engine_itself(template):
    """Why these texts are among the refusal tests: pyoxigraph connects for each of them."""
    store = ox.Store()
    store.update("INSERT DATA { <urn:s> <urn:p> true, 1e5, 1, <urn:o> }")
    with Listener() as listener:
        query = template.format(url=listener.url)
        with pytest.raises(ServiceRefused):
            vet(query, max_length=20000)
        with contextlib.suppress(OSError, RuntimeError):  # the listener answers nothing
            result = store.query(query)
            list(result) if isinstance(result, ox.QuerySolutions) else result
        listener.settle(0.3)
        assert listener.connections


def test_an_ambiguous_iri_is_read_both_ways():
    query = "PREFIX : <http://a/>\nSELECT * { FILTER(?a<?b)SERVICE:x#>\n{} }"
    assert len(analyse(query).readings) == 2
    assert [c.position for c in analyse(query).services] == [query.index("SERVICE")]
    assert len(analyse("SELECT * { ?s <http://a/#b> <urn:c> }").readings) == 1


def test_service_in_a_string_is_no_call_in_any_reading():
    # Read as less-than, "<urn:a#b>" opens a comment that hides the string; either way no call.
    query = 'SELECT * { ?s ?p <urn:a#b> BIND("SERVICE <http://a/> {}" AS ?x) }'
    analysis = vet(query, max_length=1000)
    assert len(analysis.readings) == 2
    assert analysis.services == ()


def test_an_iri_after_no_operand_has_one_reading():
    for query in (
        "PREFIX p: <urn:a#>\nBASE <urn:b#>\nSELECT * { ?s a <urn:c#d> . <urn:e#f> ?p ?o }",
        "SELECT * { VALUES ?x { <urn:a#b> } FILTER(?x = <urn:a#b> || ?x != <urn:a#c>) }",
    ):
        assert len(analyse(query).readings) == 1, query


def test_too_many_ambiguous_iris_are_refused_with_advice():
    query = "SELECT * {\n" + "\n".join(f"?s ?p <urn:a#{i}> ." for i in range(10)) + "\n}"
    with pytest.raises(QueryTooComplex, match="prefixed names"):
        vet(query, max_length=1000)


def test_code_an_iri_may_hide_counts_towards_the_bounds():
    # After an operand, "<!!!...1)>" is less-than and a chain of "!" to the engine.
    query = "ASK { FILTER((1<" + "!" * 1500 + "1)>0) }"
    with pytest.raises(QueryTooComplex, match="at most 1000"):
        vet(query, max_length=20000)
    hierarchical = "SELECT * { ?s ?p <http://example.org/" + "a/" * 1500 + "> }"
    assert vet(hierarchical, max_length=20000).form == "SELECT"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p 1SERVICE<http://a/>{} }",
        "SELECT * { ?s ?p -1.5e-3SERVICE<http://a/>{} }",
        "SELECT * { ?s ?p falseSERVICE <http://a/> {} }",
        "SELECT * { SERVICE # comment\n SILENT # comment\n ?e {} }",
        "SELECT * { SERV\\U00000049CE <http://a/> {} }",
        'SELECT * { ?s ?p "x" FILTER(?s != <urn:a#b>) } # "\n SERVICE <http://a/> {}',
        # letters a case-blind search takes for those of SERVICE: long s, dotted and dotless I
        "SELECT * { ?s ?p 1\u017fervice<http://a/>{} }",
        "SELECT * { ?s ?p 1SERV\u0130CE<http://a/>{} }",
        "SELECT * { ?s ?p 1serv\u0131ce<http://a/>{} }",
    ],
)
def test_vet_refuses_service_calls_the_scan_cannot_resolve(query):
    with pytest.raises(ServiceRefused):
        vet(query, max_length=1000)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?x1service ?service_count { ?x1service ?p ?service_count }",
        "PREFIX ex: <http://example.org/>\nSELECT * { ?s ex:a-service ?o ; ex:self-service 1 }",
        "SELECT * { ?s ?p <http://example.org/?q=service&x=SERVICE> }",
        "PREFIX serviceType: <http://example.org/>\nSELECT * { ?s serviceType:x ?o }",
        "SELECT * { ?s ?p ?o } # no SERVICE <http://a/> here",
    ],
)
def test_vet_passes_words_that_only_contain_service(query):
    assert vet(query, max_length=1000).services == ()
