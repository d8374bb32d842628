"""The named graphs' IRIs answer like the IRIs of things: 303 to a description, never 404 and
never the graph's whole content."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import requests

from kommunen_kg.rdf.namespaces import GRAPH_NAMES

VOID = "http://rdfs.org/ns/void#"
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def local(iri: str) -> str:
    return urlsplit(iri).path.lstrip("/").removeprefix("kommunen-innovativ/")


def graph_names_in_the_dump(release) -> set[str]:
    dump = release.path / "kommunen-innovativ.trig"
    quads = ox.parse(path=str(dump), format=ox.RdfFormat.TRIG)
    return {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}


def test_every_graph_the_dump_names_is_one_of_the_five(release):
    names = graph_names_in_the_dump(release)
    assert {local(n).removeprefix("graph/") for n in names} <= set(GRAPH_NAMES)


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_a_graph_name_sends_a_browser_to_a_page_that_says_what_the_graph_holds(
    live_server, release, name
):
    see_other = requests.get(
        live_server + f"graph/{name}",
        headers={"Accept": BROWSER},
        allow_redirects=False,
        timeout=10,
    )
    assert see_other.status_code == 303
    assert urlsplit(see_other.headers["Location"]).path == f"/page/graph/{name}"
    page = requests.get(live_server + f"page/graph/{name}?lang=en", timeout=10)
    assert page.status_code == 200
    count = release.manifest["counts"][name]
    assert f"{count:,}" in page.text
    assert "/dumps/latest/" in page.text and "/sparql?query=" in page.text


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_a_graph_name_sends_an_rdf_client_to_a_description_not_the_content(
    live_server, release, name
):
    see_other = requests.get(
        live_server + f"graph/{name}",
        headers={"Accept": "text/turtle"},
        allow_redirects=False,
        timeout=10,
    )
    assert see_other.status_code == 303
    described = requests.get(live_server + see_other.headers["Location"].lstrip("/"), timeout=10)
    assert described.status_code == 200
    triples = list(ox.parse(described.content, format=ox.RdfFormat.TURTLE))
    assert len(triples) < 20  # a description, not the graph
    facts = {(t.predicate.value, t.object.value) for t in triples}
    assert (VOID + "triples", str(release.manifest["counts"][name])) in facts
    assert any(p == VOID + "dataDump" for p, _ in facts)


def test_a_graph_that_is_not_ours_is_404(live_server):
    answer = requests.get(live_server + "graph/everything", timeout=10, allow_redirects=False)
    assert answer.status_code == 404
