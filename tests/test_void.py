"""/.well-known/void: the dataset in VoID (endpoint, dumps, URI space, statistics, links)."""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.compare import isomorphic

from kommunen_kg.rdf.release import METADATA_FILES

# rdflib 7 warns about its own use of ConjunctiveGraph while parsing; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

VOID = Namespace("http://rdfs.org/ns/void#")
OWL_SAMEAS = URIRef("http://www.w3.org/2002/07/owl#sameAs")
FOAF_HOMEPAGE = URIRef("http://xmlns.com/foaf/0.1/homepage")


def fetch(url: str, accept: str = "text/turtle", fmt: str = "turtle") -> Graph:
    response = requests.get(url + ".well-known/void", headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format=fmt)


@pytest.fixture(scope="module")
def void(live_server) -> Graph:
    return fetch(live_server)


@pytest.fixture(scope="module")
def knowledge_graph(release) -> Graph:
    return Graph().parse(release.file("kommunen-innovativ.ttl"), format="turtle")


@pytest.fixture(scope="module")
def dataset(config) -> URIRef:
    return URIRef(f"{config.base_iri}id/dataset/kommunen-innovativ")


def test_void_names_the_sparql_endpoint_and_the_uri_space(void, dataset, config):
    assert (dataset, RDF.type, VOID.Dataset) in void
    assert str(void.value(dataset, VOID.sparqlEndpoint)) == f"{config.public_url}sparql"
    assert str(void.value(dataset, VOID.uriSpace)) == config.base_iri


def test_void_lists_every_dump_of_the_release(void, dataset, release, config):
    dumps = {str(o) for o in void.objects(dataset, VOID.dataDump)}
    expected = {
        f"{config.public_url}dumps/{release.version}/{f['name']}"
        for f in release.files
        if f["name"] not in METADATA_FILES
    }
    assert dumps == expected


def test_void_counts_the_triples_of_the_knowledge_graph(void, dataset, release, knowledge_graph):
    assert int(void.value(dataset, VOID.triples)) == release.manifest["counts"]["knowledge_graph"]
    assert int(void.value(dataset, VOID.triples)) == len(knowledge_graph)


def test_class_partitions_count_the_instances_of_each_class(void, dataset, knowledge_graph):
    expected = Counter(o for o in knowledge_graph.objects(None, RDF.type))
    partitions = list(void.objects(dataset, VOID.classPartition))
    assert len(partitions) == len(expected)
    for part in partitions:
        assert int(void.value(part, VOID.entities)) == expected[void.value(part, VOID["class"])]


def test_property_partitions_count_the_triples_of_each_property(void, dataset, knowledge_graph):
    expected = Counter(p for p in knowledge_graph.predicates())
    partitions = list(void.objects(dataset, VOID.propertyPartition))
    assert len(partitions) == len(expected)
    for part in partitions:
        assert int(void.value(part, VOID.triples)) == expected[void.value(part, VOID.property)]


def test_void_names_the_vocabularies_used(void, dataset):
    vocabularies = {str(o) for o in void.objects(dataset, VOID.vocabulary)}
    assert {"http://schema.org/", "http://www.w3.org/2004/02/skos/core#"} <= vocabularies


@pytest.mark.parametrize(
    ("namespace", "title"),
    [("https://ror.org/", "ROR"), ("https://doi.org/10.13039/", "Crossref Funder Registry")],
)
def test_a_linkset_per_target_dataset_counts_its_links(
    void, dataset, knowledge_graph, namespace, title
):
    links = sum(
        1 for o in knowledge_graph.objects(None, OWL_SAMEAS) if str(o).startswith(namespace)
    )
    assert links > 0
    linksets = [
        ls
        for ls in void.objects(dataset, VOID.subset)
        if str(void.value(void.value(ls, VOID.objectsTarget), VOID.uriSpace)) == namespace
    ]
    assert len(linksets) == 1, f"one linkset into {title}"
    linkset = linksets[0]
    assert (linkset, RDF.type, VOID.Linkset) in void
    assert void.value(linkset, VOID.subjectsTarget) == dataset
    assert void.value(linkset, VOID.linkPredicate) == OWL_SAMEAS
    assert int(void.value(linkset, VOID.triples)) == links


def test_project_websites_are_homepage_links_not_linksets(void, knowledge_graph):
    assert any(True for _ in knowledge_graph.objects(None, FOAF_HOMEPAGE))
    predicates = set(void.objects(None, VOID.linkPredicate))
    assert predicates == {OWL_SAMEAS}


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-triples", "nt"),
    ],
)
def test_void_is_the_same_graph_in_every_syntax(live_server, void, accept, fmt):
    assert isomorphic(fetch(live_server, accept, fmt), void)


def test_browsers_get_a_readable_void_page(live_server):
    response = requests.get(live_server + ".well-known/void", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert "ror.org" in response.text
    assert "Vary" in response.headers and "Accept" in response.headers["Vary"]


def test_void_counts_the_resources_but_not_the_iris_that_moved(
    void, dataset, knowledge_graph, config
):
    resources = {
        s
        for s in knowledge_graph.subjects()
        if isinstance(s, URIRef) and str(s).startswith(config.base_iri + "id/")
    }
    moved = URIRef(config.base_iri + "id/themes")  # data/redirects.ttl
    assert moved in resources and (moved, RDF.type, None) not in knowledge_graph
    assert int(void.value(dataset, VOID.entities)) == len(resources) - 1


def test_a_moved_and_a_removed_iri_more_leave_the_entity_count_as_it_was(
    server_with_redirects, void, dataset
):
    with_redirects = fetch(server_with_redirects)
    assert with_redirects.value(dataset, VOID.entities) == void.value(dataset, VOID.entities)
    assert int(with_redirects.value(dataset, VOID.triples)) > int(void.value(dataset, VOID.triples))
