"""/data forms read by parsers other than rdflib: Debian's rapper (Raptor) for Turtle,
N-Triples and RDF/XML, and pyld for JSON-LD, each finding the same number of triples."""

import shutil
import subprocess

import pytest
import rdflib
import requests
from pyld import jsonld

PATH = "data/event/herbst-konferenz-2020-daseinsvorsorge-sichern"


def triple_count(live_server: str) -> int:
    graph = rdflib.Graph()
    graph.parse(data=requests.get(live_server + PATH + ".nt", timeout=10).content, format="nt")
    return len(graph)


@pytest.mark.parametrize(
    ("extension", "syntax"), [("ttl", "turtle"), ("nt", "ntriples"), ("rdf", "rdfxml")]
)
def test_rapper_parses_the_form(live_server, config, extension, syntax):
    if shutil.which("rapper") is None:
        pytest.skip("rapper is not installed (apt-get install -y raptor2-utils)")
    body = requests.get(live_server + f"{PATH}.{extension}", timeout=10).content
    result = subprocess.run(
        ["rapper", "-q", "-i", syntax, "-o", "ntriples", "-", config.base_iri],
        input=body,
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = [line for line in result.stdout.decode().splitlines() if line.strip()]
    assert len(lines) == triple_count(live_server)


def test_pyld_expands_the_jsonld_form_to_the_same_triples(live_server, config):
    document = requests.get(live_server + PATH + ".jsonld", timeout=10).json()
    quads = jsonld.to_rdf(document, {"format": "application/n-quads"})
    lines = {line for line in quads.splitlines() if line.strip()}
    assert len(lines) == triple_count(live_server)
    assert any(
        config.base_iri + "id/event/herbst-konferenz-2020-daseinsvorsorge-sichern" in line
        for line in lines
    )
