"""Real SPARQL clients read every result format back from the endpoint over loopback.

SPARQLWrapper (which sends ``format`` twice, as a short name and a media type, beside its Accept
header) and rdflib's ``SPARQLStore`` (GET, direct POST and form POST). ASK in CSV or TSV is left
out for rdflib: neither format defines a boolean, and rdflib cannot read one.
"""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

SELECT = (
    "SELECT ?person ?name WHERE { ?person a <http://schema.org/Person> ; "
    "<http://schema.org/name> ?name } ORDER BY ?name LIMIT 3"
)
ASK = "ASK { ?t a <https://w3id.org/kommunen-innovativ/def#Talk> }"
CONSTRUCT = (
    "CONSTRUCT { ?person <http://schema.org/name> ?name } WHERE { ?person a "
    "<http://schema.org/Person> ; <http://schema.org/name> ?name } ORDER BY ?name LIMIT 3"
)
FIRST_PERSON = "https://w3id.org/kommunen-innovativ/id/person/andrzej-sielicki"


def wrapper(url: str, query: str, fmt: str, method: str) -> SPARQLWrapper:
    client = SPARQLWrapper(url + "sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    return client


def convert(client: SPARQLWrapper):
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # rdflib's ConjunctiveGraph deprecation, inside SPARQLWrapper
        return client.query().convert()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_reads_select_in_every_format(live_server, method):
    as_json = convert(wrapper(live_server, SELECT, JSON, method))
    assert as_json["results"]["bindings"][0]["person"]["value"] == FIRST_PERSON

    as_xml = convert(wrapper(live_server, SELECT, XML, method))
    uris = [node.firstChild.data for node in as_xml.getElementsByTagName("uri")]
    assert uris[0] == FIRST_PERSON

    rows = list(
        csv.reader(io.StringIO(convert(wrapper(live_server, SELECT, CSV, method)).decode()))
    )
    assert rows[0] == ["person", "name"]
    assert rows[1][0] == FIRST_PERSON

    lines = convert(wrapper(live_server, SELECT, TSV, method)).decode().splitlines()
    assert lines[0] == "?person\t?name"
    assert lines[1].startswith(f"<{FIRST_PERSON}>\t")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_reads_ask_in_both_formats_that_have_a_boolean(live_server, method):
    assert convert(wrapper(live_server, ASK, JSON, method))["boolean"] is True
    as_xml = convert(wrapper(live_server, ASK, XML, method))
    assert as_xml.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("fmt", [CSV, TSV])
def test_sparqlwrapper_asking_ask_as_csv_or_tsv_gets_406(live_server, method, fmt):
    """SPARQL 1.1 defines no boolean form in CSV and TSV (issue 14)."""
    with pytest.raises(Exception) as refused:
        convert(wrapper(live_server, ASK, fmt, method))
    assert "406" in str(refused.value)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("fmt", [TURTLE, N3, RDF, RDFXML, JSONLD, JSON, XML])
def test_sparqlwrapper_reads_construct_in_every_format(live_server, fmt, method):
    result = convert(wrapper(live_server, CONSTRUCT, fmt, method))
    if isinstance(result, bytes):  # Turtle and N3 come back as text
        result = Graph().parse(data=result.decode(), format="turtle")
    elif isinstance(result, dict | list):  # JSON-LD as plain JSON
        result = Graph().parse(data=json.dumps(result), format="json-ld")
    assert len(result) == 3
    assert all(str(p) == "http://schema.org/name" for _, p, _ in result)


def test_sparqlwrapper_gets_406_for_a_format_a_query_cannot_have(live_server):
    from urllib.error import HTTPError

    with pytest.raises(HTTPError) as error:
        convert(wrapper(live_server, SELECT, TURTLE, "GET"))
    assert error.value.code == 406


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("return_format", ["json", "xml", "csv", "tsv"])
def test_rdflib_sparqlstore_reads_select(live_server, return_format, method):
    store = SPARQLStore(
        query_endpoint=live_server + "sparql", returnFormat=return_format, method=method
    )
    rows = list(store.query(SELECT))
    assert len(rows) == 3
    assert rows[0][0] == URIRef(FIRST_PERSON)
    assert str(rows[0][1]) == "Andrzej Sielicki"
    if return_format != "csv":  # CSV drops datatypes and language tags
        assert rows[0][1] == Literal("Andrzej Sielicki")


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("return_format", ["json", "xml"])
def test_rdflib_sparqlstore_reads_ask(live_server, return_format, method):
    store = SPARQLStore(
        query_endpoint=live_server + "sparql", returnFormat=return_format, method=method
    )
    assert store.query(ASK).askAnswer is True
    assert store.query("ASK { <urn:x:nothing> ?p ?o }").askAnswer is False


@pytest.mark.parametrize("return_format", ["xml", "turtle", "json-ld", "nt"])
def test_rdflib_sparqlstore_reads_construct(live_server, return_format):
    store = SPARQLStore(query_endpoint=live_server + "sparql", returnFormat=return_format)
    graph = store.query(CONSTRUCT).graph
    assert len(graph) == 3
    assert (
        URIRef(FIRST_PERSON),
        URIRef("http://schema.org/name"),
        Literal("Andrzej Sielicki"),
    ) in graph


def test_rdflib_graph_over_sparqlstore_answers_a_query(live_server):
    graph = Graph(store=SPARQLStore(query_endpoint=live_server + "sparql"))
    names = {str(row.name) for row in graph.query(SELECT)}
    assert "Andrzej Sielicki" in names
