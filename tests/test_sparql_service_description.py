"""The SPARQL 1.1 Service Description: GET /sparql without a query.

It names the endpoint, the language, every result format, the union default graph, the named
graphs of the release with their sizes, and the limits (rdfs:comment in German and English, and
schema:additionalProperty values); RDF by Accept, the editor page for browsers.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests

from kommunen_kg.sparql.shape import MAX_CHAIN, MAX_NESTING
from kommunen_kg.web.http.layer import MAX_REQUEST_LINE

from .sparql_servers import serve_with

SD = "http://www.w3.org/ns/sparql-service-description#"
SCHEMA = "http://schema.org/"
FORMATS = "http://www.w3.org/ns/formats/"


def description(url: str, accept: str | None = None) -> tuple[requests.Response, ox.Store]:
    headers = {"Accept": accept} if accept else {}
    response = requests.get(url + "sparql", headers=headers, timeout=10)
    store = ox.Store()
    media = response.headers["Content-Type"].split(";")[0]
    store.load(response.content, format=ox.RdfFormat.from_media_type(media))
    return response, store


def values(store: ox.Store, query: str) -> set[str]:
    return {row[0].value for row in store.query(query)}


@pytest.mark.parametrize(
    "media_type",
    ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"],
)
def test_description_is_served_in_each_rdf_format(live_server, media_type):
    response, store = description(live_server, media_type)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert "Accept" in response.headers["Vary"]
    assert len(store) > 30


def test_description_without_accept_is_turtle(live_server):
    response, _ = description(live_server)
    assert response.headers["Content-Type"].startswith("text/turtle")


def test_description_names_this_endpoint_and_the_language(live_server):
    _, store = description(live_server)
    endpoints = values(store, f"SELECT ?e {{ ?s a <{SD}Service> ; <{SD}endpoint> ?e }}")
    assert endpoints == {live_server + "sparql"}
    languages = values(store, f"SELECT ?l {{ ?s <{SD}supportedLanguage> ?l }}")
    assert languages == {SD + "SPARQL11Query"}


def test_description_is_the_service_of_the_release_metadata(live_server, release):
    _, store = description(live_server)
    services = values(store, f"SELECT ?s {{ ?s a <{SD}Service> }}")
    assert services == {release.manifest["base_iri"] + "id/service/sparql"}


def test_description_lists_every_result_format(live_server):
    _, store = description(live_server)
    formats = values(store, f"SELECT ?f {{ ?s <{SD}resultFormat> ?f }}")
    assert formats == {
        FORMATS + name
        for name in (
            "SPARQL_Results_JSON",
            "SPARQL_Results_XML",
            "SPARQL_Results_CSV",
            "SPARQL_Results_TSV",
            "Turtle",
            "N-Triples",
            "N-Quads",
            "TriG",
            "JSON-LD",
            "RDF_XML",
        )
    }


def test_description_states_the_union_default_graph(live_server):
    _, store = description(live_server)
    features = values(store, f"SELECT ?f {{ ?s <{SD}feature> ?f }}")
    assert SD + "UnionDefaultGraph" in features
    assert SD + "BasicFederatedQuery" not in features


def test_description_lists_the_named_graphs_of_the_release(live_server, release):
    _, store = description(live_server)
    rows = store.query(
        f"SELECT ?name ?n {{ ?s <{SD}defaultDataset> ?d . ?d <{SD}namedGraph> ?ng . "
        f"?ng <{SD}name> ?name ; <{SD}graph> ?g . ?g <http://rdfs.org/ns/void#triples> ?n }}"
    )
    graphs = {row["name"].value: int(row["n"].value) for row in rows}
    manifest = release.manifest
    assert graphs == {iri: manifest["counts"][name] for name, iri in manifest["graphs"].items()}


def test_description_states_every_limit(live_server, config):
    _, store = description(live_server)
    rows = store.query(
        f"SELECT ?id ?value {{ ?s <{SCHEMA}additionalProperty> ?p . "
        f"?p <{SCHEMA}propertyID> ?id ; <{SCHEMA}value> ?value }}"
    )
    limits = {row["id"].value: float(row["value"].value) for row in rows}
    server = config.server
    assert limits == {
        "queryTimeout": server.query_timeout,
        "resultLimit": server.result_limit,
        "maxQueryLength": server.max_query_length,
        "maxRequestSize": server.max_request_size,
        "maxRequestLine": MAX_REQUEST_LINE,
        "queryMemoryLimit": server.query_memory_limit,
        "queryQueueTimeout": server.query_queue_timeout,
        "maxNestingDepth": MAX_NESTING,
        "maxChainLength": MAX_CHAIN,
    }
    rdfs_comment = "http://www.w3.org/2000/01/rdf-schema#comment"
    comments = values(store, f"SELECT ?c {{ ?s a <{SD}Service> ; <{rdfs_comment}> ?c }}")
    assert any("Limits" in c and str(server.result_limit) in c for c in comments)
    assert any("Grenzen" in c for c in comments)


def _stated_limits(url: str) -> dict[str, float]:
    _, store = description(url)
    rows = store.query(
        f"SELECT ?id ?value {{ ?s <{SCHEMA}additionalProperty> ?p . "
        f"?p <{SCHEMA}propertyID> ?id ; <{SCHEMA}value> ?value }}"
    )
    return {row["id"].value: float(row["value"].value) for row in rows}


def test_description_states_the_configured_memory_and_queue_limits(publication):
    with serve_with(publication, query_memory_limit=256, query_queue_timeout=2.5) as url:
        limits = _stated_limits(url)
    assert limits["queryMemoryLimit"] == 256
    assert limits["queryQueueTimeout"] == 2.5


def test_the_stated_nesting_limit_is_the_one_the_endpoint_applies(live_server):
    depth = int(_stated_limits(live_server)["maxNestingDepth"])
    for levels, status in ((depth, 200), (depth + 1, 400)):
        query = "ASK " + "{" * levels + "}" * levels
        response = requests.get(live_server + "sparql", params={"query": query}, timeout=10)
        assert response.status_code == status, response.text


def test_description_names_federation_when_an_allow_list_is_set(publication):
    with serve_with(publication, service_allowlist=("https://query.wikidata.org/sparql",)) as url:
        _, store = description(url)
    features = values(store, f"SELECT ?f {{ ?s <{SD}feature> ?f }}")
    assert SD + "BasicFederatedQuery" in features


def test_description_of_ad_hoc_files_lists_their_named_graphs(tmp_path, config):
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_sources

    from .support import server_in_thread

    source = tmp_path / "two-graphs.trig"
    source.write_text(
        "<http://example.org/g1> { <http://example.org/a> <http://example.org/p> 1, 2 . }\n"
        "<http://example.org/g2> { <http://example.org/b> <http://example.org/p> 3 . }\n",
        encoding="utf-8",
    )
    with server_in_thread(create_app(open_sources(config, [source]))) as url:
        _, store = description(url)
    rows = store.query(
        f"SELECT ?name ?n {{ ?d <{SD}namedGraph> ?ng . ?ng <{SD}name> ?name ; <{SD}graph> ?g . "
        "?g <http://rdfs.org/ns/void#triples> ?n }"
    )
    assert {row["name"].value: int(row["n"].value) for row in rows} == {
        "http://example.org/g1": 2,
        "http://example.org/g2": 1,
    }
    services = values(store, f"SELECT ?s {{ ?s a <{SD}Service> }}")
    assert services == {url + "sparql"}


def test_description_of_ad_hoc_files_counts_their_graphs_once_not_per_request(tmp_path, config):
    """Counting scans the whole store; it is done as the application is made. A quad added to
    the store afterwards (which no server does) shows that no request counts again."""
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_sources

    from .support import server_in_thread

    source = tmp_path / "one-graph.trig"
    source.write_text(
        "<http://example.org/g1> { <http://example.org/a> <http://example.org/p> 1, 2 . }\n",
        encoding="utf-8",
    )
    publication = open_sources(config, [source])
    app = create_app(publication)
    publication.store.add(
        ox.Quad(
            ox.NamedNode("http://example.org/a"),
            ox.NamedNode("http://example.org/p"),
            ox.Literal("3"),
            ox.NamedNode("http://example.org/g2"),
        )
    )
    with server_in_thread(app) as url:
        answers = [description(url)[1] for _ in range(2)]
    for store in answers:
        rows = store.query(
            f"SELECT ?name ?n {{ ?d <{SD}namedGraph> ?ng . ?ng <{SD}name> ?name ; "
            f"<{SD}graph> ?g . ?g <http://rdfs.org/ns/void#triples> ?n }}"
        )
        assert {row["name"].value: int(row["n"].value) for row in rows} == {
            "http://example.org/g1": 2
        }


def test_browser_gets_the_editor_instead_of_the_description(live_server):
    response = requests.get(
        live_server + "sparql",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
        timeout=10,
    )
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<div id="yasgui">' in response.text


def test_description_in_an_unoffered_format_is_406(live_server):
    response = requests.get(
        live_server + "sparql", headers={"Accept": "application/sparql-results+json"}, timeout=10
    )
    assert response.status_code == 406
    assert "text/turtle" in response.text
