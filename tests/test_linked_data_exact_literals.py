"""/data of the release's own metadata says what the dumps say, literal for literal (issue 12).

Oxigraph keeps values: ``"40040"^^xsd:nonNegativeInteger`` (DCAT-AP's dcat:byteSize) comes
back from the store as ``xsd:integer``. The views map the stored forms back to the release's.
"""

from __future__ import annotations

import gzip

import pyoxigraph as ox
import pytest

from kommunen_kg.rdf.release import Release

DCAT_BYTE_SIZE = ox.NamedNode("http://www.w3.org/ns/dcat#byteSize")


def metadata_quads(release: Release) -> list[ox.Quad]:
    with gzip.open(release.path / "metadata.nq.gz", "rb") as f:
        return list(ox.parse(f.read(), format=ox.RdfFormat.N_QUADS))


@pytest.fixture(scope="module")
def sizes(release: Release) -> dict[str, ox.Literal]:
    """Each distribution's byte size as the dumps write it."""
    return {
        q.subject.value: q.object for q in metadata_quads(release) if q.predicate == DCAT_BYTE_SIZE
    }


def test_a_distributions_data_gives_its_byte_size_with_the_dumps_datatype(app, sizes, config):
    client = app.test_client()
    assert sizes, "the release describes no distribution"
    for iri, written in sizes.items():
        path = iri.removeprefix(config.base_iri).replace("id/", "data/", 1) + ".nt"
        answer = client.get("/" + path)
        assert answer.status_code == 200, path
        served = [
            t.object
            for t in ox.parse(answer.data, format=ox.RdfFormat.N_TRIPLES)
            if t.predicate == DCAT_BYTE_SIZE
        ]
        assert served == [written]
        assert written.datatype.value.endswith("#nonNegativeInteger")
