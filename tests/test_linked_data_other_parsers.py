"""/data forms read by parsers other than rdflib: Debian's rapper (Raptor) for Turtle,
N-Triples and RDF/XML, and pyld for JSON-LD, each reading the same graph as rdflib does from
the N-Triples form (compared as graphs, blank nodes up to their labels)."""

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from .rdf_support import pyld_graph, rapper_graph

# rdflib 7 warns about its own use of ConjunctiveGraph while parsing; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

PATHS = ["data/event/herbst-konferenz-2020-daseinsvorsorge-sichern", "data/shapes"]


def reference(live_server: str, path: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=requests.get(live_server + path + ".nt", timeout=10).content, format="nt")
    assert len(graph) > 20
    return graph


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("extension", "syntax"), [("ttl", "turtle"), ("nt", "nt"), ("rdf", "xml")])
def test_rapper_reads_the_same_graph(live_server, path, extension, syntax):
    body = requests.get(live_server + f"{path}.{extension}", timeout=10).content
    assert isomorphic(rapper_graph(body, syntax), reference(live_server, path))


@pytest.mark.parametrize("path", PATHS)
def test_pyld_reads_the_same_graph_from_the_jsonld_form(live_server, config, path):
    body = requests.get(live_server + path + ".jsonld", timeout=10).content
    graph = pyld_graph(body)
    assert isomorphic(graph, reference(live_server, path))
