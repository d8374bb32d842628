"""Renaming between the public graph names and a release's graphs in a store (versions.py)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kommunen_kg.sparql.remote.versions import NO_GRAPH, ReleaseNames, versioned_graph

BASE = "https://w3id.org/kommunen-innovativ/"
PUBLIC = {part: f"{BASE}graph/{part}" for part in ("vocabulary", "data", "metadata")}
NAMES = ReleaseNames(PUBLIC, "abc123")
DATA = "urn:kommunen-kg:release:abc123:data"


def test_a_public_graph_name_written_in_full_is_renamed():
    text, dataset = NAMES.query(f"SELECT * WHERE {{ GRAPH <{BASE}graph/data> {{ ?s ?p ?o }} }}")
    assert text == f"SELECT * WHERE {{ GRAPH <{DATA}> {{ ?s ?p ?o }} }}"
    assert dataset is None


def test_a_name_in_a_string_or_a_comment_is_left_alone():
    query = f'SELECT * WHERE {{ ?s ?p "<{BASE}graph/data>" }} # <{BASE}graph/data>'
    assert NAMES.query(query) == (query, None)


def test_a_prefixed_name_is_renamed_and_the_prefix_declaration_kept():
    query = f"PREFIX g: <{BASE}graph/>\nASK {{ GRAPH g:data {{ ?s ?p ?o }} }}"
    text, _ = NAMES.query(query)
    assert text == f"PREFIX g: <{BASE}graph/>\nASK {{ GRAPH <{DATA}> {{ ?s ?p ?o }} }}"


def test_a_relative_iri_is_renamed_after_resolving_it_against_base():
    text, _ = NAMES.query(f"BASE <{BASE}>\nASK {{ GRAPH <graph/data> {{ ?s ?p ?o }} }}")
    assert f"GRAPH <{DATA}>" in text and text.startswith(f"BASE <{BASE}>")


def test_from_clauses_become_the_dataset_in_the_store_s_names():
    query = (
        f"PREFIX g: <{BASE}graph/>\nSELECT * FROM g:data FROM NAMED <{BASE}graph/metadata> "
        "FROM NAMED <http://example.org/elsewhere> WHERE { ?s ?p ?o }"
    )
    _, dataset = NAMES.query(query)
    assert dataset == (
        [DATA],
        ["urn:kommunen-kg:release:abc123:metadata", NO_GRAPH],
    )


def test_a_graph_the_client_names_that_is_not_ours_is_an_empty_one():
    assert NAMES.graph("urn:kommunen-kg:release:older:data") == NO_GRAPH
    assert NAMES.graph(PUBLIC["data"]) == DATA


def test_answers_name_the_public_graphs_again():
    assert NAMES.term(ox.NamedNode(DATA)) == ox.NamedNode(PUBLIC["data"])
    assert NAMES.term(ox.Literal(DATA)) == ox.Literal(DATA)  # a string stays a string
    triple = ox.Triple(ox.NamedNode(DATA), ox.NamedNode("http://p"), ox.NamedNode(DATA))
    assert NAMES.triple(triple).subject == ox.NamedNode(PUBLIC["data"])


def test_stored_triples_rename_every_mention_of_a_public_graph():
    triple = ox.Triple(
        ox.NamedNode(PUBLIC["data"]),
        ox.NamedNode("http://rdfs.org/ns/void#triples"),
        ox.Literal("3"),
    )
    assert NAMES.stored(triple).subject == ox.NamedNode(DATA)
    assert NAMES.triple(NAMES.stored(triple)) == triple


@pytest.mark.parametrize("version", ["", "a b", "x>y", "a" * 65])
def test_a_version_that_could_break_an_iri_is_refused(version):
    with pytest.raises(ValueError):
        versioned_graph(version, "data")
