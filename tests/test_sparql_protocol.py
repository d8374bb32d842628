"""The SPARQL 1.1 Protocol at /sparql: bindings, dataset parameters, methods, refusals.

Every test talks HTTP to the real application serving the built release (``live_server``).
"""

from __future__ import annotations

import re

import requests

ASK_TALK = "ASK { ?t a <https://w3id.org/kommunen-innovativ/def#Talk> }"
JSON = "application/sparql-results+json"
DATA_GRAPH = "https://w3id.org/kommunen-innovativ/graph/data"
VOCABULARY_GRAPH = "https://w3id.org/kommunen-innovativ/graph/vocabulary"


def sparql(url: str) -> str:
    return url + "sparql"


def test_query_by_get_answers_json_by_default(live_server):
    response = requests.get(sparql(live_server), params={"query": ASK_TALK}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{JSON}; charset=utf-8"
    assert response.json() == {"head": {}, "boolean": True}


def test_query_by_form_post(live_server):
    response = requests.post(sparql(live_server), data={"query": ASK_TALK}, timeout=10)
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_query_by_direct_post(live_server):
    response = requests.post(
        sparql(live_server),
        data=ASK_TALK.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_direct_post_accepts_an_explicit_utf8_charset(live_server):
    response = requests.post(
        sparql(live_server),
        data='ASK { ?s ?p "Jörg Felmeden" }'.encode(),
        headers={"Content-Type": "application/sparql-query; charset=UTF-8"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_default_graph_is_the_union_of_the_named_graphs(live_server):
    # Talks live in the data graph, their class in the vocabulary graph; both meet in one BGP.
    query = "ASK { ?t a ?class . ?class <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.json()["boolean"] is True


def test_default_graph_uri_restricts_the_default_graph(live_server):
    query = "ASK { ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?super }"
    in_vocabulary = requests.get(
        sparql(live_server),
        params={"query": query, "default-graph-uri": VOCABULARY_GRAPH},
        timeout=10,
    )
    assert in_vocabulary.json()["boolean"] is True
    in_data = requests.get(
        sparql(live_server), params={"query": query, "default-graph-uri": DATA_GRAPH}, timeout=10
    )
    assert in_data.json()["boolean"] is False


def test_named_graph_uri_limits_the_named_graphs(live_server):
    query = "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"
    response = requests.get(
        sparql(live_server),
        params={"query": query, "named-graph-uri": DATA_GRAPH},
        timeout=10,
    )
    graphs = {b["g"]["value"] for b in response.json()["results"]["bindings"]}
    assert graphs == {DATA_GRAPH}


def test_from_clause_of_the_query_replaces_the_union_default_graph(live_server):
    query = (
        f"ASK FROM <{DATA_GRAPH}> "
        "{ ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?super }"
    )
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.json()["boolean"] is False


def test_protocol_dataset_overrides_from_clauses(live_server):
    query = (
        f"ASK FROM <{DATA_GRAPH}> "
        "{ ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf> ?super }"
    )
    response = requests.get(
        sparql(live_server),
        params={"query": query, "default-graph-uri": VOCABULARY_GRAPH},
        timeout=10,
    )
    assert response.json()["boolean"] is True


def test_relative_iris_resolve_against_the_base_iri(live_server):
    response = requests.get(
        sparql(live_server),
        params={"query": "ASK { <id/person/katrin-fahrenkrug> ?p ?o }"},
        timeout=10,
    )
    assert response.json()["boolean"] is True


def test_endpoint_answers_with_a_trailing_slash_too(live_server):
    response = requests.get(live_server + "sparql/", params={"query": ASK_TALK}, timeout=10)
    assert response.status_code == 200
    assert response.json()["boolean"] is True


def test_head_answers_headers_without_a_body(live_server):
    response = requests.head(sparql(live_server), params={"query": ASK_TALK}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(JSON)
    assert int(response.headers["Content-Length"]) > 0
    assert response.content == b""


def test_options_answers_with_the_allowed_methods(live_server):
    response = requests.options(sparql(live_server), timeout=10)
    assert response.status_code == 204
    assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"


def test_options_on_the_editor_page_answers_like_the_endpoint(live_server):
    response = requests.options(live_server + "query", timeout=10)
    assert response.status_code == 204
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert response.content == b""
    assert "Content-Type" not in response.headers


def test_cors_preflight_is_answered_for_any_origin(live_server):
    response = requests.options(
        sparql(live_server),
        headers={
            "Origin": "https://portal.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "content-type"


def test_cors_allows_any_origin_to_read_answers_and_errors(live_server):
    ok = requests.get(
        sparql(live_server),
        params={"query": ASK_TALK},
        headers={"Origin": "https://portal.example"},
        timeout=10,
    )
    bad = requests.get(sparql(live_server), params={"query": "ASK {"}, timeout=10)
    for response in (ok, bad):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-Result-Truncated" in ok.headers["Access-Control-Expose-Headers"]


def test_wrong_method_is_405_with_allow_header(live_server):
    for method in ("PUT", "DELETE", "PATCH"):
        response = requests.request(method, sparql(live_server), data=ASK_TALK, timeout=10)
        assert response.status_code == 405, method
        assert response.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
        assert "read-only" in response.text


def test_unsupported_body_type_is_415(live_server):
    response = requests.post(
        sparql(live_server),
        data=ASK_TALK.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


def test_post_without_content_type_is_415(live_server):
    response = requests.post(sparql(live_server), data=b"query=ASK%20%7B%7D", timeout=10)
    assert response.status_code == 415


def test_direct_post_in_another_charset_is_415(live_server):
    response = requests.post(
        sparql(live_server),
        data="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
        timeout=10,
    )
    assert response.status_code == 415
    assert "UTF-8" in response.text


def test_body_that_is_not_utf8_is_400(live_server):
    response = requests.post(
        sparql(live_server),
        data='ASK { ?s ?p "Jörg" }'.encode("latin-1"),
        headers={"Content-Type": "application/sparql-query"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "UTF-8" in response.text


def test_percent_encoded_form_that_is_not_utf8_is_400(live_server):
    response = requests.post(
        sparql(live_server),
        data=b"query=ASK%20%7B%3Fs%20%3Fp%20%22J%F6rg%22%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "UTF-8" in response.text


def test_two_query_parameters_are_400(live_server):
    response = requests.get(
        sparql(live_server) + "?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", timeout=10
    )
    assert response.status_code == 400
    assert "exactly one" in response.text


def test_query_in_url_and_body_is_400(live_server):
    response = requests.post(
        sparql(live_server) + "?query=ASK%20%7B%7D",
        data=b"ASK {}",
        headers={"Content-Type": "application/sparql-query"},
        timeout=10,
    )
    assert response.status_code == 400


def test_post_without_query_is_400(live_server):
    response = requests.post(sparql(live_server), data={"format": "json"}, timeout=10)
    assert response.status_code == 400
    assert "no 'query'" in response.text


def test_empty_query_is_400(live_server):
    response = requests.get(sparql(live_server), params={"query": "  "}, timeout=10)
    assert response.status_code == 400


def test_dataset_parameter_that_is_not_an_iri_is_400(live_server):
    response = requests.get(
        sparql(live_server),
        params={"query": ASK_TALK, "default-graph-uri": "not an iri"},
        timeout=10,
    )
    assert response.status_code == 400
    assert "not an iri" in response.text


def test_syntax_error_is_400_with_line_and_column(live_server):
    query = "SELECT ?s WHERE { ?s ?p ?o }\nLIMIT x"
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert re.match(
        r"Syntax error in the SPARQL query at line 2, column 7: expected ", response.text
    )


def test_an_undeclared_prefix_is_named_with_its_place_and_the_declaration_we_know(live_server):
    query = "SELECT ?name WHERE {\n  ?person schema:name ?name }"
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 400
    assert response.text.startswith("Syntax error in the SPARQL query at line 2, column 11: ")
    assert "the prefix 'schema:' (in 'schema:name') is not declared" in response.text
    assert "PREFIX schema: <http://schema.org/>" in response.text
    assert "\\u{" not in response.text  # not the engine's list of Unicode ranges


def test_an_undeclared_prefix_we_do_not_know_is_named_without_an_offer(live_server):
    query = "PREFIX ex: <http://example.org/>\nASK { ex:a foo:b ex:c }"
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 400
    assert "the prefix 'foo:' (in 'foo:b') is not declared." in response.text
    assert "Add:" not in response.text


def test_unknown_extension_function_leaves_the_expression_unbound(live_server):
    query = "SELECT ?x (<http://example.org/fn>(?x) AS ?y) { VALUES ?x { 1 } }"
    response = requests.get(sparql(live_server), params={"query": query}, timeout=10)
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == [
        {
            "x": {
                "type": "literal",
                "value": "1",
                "datatype": "http://www.w3.org/2001/XMLSchema#integer",
            }
        }
    ]
