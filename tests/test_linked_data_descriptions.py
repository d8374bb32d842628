"""/data/...: a resource's description, in four RDF syntaxes, with links to its other forms."""

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS, SKOS

# rdflib 7 warns about its own use of ConjunctiveGraph while parsing; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

SCHEMA = rdflib.Namespace("http://schema.org/")
FORMS = {
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "nt": ("application/n-triples", "nt"),
    "rdf": ("application/rdf+xml", "xml"),
}


def fetch(live_server: str, path: str, **headers) -> requests.Response:
    response = requests.get(live_server + path, headers=headers, timeout=10)
    assert response.status_code == 200, response.text[:300]
    return response


def parse(response: requests.Response, syntax: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=response.content, format=syntax)
    return graph


@pytest.fixture(scope="module")
def base(config) -> str:
    return config.base_iri


@pytest.mark.parametrize("extension", sorted(FORMS))
def test_every_form_parses_and_describes_the_resource(live_server, base, extension):
    media_type, syntax = FORMS[extension]
    response = fetch(live_server, f"data/project/kudequa.{extension}")
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    graph = parse(response, syntax)
    project = rdflib.URIRef(base + "id/project/kudequa")
    assert (project, SCHEMA.name, rdflib.Literal("KuDeQua")) in graph


@pytest.mark.parametrize("path", ["data/talk/2020-11-11-tempaland", "data/shapes"])
@pytest.mark.parametrize("extension", sorted(FORMS))
def test_every_form_is_the_same_graph(live_server, path, extension):
    # the shapes hold blank nodes: the forms must agree up to their labels
    reference = parse(fetch(live_server, f"{path}.nt"), "nt")
    other = parse(fetch(live_server, f"{path}.{extension}"), FORMS[extension][1])
    assert len(reference) > 20
    assert isomorphic(other, reference)


def test_the_description_holds_the_incoming_links(live_server, base):
    graph = parse(fetch(live_server, "data/project/kudequa.ttl"), "turtle")
    talk = rdflib.URIRef(base + "id/talk/2020-11-11-kudequa")
    presents = rdflib.URIRef(base + "def#presentsProject")
    assert (talk, presents, rdflib.URIRef(base + "id/project/kudequa")) in graph


def test_the_description_names_every_resource_it_links(live_server, base):
    graph = parse(fetch(live_server, "data/project/kudequa.ttl"), "turtle")
    # an outgoing link's target, an incoming link's source and a theme, each with its label
    coordinator = rdflib.URIRef(base + "id/organisation/stadt-dortmund")
    assert (coordinator, SCHEMA.name, rdflib.Literal("Stadt Dortmund", lang="de")) in graph
    talk = rdflib.URIRef(base + "id/talk/2020-11-11-kudequa")
    assert any(graph.objects(talk, SCHEMA.name))
    theme = rdflib.URIRef(base + "id/theme/quartiersentwicklung")
    assert (theme, SKOS.prefLabel, rdflib.Literal("Quartiersentwicklung", lang="de")) in graph
    # and the properties it uses, by the vocabulary's labels
    coordinator_property = rdflib.URIRef(base + "def#coordinator")
    assert (
        coordinator_property,
        RDFS.label,
        rdflib.Literal("lead / coordinator", lang="en"),
    ) in graph


def links_of(response: requests.Response) -> list[dict]:
    return requests.utils.parse_header_links(response.headers["Link"])


def test_link_headers_name_the_other_forms_and_the_page(live_server):
    links = links_of(fetch(live_server, "data/person/peter-dehne.ttl"))
    by_type = {link.get("type"): link["url"] for link in links if link["rel"] == "alternate"}
    assert by_type["application/ld+json"] == "/data/person/peter-dehne.jsonld"
    assert by_type["application/n-triples"] == "/data/person/peter-dehne.nt"
    assert by_type["application/rdf+xml"] == "/data/person/peter-dehne.rdf"
    assert by_type["text/html"] == "/page/person/peter-dehne"
    assert "text/turtle" not in by_type


def test_the_link_header_names_the_iri_as_the_thing_described_not_as_canonical(live_server, base):
    # RFC 6892: the IRI names the person; the document describes it and is not its copy.
    links = links_of(fetch(live_server, "data/person/peter-dehne.ttl"))
    assert [link["url"] for link in links if link["rel"] == "describes"] == [
        base + "id/person/peter-dehne"
    ]
    assert not [link for link in links if link["rel"] == "canonical"]


def test_a_negotiated_description_names_its_forms_url_as_canonical(live_server, base):
    links = links_of(fetch(live_server, "data/person/peter-dehne", Accept="text/turtle"))
    assert [link["url"] for link in links if link["rel"] == "canonical"] == [
        "/data/person/peter-dehne.ttl"
    ]
    assert [link["url"] for link in links if link["rel"] == "describes"] == [
        base + "id/person/peter-dehne"
    ]


@pytest.mark.parametrize(
    ("accept", "extension"),
    [
        ("text/turtle", "ttl"),
        ("application/rdf+xml", "rdf"),
        ("application/ld+json;q=0.9, text/turtle;q=0.2", "jsonld"),
    ],
)
def test_without_an_extension_the_form_is_negotiated(live_server, accept, extension):
    response = fetch(live_server, "data/person/peter-dehne", Accept=accept)
    assert response.headers["Content-Type"].startswith(FORMS[extension][0])
    assert response.headers["Content-Location"] == f"/data/person/peter-dehne.{extension}"
    assert "accept" in response.headers["Vary"].lower()


def test_a_fixed_form_does_not_vary(live_server):
    response = fetch(live_server, "data/person/peter-dehne.ttl")
    varies = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
    assert "accept" not in varies


def test_the_same_request_gives_the_same_bytes(live_server):
    first = fetch(live_server, "data/event/herbst-konferenz-2020.jsonld").content
    second = fetch(live_server, "data/event/herbst-konferenz-2020.jsonld").content
    assert first == second


def test_the_vocabulary_document_holds_every_term(live_server, base):
    graph = parse(fetch(live_server, "data/def.ttl"), "turtle")
    talk = rdflib.URIRef(base + "def#Talk")
    assert (talk, RDFS.subClassOf, SCHEMA.Event) in graph
    assert (talk, RDFS.label, rdflib.Literal("Vortrag", lang="de")) in graph


def test_the_shapes_document_holds_its_blank_nodes(live_server, base):
    graph = parse(fetch(live_server, "data/shapes.nt"), "nt")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    talk_shape = rdflib.URIRef(base + "shapes#TalkShape")
    properties = list(graph.objects(talk_shape, sh.property))
    assert len(properties) == 3
    assert all(isinstance(p, rdflib.BNode) and graph.value(p, sh.path) for p in properties)


def test_hash_resources_are_part_of_their_document(live_server, base):
    graph = parse(fetch(live_server, "data/dataset/kommunen-innovativ.ttl"), "turtle")
    temporal = rdflib.URIRef(base + "id/dataset/kommunen-innovativ#temporal")
    assert any(graph.predicate_objects(temporal))


def test_unknown_descriptions_are_404(live_server):
    response = requests.get(live_server + "data/talk/no-such-talk.ttl", timeout=10)
    assert response.status_code == 404
