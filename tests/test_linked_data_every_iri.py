"""Every IRI of the release under the base IRI answers on the running server.

Takes every subject of every graph of the release (the knowledge graph, the vocabulary, the
shapes and the metadata) that lies under the base IRI, dereferences it as an RDF client
would (the path part on this server, following the 303; a hash IRI through its document),
parses what comes back, and finds the subject in it.
"""

from urllib.parse import urlsplit

import pyoxigraph as ox
import rdflib
import requests


def release_subjects(publication, base: str) -> list[str]:
    rows = publication.trusted.select(
        f"""SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
              FILTER(isIRI(?s) && STRSTARTS(STR(?s), {ox.Literal(base)})) }}"""
    )
    return sorted(row["s"].value for row in rows)


def test_every_subject_under_the_base_resolves_and_is_described(live_server, publication, config):
    base = config.base_iri
    subjects = release_subjects(publication, base)
    assert len(subjects) > 300  # data, themes, vocabulary terms, shapes, metadata
    documents: dict[str, rdflib.Graph] = {}
    failures = []
    session = requests.Session()
    for subject in subjects:
        document = subject.split("#", 1)[0]
        if document not in documents:
            path = document[len(base) :]
            response = session.get(
                live_server + path,
                headers={"Accept": "text/turtle"},
                allow_redirects=False,
                timeout=10,
            )
            if response.status_code != 303:
                failures.append(f"{subject}: {response.status_code} instead of 303")
                continue
            target = urlsplit(response.headers["Location"]).path
            described = session.get(live_server + target.lstrip("/"), timeout=10)
            graph = rdflib.Graph()
            graph.parse(data=described.content, format="turtle")
            documents[document] = graph
        graph = documents[document]
        if (rdflib.URIRef(subject), None, None) not in graph:
            failures.append(f"{subject}: not in the description of {document}")
    assert not failures, "\n".join(failures[:20])


def test_pages_exist_for_every_resource_document(live_server, publication, config):
    base = config.base_iri
    documents = {s.split("#", 1)[0] for s in release_subjects(publication, base)}
    session = requests.Session()
    missing = []
    for document in sorted(documents):
        response = session.get(
            live_server + document[len(base) :], headers={"Accept": "text/html"}, timeout=10
        )
        if response.status_code != 200 or "<h1" not in response.text:
            missing.append(f"{document}: {response.status_code}")
    assert not missing, "\n".join(missing[:20])
