"""Every IRI of the release under the base IRI answers on the running server.

Takes every subject of every graph of the release (the knowledge graph, the vocabulary, the
shapes and the metadata) that lies under the base IRI, dereferences it as an RDF client
would (the path part on this server; a hash IRI through its document), and checks the answer:

* a resource answers ``303 See Other``; what the redirect leads to parses and holds the subject;
* an IRI that data/redirects.ttl lists as moved answers ``301`` to the new IRI; following it
  arrives at the new resource's description, which names the old IRI (the incoming
  ``dcterms:isReplacedBy``);
* an IRI listed as removed answers ``410 Gone``.

Both the shipped release and one with a moved and a removed IRI more (conftest.py) are checked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import rdflib
import requests

from kommunen_kg.web.addresses import Addresses
from kommunen_kg.web.publication import Publication

DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# The answers each release must give at least once, so that no kind passes by being absent.
ANSWERS = {"shipped": {303, 301}, "with_redirects": {303, 301, 410}}


@pytest.fixture(params=sorted(ANSWERS))
def served(request) -> tuple[str, Publication, set[int]]:
    """(base URL, publication, expected answers) of the shipped release and of the one with
    more redirects."""
    if request.param == "shipped":
        url = request.getfixturevalue("live_server")
        publication = request.getfixturevalue("publication")
    else:
        url = request.getfixturevalue("server_with_redirects")
        publication = request.getfixturevalue("publication_with_redirects")
    return url, publication, ANSWERS[request.param]


def release_subjects(publication: Publication, base: str) -> list[str]:
    rows = publication.trusted.select(
        f"""SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
              FILTER(isIRI(?s) && STRSTARTS(STR(?s), {ox.Literal(base)})) }}"""
    )
    return sorted(row["s"].value for row in rows)


def retired(publication: Publication) -> dict[str, str | None]:
    """The IRIs data/redirects.ttl retires: moved ones with their new IRI, removed ones with
    None. Like the server, an IRI that still has a type is a live resource."""
    rows = publication.trusted.select(
        f"""SELECT DISTINCT ?s ?new WHERE {{ GRAPH ?g {{
              {{ ?s <{DCTERMS}isReplacedBy> ?new }} UNION {{ ?s <{PROV}invalidatedAtTime> ?when }}
              FILTER NOT EXISTS {{ ?s <{RDF_TYPE}> ?type }} }} }}"""
    )
    return {row["s"].value: row["new"].value if row.get("new") else None for row in rows}


def test_every_subject_under_the_base_resolves_and_is_described(served):
    url, publication, answers = served
    base = publication.config.base_iri
    addresses = Addresses(base)
    subjects = release_subjects(publication, base)
    moved_or_removed = retired(publication)
    assert len(subjects) > 300  # data, themes, vocabulary terms, shapes, metadata
    documents: dict[str, rdflib.Graph] = {}
    failures = []
    seen: set[int] = set()
    session = requests.Session()
    turtle = {"Accept": "text/turtle"}
    for subject in subjects:
        document = subject.split("#", 1)[0]
        if document not in documents:
            path = document[len(base) :]
            response = session.get(url + path, headers=turtle, allow_redirects=False, timeout=10)
            got = response.status_code
            seen.add(got)
            if document in moved_or_removed:
                new = moved_or_removed[document]
                expected = 301 if new else 410
                if got != expected:
                    failures.append(f"{subject}: {got} instead of {expected}")
                    continue
                if new is None:
                    documents[document] = rdflib.Graph()  # gone: nothing to describe
                    continue
                location = urlsplit(response.headers["Location"]).path
                if location != addresses.id_url(new):
                    failures.append(f"{subject}: moved to {location}, not to {new}")
                    continue
                described = session.get(url + location.lstrip("/"), headers=turtle, timeout=10)
            else:
                if got != 303:
                    failures.append(f"{subject}: {got} instead of 303")
                    continue
                target = urlsplit(response.headers["Location"]).path
                described = session.get(url + target.lstrip("/"), timeout=10)
            graph = rdflib.Graph()
            graph.parse(data=described.content, format="turtle")
            documents[document] = graph
        if moved_or_removed.get(document, "") is None:
            continue
        if (rdflib.URIRef(subject), None, None) not in documents[document]:
            failures.append(f"{subject}: not in the description of {document}")
    assert not failures, "\n".join(failures[:20])
    assert seen == answers


def test_pages_exist_for_every_resource_document(served):
    url, publication, _answers = served
    base = publication.config.base_iri
    documents = {s.split("#", 1)[0] for s in release_subjects(publication, base)}
    removed = {iri for iri, new in retired(publication).items() if new is None}
    session = requests.Session()
    missing = []
    for document in sorted(documents):
        # A moved IRI's page is the new resource's page; a removed one's says so, with 410.
        expected = 410 if document in removed else 200
        response = session.get(
            url + document[len(base) :], headers={"Accept": "text/html"}, timeout=10
        )
        if response.status_code != expected or "<h1" not in response.text:
            missing.append(f"{document}: {response.status_code}")
    assert not missing, "\n".join(missing[:20])
