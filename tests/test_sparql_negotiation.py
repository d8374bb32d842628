"""Content negotiation: Accept with q-values and wildcards, the format parameter, 406, charset.

The first tests call :mod:`kommunen_kg.web.http.negotiation` directly (it has no Flask in it); the others
talk HTTP to the real endpoint and parse every format back.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
import requests

from kommunen_kg.web.http import negotiation as n

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
COMBINED_JSON = "application/sparql-results+json,application/json;q=0.9,*/*;q=0.1"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("", "json"),
        ("*/*", "json"),
        ("*", "json"),
        (COMBINED_JSON, "json"),
        ("application/json", "json"),
        ("application/sparql-results+xml", "xml"),
        ("text/xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
        ("text/*", "csv"),
        ("text/csv;q=0.5, text/tab-separated-values", "tsv"),
        ("*/*;q=0.1, text/csv", "csv"),
        ("application/sparql-results+json;q=0, */*", "xml"),
        ("text/csv; charset=utf-8", "csv"),
        ("text/csv;q=bogus, application/sparql-results+xml", "xml"),
    ],
)
def test_accept_chooses_a_result_format(accept, expected):
    assert n.choose(accept, n.RESULT_OFFERS).name == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "turtle"),
        ("*/*", "turtle"),
        ("application/n-triples", "ntriples"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
        ("application/ld+json", "jsonld"),
        ("application/json", "jsonld"),
        ("application/rdf+xml", "rdfxml"),
        ("application/xml", "rdfxml"),
        ("text/n3", "turtle"),
        # one table of formats (rdf/formats.py): the linked-data documents' alias, too
        ("text/plain", "ntriples"),
        ("application/rdf+xml;q=0.5, text/turtle;q=0.4", "rdfxml"),
    ],
)
def test_accept_chooses_a_graph_format(accept, expected):
    assert n.choose(accept, n.GRAPH_OFFERS).name == expected


def test_browser_accept_prefers_the_page():
    assert n.choose(FIREFOX, n.RESULT_OFFERS, browser_page=True) is n.HTML
    assert n.choose(CHROME, n.GRAPH_OFFERS, browser_page=True) is n.HTML


def test_wildcard_never_counts_as_a_browser():
    assert n.choose("*/*", n.RESULT_OFFERS, browser_page=True).name == "json"
    assert n.choose("text/*", n.RESULT_OFFERS, browser_page=True).name == "csv"


def test_data_wins_a_tie_with_the_page():
    chosen = n.choose(
        "text/html, application/sparql-results+json", n.RESULT_OFFERS, browser_page=True
    )
    assert chosen.name == "json"


def test_nothing_acceptable_is_none():
    assert n.choose("image/png", n.RESULT_OFFERS) is None
    assert n.choose("application/sparql-results+json", n.GRAPH_OFFERS) is None


@pytest.mark.parametrize(
    ("value", "offers", "expected"),
    [
        ("json", n.RESULT_OFFERS, "json"),
        ("json", n.GRAPH_OFFERS, "jsonld"),
        ("xml", n.GRAPH_OFFERS, "rdfxml"),
        ("ttl", n.GRAPH_OFFERS, "turtle"),
        ("nt", n.GRAPH_OFFERS, "ntriples"),
        ("json-ld", n.GRAPH_OFFERS, "jsonld"),
        ("TSV", n.RESULT_OFFERS, "tsv"),
        ("text/csv", n.RESULT_OFFERS, "csv"),
        ("application/sparql-results+xml", n.RESULT_OFFERS, "xml"),
        ("text/turtle; charset=utf-8", n.GRAPH_OFFERS, "turtle"),
    ],
)
def test_format_parameter_names_a_format(value, offers, expected):
    assert n.from_parameter(value, offers).name == expected


def test_format_parameter_wins_over_accept():
    assert n.negotiate("application/sparql-results+json", "csv", n.RESULT_OFFERS).name == "csv"
    assert n.negotiate(FIREFOX, "csv", n.RESULT_OFFERS, browser_page=True).name == "csv"


def test_unknown_format_parameter_is_none():
    assert n.negotiate(None, "turtle", n.RESULT_OFFERS) is None


# --- over HTTP ------------------------------------------------------------------------------

SELECT = "SELECT ?s ?name { ?s <http://schema.org/name> ?name } ORDER BY ?s ?name LIMIT 5"
CONSTRUCT = "CONSTRUCT WHERE { ?s <http://schema.org/name> ?name } LIMIT 5"
RESULT_PARSERS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF_PARSERS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def get(url: str, query: str, **headers: str) -> requests.Response:
    return requests.get(url + "sparql", params={"query": query}, headers=headers, timeout=10)


@pytest.mark.parametrize("media_type", list(RESULT_PARSERS))
def test_every_result_format_is_served_with_charset_and_parses(live_server, media_type):
    response = get(live_server, SELECT, Accept=media_type)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert "Accept" in [v.strip() for v in response.headers["Vary"].split(",")]
    if media_type == "text/csv":  # pyoxigraph reads no CSV; CSV is checked by the clients
        assert response.text.splitlines()[0] == "s,name"
        assert len(response.text.strip().splitlines()) == 6
        return
    solutions = list(ox.parse_query_results(response.content, format=RESULT_PARSERS[media_type]))
    assert len(solutions) == 5


@pytest.mark.parametrize("media_type", list(RDF_PARSERS))
def test_every_graph_format_is_served_with_charset_and_parses(live_server, media_type):
    response = get(live_server, CONSTRUCT, Accept=media_type)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert "Accept" in [v.strip() for v in response.headers["Vary"].split(",")]
    quads = list(ox.parse(response.content, format=RDF_PARSERS[media_type]))
    assert len(quads) == 5


def test_xml_results_are_well_formed_whatever_characters_a_literal_holds(live_server):
    # U+0001, U+000B and U+FFFE cannot be written in XML 1.0; a carriage return can, escaped.
    query = 'SELECT ("a\\u0001b\\u000Bc\\rd\\uFFFEe" AS ?x) {}'
    response = get(live_server, query, Accept="application/sparql-results+xml")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)  # raises unless it is XML
    (literal,) = root.iter("{http://www.w3.org/2005/sparql-results#}literal")
    assert literal.text == "a\ufffdb\ufffdc\rd\ufffde"
    (solution,) = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.XML)
    assert solution["x"].value == "a\ufffdb\ufffdc\rd\ufffde"


def test_rdf_xml_is_well_formed_whatever_characters_a_literal_holds(live_server):
    query = 'CONSTRUCT { <urn:x:s> <urn:x:p> "a\\u0001b\\rc" } {}'
    response = get(live_server, query, Accept="application/rdf+xml")
    assert response.status_code == 200
    ElementTree.fromstring(response.content)
    (quad,) = ox.parse(response.content, format=ox.RdfFormat.RDF_XML)
    assert quad.object.value == "a\ufffdb\rc"


@pytest.mark.parametrize(
    "ask_for",
    [
        {"format": "csv"},
        {"format": "tsv"},
        {"Accept": "text/csv"},
        {"Accept": "text/tab-separated-values"},
    ],
)
def test_ask_as_csv_or_tsv_is_406_with_the_offers(live_server, ask_for):
    """SPARQL 1.1 defines no boolean form for CSV and TSV; Jena's and rdflib's readers
    reject a bare "true"."""
    params = {"query": "ASK {}", **{k: v for k, v in ask_for.items() if k == "format"}}
    headers = {k: v for k, v in ask_for.items() if k == "Accept"}
    response = requests.get(live_server + "sparql", params=params, headers=headers, timeout=10)
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text
    assert "application/sparql-results+xml" in response.text
    assert "text/csv" not in response.text.split("Offered:", 1)[1]


def test_ask_with_any_format_acceptable_is_json(live_server):
    response = requests.get(
        live_server + "sparql", params={"query": "ASK {}"}, headers={"Accept": "*/*"}, timeout=10
    )
    assert response.json() == {"head": {}, "boolean": True}


def test_combined_json_accept_gets_json(live_server):
    response = get(live_server, SELECT, Accept=COMBINED_JSON)
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    assert len(json.loads(response.text)["results"]["bindings"]) == 5


def test_browser_query_link_gets_the_editor_page_not_a_download(live_server):
    response = get(live_server, SELECT, Accept=FIREFOX)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "yasgui.min.js" in response.text
    assert "Accept" in response.headers["Vary"]


def test_browser_form_post_gets_results_not_the_page(live_server):
    response = requests.post(
        live_server + "sparql", data={"query": SELECT}, headers={"Accept": FIREFOX}, timeout=10
    )
    assert response.headers["Content-Type"].startswith("application/sparql-results+xml")


def test_format_parameter_downloads_from_a_browser(live_server):
    response = requests.get(
        live_server + "sparql",
        params={"query": SELECT, "format": "csv"},
        headers={"Accept": FIREFOX},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_nothing_acceptable_is_406_listing_the_offered_types(live_server):
    response = get(live_server, SELECT, Accept="image/png")
    assert response.status_code == 406
    for media_type in RESULT_PARSERS:
        assert media_type in response.text
    graph = get(live_server, CONSTRUCT, Accept="application/sparql-results+json")
    assert graph.status_code == 406
    for media_type in RDF_PARSERS:
        assert media_type in graph.text


def test_unknown_format_parameter_is_406(live_server):
    response = requests.get(
        live_server + "sparql", params={"query": SELECT, "format": "turtle"}, timeout=10
    )
    assert response.status_code == 406
    assert "csv" in response.text


def test_describe_answers_a_graph(live_server):
    query = "DESCRIBE <https://w3id.org/kommunen-innovativ/id/project/lebenswert>"
    response = get(live_server, query, Accept="application/n-triples")
    assert response.status_code == 200
    assert "lebensWert" in response.text
