"""The /catalog scores "Excellent" in data.europa.eu's metadata quality assessment (issue 14).

The indicators and their weights are those of the published MQA methodology
(https://data.europa.eu/mqa/methodology): five dimensions, 405 points in all; "Excellent" is
351 points or more. Each indicator is checked here on its own, as the MQA computes it: on the
dataset, or as the share of distributions that meet it. Accessibility is checked by fetching
every access and download URL from the running server (the catalog's public base stands for
the server under test). DCAT-AP compliance is validated with the DCAT-AP 3.0.0 and 3.0.1
shapes (see test_catalog_dcat_ap.py, which also says where DCAT-AP 2.1.1 disagrees).

| dimension | indicator | points | on |
|---|---|---|---|
| findability | keywords (dcat:keyword) | 30 | dataset |
| findability | categories (dcat:theme) | 30 | dataset |
| findability | geo search (dct:spatial) | 20 | dataset |
| findability | time-based search (dct:temporal) | 20 | dataset |
| accessibility | access URL answers | 50 | distributions |
| accessibility | download URL given | 20 | distributions |
| accessibility | download URL answers | 30 | distributions |
| interoperability | format (dct:format) | 20 | distributions |
| interoperability | media type (dcat:mediaType) | 10 | distributions |
| interoperability | format from the EU file-type vocabulary | 5 | distributions |
| interoperability | media type from IANA's registry | 5 | distributions |
| interoperability | non-proprietary format | 20 | distributions |
| interoperability | machine-readable format | 20 | distributions |
| interoperability | DCAT-AP compliance | 30 | catalog |
| reusability | licence (dct:license) | 20 | distributions |
| reusability | licence from the EU licence vocabulary | 10 | distributions |
| reusability | access restrictions (dct:accessRights) | 10 | dataset |
| reusability | access restrictions from the EU vocabulary | 5 | dataset |
| reusability | contact point (dcat:contactPoint) | 20 | dataset |
| reusability | publisher (dct:publisher) | 10 | dataset |
| contextuality | rights (dct:rights) | 5 | distributions |
| contextuality | file size (dcat:byteSize) | 5 | distributions |
| contextuality | date of issue (dct:issued) | 5 | dataset and distributions |
| contextuality | modification date (dct:modified) | 5 | dataset |

Two indicators are not met in full, on purpose:
* the licence is DCAT-AP.de's (http://dcat-ap.de/def/licenses/cc-by/4.0), which GovData
  requires (DCAT-AP.de convention 31) and which is not in the EU licence vocabulary: 0 of 10;
* the SPARQL endpoint is a distribution without a file: no download URL and no size, and its
  format (SPARQL) is in neither list of formats below. 5 of 6 distributions meet those.
"""

from __future__ import annotations

import pytest
import requests
from rdflib import Graph, Namespace, URIRef

from .test_catalog_dcat_ap import (
    DCAT_AP,
    DCAT_AP_301,
    _shapes,
    fetch_catalog,
    validate,
    with_stand_ins,
)

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning"),
]

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
# The W3C RDF syntaxes the dumps use: open standards (non-proprietary) read by programs
# (machine-readable), as the MQA's format lists count them.
OPEN_MACHINE_READABLE = {
    FILE_TYPE + name
    for name in ("RDF_TURTLE", "RDF_N_TRIPLES", "RDF_N_QUADS", "RDF_TRIG", "JSON_LD", "RDF_XML")
}
IANA = "http://www.iana.org/assignments/media-types/"
EU_LICENCE = "http://publications.europa.eu/resource/authority/licence/"
EU_ACCESS_RIGHT = "http://publications.europa.eu/resource/authority/access-right/"
EXCELLENT = 351


@pytest.fixture(scope="module")
def catalog(live_server) -> Graph:
    return fetch_catalog(live_server)


@pytest.fixture(scope="module")
def dataset(catalog, config) -> URIRef:
    (found,) = catalog.objects(URIRef(config.base_iri + "id/catalog"), DCAT.dataset)
    return found


def distributions(catalog: Graph, dataset: URIRef) -> list[URIRef]:
    return sorted(catalog.objects(dataset, DCAT.distribution))


def share(catalog: Graph, dataset: URIRef, meets) -> float:
    """The share of the dataset's distributions for which ``meets(distribution)`` holds."""
    found = distributions(catalog, dataset)
    return sum(1 for d in found if meets(d)) / len(found)


def on_this_server(url: URIRef, base: str, live_server: str) -> str:
    return live_server + str(url)[len(base) :] if str(url).startswith(base) else str(url)


def answers(url: str) -> bool:
    response = requests.get(url, timeout=10, allow_redirects=True, stream=True)
    response.close()
    return response.status_code < 400


def values(catalog, subject, prop) -> list:
    return list(catalog.objects(subject, prop))


def points(catalog, dataset, live_server, config) -> dict[str, float]:
    """Each indicator's points for this catalog."""
    base = config.base_iri

    def has(prop):
        return lambda d: bool(values(catalog, d, prop))

    def reachable(prop):
        return lambda d: (
            bool(values(catalog, d, prop))
            and all(answers(on_this_server(u, base, live_server)) for u in values(catalog, d, prop))
        )

    def formats(allowed):
        return lambda d: any(str(f) in allowed for f in values(catalog, d, DCTERMS["format"]))

    on_dataset = {
        "keywords": (30, has(DCAT.keyword)(dataset)),
        "categories": (30, has(DCAT.theme)(dataset)),
        "geo search": (20, has(DCTERMS.spatial)(dataset)),
        "time-based search": (20, has(DCTERMS.temporal)(dataset)),
        "access restrictions": (10, has(DCTERMS.accessRights)(dataset)),
        "access restrictions vocabulary": (
            5,
            all(
                str(v).startswith(EU_ACCESS_RIGHT)
                for v in values(catalog, dataset, DCTERMS.accessRights)
            ),
        ),
        "contact point": (20, has(DCAT.contactPoint)(dataset)),
        "publisher": (10, has(DCTERMS.publisher)(dataset)),
        "modification date": (5, has(DCTERMS.modified)(dataset)),
    }
    on_distributions = {
        "access URL answers": (50, reachable(DCAT.accessURL)),
        "download URL given": (20, has(DCAT.downloadURL)),
        "download URL answers": (30, reachable(DCAT.downloadURL)),
        "format": (20, has(DCTERMS["format"])),
        "media type": (10, has(DCAT.mediaType)),
        "format vocabulary": (
            5,
            lambda d: (
                all(str(f).startswith(FILE_TYPE) for f in values(catalog, d, DCTERMS["format"]))
                and has(DCTERMS["format"])(d)
            ),
        ),
        "media type vocabulary": (
            5,
            lambda d: (
                has(DCAT.mediaType)(d)
                and all(str(m).startswith(IANA) for m in values(catalog, d, DCAT.mediaType))
            ),
        ),
        "non-proprietary format": (20, formats(OPEN_MACHINE_READABLE)),
        "machine-readable format": (20, formats(OPEN_MACHINE_READABLE)),
        "licence": (20, has(DCTERMS.license)),
        "licence vocabulary": (
            10,
            lambda d: any(
                str(v).startswith(EU_LICENCE) for v in values(catalog, d, DCTERMS.license)
            ),
        ),
        "rights": (5, has(DCTERMS.rights)),
        "file size": (5, has(DCAT.byteSize)),
    }
    scored = {name: weight * bool(met) for name, (weight, met) in on_dataset.items()}
    for name, (weight, meets) in on_distributions.items():
        scored[name] = weight * share(catalog, dataset, meets)
    issued = [dataset, *distributions(catalog, dataset)]
    scored["date of issue"] = (
        5 * sum(1 for s in issued if values(catalog, s, DCTERMS.issued)) / len(issued)
    )
    data = with_stand_ins(catalog)
    violations = sum(
        validate(data, _shapes(shapes))[0]["Violation"] for shapes in ((DCAT_AP,), DCAT_AP_301)
    )
    scored["DCAT-AP compliance"] = 30 * (violations == 0)
    return scored


@pytest.fixture(scope="module")
def scored(catalog, dataset, live_server, config) -> dict[str, float]:
    return points(catalog, dataset, live_server, config)


FULL = {
    "keywords": 30, "categories": 30, "geo search": 20, "time-based search": 20,
    "access URL answers": 50, "format": 20, "media type": 10, "format vocabulary": 5,
    "media type vocabulary": 5, "DCAT-AP compliance": 30, "licence": 20,
    "access restrictions": 10, "access restrictions vocabulary": 5, "contact point": 20,
    "publisher": 10, "rights": 5, "date of issue": 5, "modification date": 5,
}  # fmt: skip
# Five of the six distributions are files; the sixth is the SPARQL endpoint.
FIVE_OF_SIX = {
    "download URL given": 20,
    "download URL answers": 30,
    "non-proprietary format": 20,
    "machine-readable format": 20,
    "file size": 5,
}


@pytest.mark.parametrize("indicator", sorted(FULL))
def test_the_catalog_meets_the_indicator_in_full(scored, indicator):
    assert scored[indicator] == pytest.approx(FULL[indicator])


@pytest.mark.parametrize("indicator", sorted(FIVE_OF_SIX))
def test_every_file_meets_the_indicator_and_the_sparql_endpoint_cannot(scored, indicator):
    assert scored[indicator] == pytest.approx(FIVE_OF_SIX[indicator] * 5 / 6)


def test_the_dcat_ap_de_licence_scores_nothing_for_the_eu_licence_vocabulary(scored):
    assert scored["licence vocabulary"] == 0


def test_the_catalog_scores_excellent(scored):
    total = sum(scored.values())
    print(f"MQA: {total:.1f} of 405 points")
    assert len(scored) == 24  # every indicator of the methodology's table
    assert total >= EXCELLENT, {k: round(v, 1) for k, v in scored.items()}
