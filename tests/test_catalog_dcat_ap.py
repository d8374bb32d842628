"""The served /catalog validates against DCAT-AP.de 3.0 and DCAT-AP 3.0 with zero violations.

The catalog is fetched over HTTP from the real server and validated with pyshacl against

* the profile "DCAT-AP.de 3.0 Spezifikation" of the GovData validator: SEMIC DCAT-AP 3.0.0
  ``dcat-ap-SHACL.ttl`` + the DCAT-AP.de ``dcat-ap-SHACL-DE.ttl``, ``dcat-ap-de-deprecated.ttl``,
  ``dcat-ap-spec-german-additions.ttl`` and ``dcat-ap-de-controlledvocabularies.ttl``
  (``dcat-ap-de-imports.ttl`` only owl:imports the remote code lists, see below);
* SEMIC DCAT-AP 3.0.0 ``dcat-ap-SHACL.ttl`` alone;
* SEMIC DCAT-AP 3.0.1, SEMIC's current recommendation, with pyshacl and with Jena (Debian's):
  its split files ``html/shacl/shapes.ttl`` (the constraints), ``range.ttl`` (the classes of
  values) and ``deprecateduris.ttl``. Its one-file ``shacl/dcat-ap-SHACL.ttl`` is broken
  upstream: it names property shapes (of DataService and Dataset) that only ``ranges.ttl``
  defines, and even with both files loaded one is missing; pyshacl and Jena both refuse it.

Jena (Debian's, the second engine) validates the catalog against 3.0.1 and the DCAT-AP.de 3.0
profile as well. The catalog follows DCAT-AP 3 (README, "Which DCAT-AP"). DCAT-AP 2.1.1 is checked too, to hold
its disagreement to exactly the two rules DCAT-AP 3 changed (the datatype of ``dcat:byteSize``
and SHA-1 as the only checksum algorithm).

The shapes are used exactly as published. What they expect from the imported code lists,
which cannot be fetched here, comes from stand-ins:

1. ``tests/data/dcat-ap-code-lists.ttl``: for each EU authority code (language DEU/ENG,
   data-theme GOVE/REGI/SOCI and the data-theme scheme, frequency IRREG, access-right PUBLIC,
   planned-availability STABLE, country DEU, file-type RDF_TURTLE/RDF_N_TRIPLES/JSON_LD/
   RDF_TRIG/RDF_N_QUADS/SPARQLQ), each IANA media type (text/turtle, application/n-triples,
   application/ld+json, application/trig, application/n-quads, application/gzip), the
   DCAT-AP.de licence cc-by/4.0 and political geocoding level "federal", and SPDX's
   checksumAlgorithm_sha256: its class, skos:inScheme and skos:prefLabel.
2. RDF semantics: every IRI denotes an ``rdfs:Resource`` (RDFS entailment rule rdfs4b). The
   3.0.0 shapes check ``sh:class rdfs:Resource`` on download, access and endpoint URLs, which
   pyshacl (without inference) cannot see; the test adds ``?o a rdfs:Resource`` for every
   IRI object of the catalog.

The stand-ins never describe a resource of this project (checked below), so they cannot
hide a mistake in our own metadata.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
import requests
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SH

from kommunen_kg.rdf.release import METADATA_FILES

from .shacl_engines import jena_missing, run_jena
from .support import CONFORMANCE, ROOT, server_in_thread

STAND_INS = ROOT / "tests" / "data" / "dcat-ap-code-lists.ttl"
DCAT_AP = CONFORMANCE / "dcat-ap" / "3.0.0" / "shacl" / "dcat-ap-SHACL.ttl"
DCAT_AP_301 = tuple(
    CONFORMANCE / "dcat-ap" / "3.0.1" / "html" / "shacl" / name
    for name in ("shapes.ttl", "range.ttl", "deprecateduris.ttl")
)
DCAT_AP_211 = (CONFORMANCE / "dcat-ap" / "2.1.1" / "dcat-ap_2.1.1_shacl_shapes.ttl",)
DCAT_AP_DE = CONFORMANCE / "dcat-ap-de" / "v3.0" / "shapes"
DE_PROFILE = (
    DCAT_AP,
    DCAT_AP_DE / "dcat-ap-SHACL-DE.ttl",
    DCAT_AP_DE / "dcat-ap-de-deprecated.ttl",
    DCAT_AP_DE / "dcat-ap-spec-german-additions.ttl",
    DCAT_AP_DE / "dcat-ap-de-controlledvocabularies.ttl",
)
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

pytestmark = [
    pytest.mark.conformance,
    # rdflib 7 warns about its own use of ConjunctiveGraph while parsing; not ours to fix.
    pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning"),
]


def _shapes(paths) -> Graph:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"conformance shapes missing (../shared/conformance): {missing[0]}")
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


def fetch_catalog(base_url: str, accept: str = "text/turtle", fmt: str = "turtle") -> Graph:
    response = requests.get(base_url + "catalog", headers={"Accept": accept}, timeout=10)
    assert response.status_code == 200, response.text
    graph = Graph()
    graph.parse(data=response.content, format=fmt)
    return graph


@pytest.fixture(scope="module")
def catalog(live_server) -> Graph:
    return fetch_catalog(live_server)


def with_stand_ins(catalog: Graph) -> Graph:
    data = Graph()
    for triple in catalog:
        data.add(triple)
    data.parse(STAND_INS, format="turtle")
    for obj in set(data.objects()):
        if isinstance(obj, URIRef):
            data.add((obj, RDF.type, RDFS.Resource))  # rdfs4b
    return data


def validate(data: Graph, shapes: Graph) -> tuple[Counter, str]:
    from pyshacl import validate as shacl

    _conforms, report, text = shacl(
        data, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True
    )
    counts = Counter(
        str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        for result in report.subjects(SH.resultSeverity, None)
    )
    return counts, text


def test_catalog_has_zero_violations_against_the_dcat_ap_de_3_profile(catalog):
    counts, text = validate(with_stand_ins(catalog), _shapes(DE_PROFILE))
    print("DCAT-AP.de 3.0 Spezifikation:", dict(counts))
    assert counts["Violation"] == 0, text
    # The one expected warning: DCAT-AP.de 3.0 deprecates dcterms:isVersionOf, which DCAT 3
    # names as the inverse of dcat:hasVersion and which links each release to the dataset.
    assert counts["Warning"] <= 1, text


def test_catalog_has_zero_violations_against_the_dcat_ap_3_shapes(catalog):
    counts, text = validate(with_stand_ins(catalog), _shapes((DCAT_AP,)))
    print("DCAT-AP 3.0.0:", dict(counts))
    assert counts["Violation"] == 0, text


def test_catalog_has_zero_violations_against_the_dcat_ap_3_0_1_shapes(catalog):
    counts, text = validate(with_stand_ins(catalog), _shapes(DCAT_AP_301))
    print("DCAT-AP 3.0.1:", dict(counts))
    assert counts["Violation"] == 0, text


# A property shape of the DCAT-AP.de 3.0 additions that no node shape names (upstream): no
# engine reaches it, so Jena reports it as not evaluated. Our catalog has no dataset series.
_ORPHAN = "<http://dcat-ap.de/def/dcatde/3.0/shacl/DE_DatasetSeries_dcterms_publisher_v_Min>"


@pytest.mark.slow  # starts a JVM (about 4 s each)
@pytest.mark.parametrize(
    "profile", [DCAT_AP_301, DE_PROFILE], ids=["dcat-ap-3.0.1", "dcat-ap.de-3.0"]
)
def test_jena_finds_no_violation_in_the_catalog(catalog, profile):
    """The second SHACL engine agrees with pyshacl: no violation, every constraint reached."""
    reason = jena_missing()
    if reason:
        pytest.skip(reason)
    run = run_jena(_shapes(profile), {"catalog": with_stand_ins(catalog)})["catalog"]
    print(run.summary())
    assert run.counts["Violation"] == 0, run.summary()
    assert run.counts["Warning"] <= 1, run.summary()  # DCAT-AP.de deprecates dct:isVersionOf
    assert [s for s in run.skipped if not s.startswith(_ORPHAN)] == [], run.summary()


def test_dcat_ap_2_1_1_disagrees_only_on_the_byte_size_datatype_and_sha_1(catalog, release):
    """DCAT-AP 2.1.1 asks for ``xsd:decimal`` sizes and SHA-1 checksums; DCAT-AP 3 for
    ``xsd:nonNegativeInteger`` (its shapes, 3.0.0 and 3.0.1 alike, and so GovData's DCAT-AP.de
    3.0) and any SPDX algorithm (SEMIC issue 244). No size satisfies both; the catalog follows
    DCAT-AP 3. Every other 2.1.1 constraint holds."""
    from pyshacl import validate as shacl

    _conforms, report, text = shacl(
        with_stand_ins(catalog), shacl_graph=_shapes(DCAT_AP_211), inference="none"
    )
    broken = Counter(
        (str(report.value(r, SH.resultPath)), str(report.value(r, SH.sourceConstraintComponent)))
        for r in report.subjects(RDF.type, SH.ValidationResult)
    )
    dumps = len([f for f in release.files if f["name"] not in METADATA_FILES])
    assert broken == {
        (str(DCAT.byteSize), str(SH.DatatypeConstraintComponent)): dumps,
        (str(SPDX.algorithm), str(SH.HasValueConstraintComponent)): dumps,
    }, text


def test_stand_ins_describe_only_codes_the_catalog_uses_and_nothing_of_ours(catalog, config):
    stand_ins = Graph().parse(STAND_INS, format="turtle")
    ours = (config.base_iri, config.public_url)
    used = set(catalog.objects()) | set(catalog.subjects())
    schemes = set(stand_ins.objects(None, URIRef("http://www.w3.org/2004/02/skos/core#inScheme")))
    for subject in set(stand_ins.subjects()):
        assert not str(subject).startswith(ours), f"stand-in describes our own {subject}"
        assert subject in used or subject in schemes, f"stand-in {subject} is not used"


def test_catalog_has_no_blank_nodes(catalog):
    nodes = {t for triple in catalog for t in triple if isinstance(t, BNode)}
    assert not nodes


def test_every_dump_is_a_distribution_with_url_media_type_format_size_and_checksum(
    catalog, release, config
):
    release_iri = URIRef(f"{config.base_iri}id/dataset/kommunen-innovativ-{release.version}")
    dumps = [f for f in release.files if f["name"] not in METADATA_FILES]
    distributions = set(catalog.objects(release_iri, DCAT.distribution))
    assert len(distributions) == len(dumps)
    by_url = {str(catalog.value(d, DCAT.downloadURL)): d for d in distributions}
    for f in dumps:
        dist = by_url[f"{config.public_url}dumps/{release.version}/{f['name']}"]
        assert catalog.value(dist, DCAT.byteSize) == Literal(
            f["size"], datatype=XSD.nonNegativeInteger
        )
        checksum = catalog.value(dist, SPDX.checksum)
        assert str(catalog.value(checksum, SPDX.checksumValue)) == f["sha256"]
        assert catalog.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        media = str(catalog.value(dist, DCAT.mediaType))
        assert media.startswith("http://www.iana.org/assignments/media-types/")
        fmt = str(catalog.value(dist, DCTERMS["format"]))
        assert fmt.startswith("http://publications.europa.eu/resource/authority/file-type/")
        compressed = catalog.value(dist, DCAT.compressFormat)
        if f["name"].endswith(".gz"):
            assert str(compressed).endswith("/application/gzip")
            assert not media.endswith("gzip"), "the media type is the content's, not gzip's"
        else:
            assert compressed is None
        assert catalog.value(dist, DCTERMS.license) is not None


def test_the_sparql_endpoint_is_a_data_service_serving_the_dataset(catalog, config):
    services = set(catalog.subjects(RDF.type, DCAT.DataService))
    assert len(services) == 1
    service = services.pop()
    assert str(catalog.value(service, DCAT.endpointURL)) == f"{config.public_url}sparql"
    assert catalog.value(service, DCAT.servesDataset) == URIRef(
        f"{config.base_iri}id/dataset/kommunen-innovativ"
    )


def test_publisher_contact_and_licence_come_from_the_configuration(catalog, config):
    dataset = URIRef(f"{config.base_iri}id/dataset/kommunen-innovativ")
    publisher = catalog.value(dataset, DCTERMS.publisher)
    assert str(catalog.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name"))) == (
        config.publisher.name
    )
    contact = catalog.value(dataset, DCAT.contactPoint)
    vcard = Namespace("http://www.w3.org/2006/vcard/ns#")
    assert str(catalog.value(contact, vcard.fn)) == config.contact.name
    assert str(catalog.value(dataset, DCTERMS.license)) == config.dataset.license
    assert (dataset, DCATDE.contributorID, None) not in catalog, "not configured, not stated"


EU = "http://publications.europa.eu/resource/authority/"


@pytest.fixture(params=["dataset", "version"])
def described(request, release, config) -> URIRef:
    """The abstract dataset and the release's version: each says what a harvester needs."""
    dataset = f"{config.base_iri}id/dataset/kommunen-innovativ"
    return URIRef(dataset if request.param == "dataset" else f"{dataset}-{release.version}")


def test_the_dataset_has_keywords_in_german_and_english(catalog, described):
    keywords = set(catalog.objects(described, DCAT.keyword))
    assert Literal("Daseinsvorsorge", lang="de") in keywords
    assert Literal("demografischer Wandel", lang="de") in keywords
    assert Literal("public services", lang="en") in keywords
    assert Literal("demographic change", lang="en") in keywords
    by_language = Counter(k.language for k in keywords)
    assert by_language["de"] == by_language["en"] >= 4
    assert None not in by_language


def test_the_temporal_coverage_runs_from_the_kick_off_to_the_end_of_the_series(catalog, described):
    # Kick-off 10-11 Nov 2016; the autumn conference's last event 8 Dec 2020 (facts.md).
    periods = list(catalog.objects(described, DCTERMS.temporal))
    assert len(periods) == 1
    period = periods[0]
    assert (period, RDF.type, DCTERMS.PeriodOfTime) in catalog
    assert catalog.value(period, DCAT.startDate) == Literal("2016-11-10", datatype=XSD.date)
    assert catalog.value(period, DCAT.endDate) == Literal("2020-12-08", datatype=XSD.date)


def test_the_area_is_germany_at_the_federal_level(catalog, described):
    assert set(catalog.objects(described, DCTERMS.spatial)) == {URIRef(EU + "country/DEU")}
    assert set(catalog.objects(described, DCATDE.politicalGeocodingLevelURI)) == {
        URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/federal")
    }
    # deprecated in DCAT-AP.de 3.0 in favour of dcterms:spatial
    assert (described, DCATDE.politicalGeocodingURI, None) not in catalog


def test_the_dataset_was_issued_and_modified_by_the_build(catalog, described, release):
    issued = catalog.value(described, DCTERMS.issued)
    modified = catalog.value(described, DCTERMS.modified)
    assert issued.datatype == modified.datatype == XSD.dateTime
    built = datetime.fromisoformat(release.created.replace("Z", "+00:00"))
    assert modified.toPython() == built
    assert issued.toPython() <= modified.toPython()


def test_the_catalog_was_issued_and_modified_on_days(catalog, release, config):
    catalog_iri = URIRef(f"{config.base_iri}id/catalog")
    issued = catalog.value(catalog_iri, DCTERMS.issued)
    modified = catalog.value(catalog_iri, DCTERMS.modified)
    assert issued.datatype == modified.datatype == XSD.date
    assert str(modified) == release.created[:10]
    assert issued.toPython() <= modified.toPython()


def test_the_data_is_in_german_and_english(catalog, described, config):
    languages = {URIRef(EU + "language/DEU"), URIRef(EU + "language/ENG")}
    assert set(catalog.objects(described, DCTERMS.language)) == languages
    catalog_iri = URIRef(f"{config.base_iri}id/catalog")
    assert set(catalog.objects(catalog_iri, DCTERMS.language)) == languages


def test_versions_are_linked_both_ways(catalog, release, config):
    dataset = URIRef(f"{config.base_iri}id/dataset/kommunen-innovativ")
    version = URIRef(f"{dataset}-{release.version}")
    assert (dataset, DCAT.hasVersion, version) in catalog
    assert (dataset, DCAT.hasCurrentVersion, version) in catalog
    assert (version, DCTERMS.isVersionOf, dataset) in catalog
    assert (version, RDF.type, DCAT.Dataset) in catalog


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"), ("text/turtle", "turtle")],
)
def test_catalog_is_the_same_graph_in_every_syntax(live_server, catalog, accept, fmt):
    assert isomorphic(fetch_catalog(live_server, accept, fmt), catalog)


def test_catalog_states_the_contributor_id_only_when_configured(
    config, tmp_path_factory: pytest.TempPathFactory
):
    from dataclasses import replace

    from kommunen_kg.build.pipeline import build
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_release

    contributor = "http://dcat-ap.de/def/contributors/testContributor"
    configured = replace(config, dataset=replace(config.dataset, contributor_id=contributor))
    configured = configured.with_graphs_dir(tmp_path_factory.mktemp("contributor"))
    release = build(configured).release
    with server_in_thread(create_app(open_release(configured, release))) as url:
        graph = fetch_catalog(url)
    dataset = URIRef(f"{config.base_iri}id/dataset/kommunen-innovativ")
    assert (dataset, DCATDE.contributorID, URIRef(contributor)) in graph
    counts, text = validate(with_stand_ins(graph), _shapes(DE_PROFILE))
    assert counts["Violation"] == 0, text


def test_the_catalog_iri_answers_303_to_the_catalog(live_server):
    response = requests.get(live_server + "id/catalog", allow_redirects=False, timeout=5)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/catalog")


def test_catalog_answers_406_with_the_choices_for_an_unknown_media_type(live_server):
    response = requests.get(live_server + "catalog", headers={"Accept": "image/png"}, timeout=5)
    assert response.status_code == 406
    assert "text/turtle" in response.text and "application/rdf+xml" in response.text


def test_browsers_get_a_readable_catalog_page(live_server, release):
    response = requests.get(
        live_server + "catalog", headers={"Accept": "text/html", "Accept-Language": "en"}, timeout=5
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in response.text
    for f in release.files:
        if f["name"] not in METADATA_FILES:
            assert f["sha256"] in response.text


def test_dataset_iri_root_and_example_resources_come_from_the_configuration(
    config, tmp_path_factory: pytest.TempPathFactory
):
    """Deployment facts live in kommunen-kg.toml ([dataset]), nowhere in the code."""
    from dataclasses import replace

    from kommunen_kg.build.pipeline import build
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_release

    dataset_config = replace(
        config.dataset,
        dataset_slug="kommunen-innovativ-test",
        root_resource="event/herbst-konferenz-2020-daseinsvorsorge-sichern",
        example_resources=("project/dewak",),
    )
    configured = replace(config, dataset=dataset_config)
    configured = configured.with_graphs_dir(tmp_path_factory.mktemp("dataset-iris"))
    release = build(configured).release
    with server_in_thread(create_app(open_release(configured, release))) as url:
        graph = fetch_catalog(url)
        void = Graph().parse(
            data=requests.get(
                url + ".well-known/void", headers={"Accept": "text/turtle"}, timeout=5
            ).text,
            format="turtle",
        )
    base = config.base_iri
    dataset = URIRef(f"{base}id/dataset/kommunen-innovativ-test")
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    assert (None, None, URIRef(f"{base}id/dataset/kommunen-innovativ")) not in graph
    assert (URIRef(f"{base}id/distribution/kommunen-innovativ-test-sparql"), None, None) in graph
    VOID = Namespace("http://rdfs.org/ns/void#")
    root = URIRef(f"{base}id/event/herbst-konferenz-2020-daseinsvorsorge-sichern")
    assert set(void.objects(dataset, VOID.rootResource)) == {root}
    assert set(void.objects(dataset, VOID.exampleResource)) == {URIRef(f"{base}id/project/dewak")}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("dataset_slug", "two words"),
        ("dataset_slug", "a/b"),
        ("root_resource", "no-kind"),
        ("example_resources", ["event/ok", "event/"]),
    ],
)
def test_a_dataset_iri_setting_that_mints_broken_iris_is_refused_naming_the_key(
    tmp_path, key, value
):
    from kommunen_kg.config import ConfigError, load_config

    toml = tmp_path / "kommunen-kg.toml"
    rendered = (
        "[" + ", ".join(f'"{v}"' for v in value) + "]" if isinstance(value, list) else f'"{value}"'
    )
    toml.write_text(f"[dataset]\n{key} = {rendered}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_config(toml)
