"""Every download and metadata document parses back, with more than one parser, to the release.

Each dump is downloaded over HTTP, checked against its published SHA-256, parsed with rdflib,
and (Turtle, N-Triples, TriG, N-Quads, RDF/XML) with Debian's rapper, JSON-LD with pyld. The
parsed graph must equal the release graph: the named graphs the server loaded for the release.
"""

from __future__ import annotations

import gzip
import hashlib

import pyoxigraph as ox
import pytest
import requests
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

from .rdf_support import pyld_graph, rapper_graph, rapper_quads, same_datasets, union

# rdflib 7 warns about its own use of ConjunctiveGraph while parsing; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")

KNOWLEDGE_GRAPHS = ("vocabulary", "themes", "data")
CONTENT_GRAPHS = ("vocabulary", "themes", "shapes", "data")


def _store_dataset(publication, names) -> Dataset:
    """The release as the server loaded it, as an rdflib dataset (reference for the dumps)."""
    graphs = [ox.NamedNode(publication.iris.graph(n)) for n in names]
    quads = [q for q in publication.store.quads_for_pattern(None, None, None, None)]
    data = ox.serialize([q for q in quads if q.graph_name in graphs], format=ox.RdfFormat.N_QUADS)
    return Dataset().parse(data=data, format="nquads")


@pytest.fixture(scope="module")
def release_graph(publication) -> Graph:
    return union(_store_dataset(publication, KNOWLEDGE_GRAPHS))


@pytest.fixture(scope="module")
def release_dataset(publication) -> Dataset:
    return _store_dataset(publication, CONTENT_GRAPHS)


def download(live_server, release, name: str) -> bytes:
    response = requests.get(f"{live_server}dumps/{release.version}/{name}", timeout=30)
    assert response.status_code == 200
    body = response.content
    expected = next(f for f in release.files if f["name"] == name)
    assert hashlib.sha256(body).hexdigest() == expected["sha256"]
    return gzip.decompress(body) if name.endswith(".gz") else body


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("kommunen-innovativ.ttl", "turtle"),
        ("kommunen-innovativ.nt.gz", "nt"),
        ("kommunen-innovativ.jsonld", "json-ld"),
    ],
)
def test_graph_dump_parsed_by_rdflib_equals_the_release_graph(
    live_server, release, release_graph, name, fmt
):
    parsed = Graph().parse(data=download(live_server, release, name), format=fmt)
    assert len(parsed) == release.manifest["counts"]["knowledge_graph"]
    assert isomorphic(parsed, release_graph)


@pytest.mark.parametrize(
    ("name", "syntax"),
    [("kommunen-innovativ.ttl", "turtle"), ("kommunen-innovativ.nt.gz", "nt")],
)
def test_graph_dump_parsed_by_rapper_equals_the_release_graph(
    live_server, release, release_graph, name, syntax
):
    assert isomorphic(rapper_graph(download(live_server, release, name), syntax), release_graph)


def test_jsonld_dump_parsed_by_pyld_equals_the_release_graph(live_server, release, release_graph):
    data = download(live_server, release, "kommunen-innovativ.jsonld")
    assert isomorphic(pyld_graph(data), release_graph)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("kommunen-innovativ.trig", "trig"), ("kommunen-innovativ.nq.gz", "nquads")],
)
def test_dataset_dump_keeps_every_named_graph(live_server, release, release_dataset, name, fmt):
    data = download(live_server, release, name)
    parsed = Dataset().parse(data=data, format=fmt)
    assert same_datasets(parsed, release_dataset)
    syntax = "trig" if fmt == "trig" else "nquads"
    assert same_datasets(rapper_quads(data, syntax), release_dataset)


@pytest.mark.parametrize(("name", "fmt"), [("metadata.trig", "trig"), ("metadata.nq.gz", "nquads")])
def test_metadata_file_parses_with_both_parsers_and_has_no_blank_nodes(
    live_server, release, name, fmt
):
    data = download(live_server, release, name)
    parsed = Dataset().parse(data=data, format=fmt)
    assert len(union(parsed)) == release.manifest["counts"]["metadata"]
    assert same_datasets(rapper_quads(data, fmt), parsed)
    assert "_:" not in data.decode()


@pytest.mark.parametrize("path", ["catalog", ".well-known/void"])
@pytest.mark.parametrize(
    ("fmt", "rdflib_fmt", "syntax"),
    [
        ("ttl", "turtle", "turtle"),
        ("nt", "nt", "nt"),
        ("rdf", "xml", "xml"),
        ("jsonld", "json-ld", None),
    ],
)
def test_metadata_documents_parse_back_alike_with_every_parser(
    live_server, path, fmt, rdflib_fmt, syntax
):
    reference = Graph().parse(
        data=requests.get(f"{live_server}{path}?format=ttl", timeout=10).content, format="turtle"
    )
    body = requests.get(f"{live_server}{path}?format={fmt}", timeout=10).content
    assert isomorphic(Graph().parse(data=body, format=rdflib_fmt), reference)
    other = rapper_graph(body, syntax) if syntax else pyld_graph(body)
    assert isomorphic(other, reference)
