"""The metadata graph of a release: VoID, DCAT-AP.de and PROV about the dataset.

Harvesters (GovData, data.europa.eu, CKAN with ckanext-dcat) read DCAT; Linked Data tools read
VoID; people who want to know where a release came from read PROV. All three describe the
same release, so they are made together, from the statistics of the content graphs and the
list of dump files. This is the only graph with time stamps in it, which keeps every other
file of a release reproducible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from .config import Config
from .dumps import DumpFormat
from .namespaces import (
    ADMS,
    DCAT,
    DCATDE,
    DCTERMS,
    FOAF,
    OWL,
    PROV,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    SD,
    SKOS,
    SPDX,
    VCARD,
    VOID,
    XSD,
    ProjectIRIs,
)

EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
EU_DATA_THEME = "http://publications.europa.eu/resource/authority/data-theme/"
EU_FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
IANA_MEDIA = "https://www.iana.org/assignments/media-types/"
DCATAP_DE_POLITICAL_GEOCODING_LEVEL = "http://dcat-ap.de/def/politicalGeocoding/Level/"

# Datasets we link to, for void:Linkset: (slug, namespace of its IRIs, title, homepage)
LINK_TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("ror", "https://ror.org/", "Research Organization Registry (ROR)", "https://ror.org/"),
    (
        "crossref-funder-registry",
        "https://doi.org/10.13039/",
        "Crossref Funder Registry",
        "https://www.crossref.org/services/funder-registry/",
    ),
)


@dataclass(frozen=True)
class DumpFile:
    """A file of the release as the metadata describes it."""

    name: str
    fmt: DumpFormat
    size: int
    sha256: str
    triples: int


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value: str, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(value, language=lang)
    if datatype:
        return ox.Literal(value, datatype=_n(datatype))
    return ox.Literal(value)


class _Writer:
    """Collects triples with a little less ceremony."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: str, p: str, o: ox.NamedNode | ox.Literal | str) -> None:
        obj = _n(o) if isinstance(o, str) else o
        self.triples.append(ox.Triple(_n(s), _n(p), obj))

    def typed(self, s: str, *types: str) -> None:
        for t in types:
            self.add(s, RDF_TYPE, t)


@dataclass(frozen=True)
class Statistics:
    """VoID statistics of the knowledge graph."""

    triples: int
    entities: int
    distinct_subjects: int
    distinct_objects: int
    classes: Counter
    properties: Counter
    links: Counter  # target slug -> number of owl:sameAs links into it


def statistics(triples: Sequence[ox.Triple], base_iri: str) -> Statistics:
    classes: Counter = Counter()
    properties: Counter = Counter()
    links: Counter = Counter()
    subjects: set = set()
    objects: set = set()
    entities: set = set()
    for t in triples:
        subjects.add(t.subject)
        objects.add(t.object)
        properties[t.predicate.value] += 1
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(base_iri + "id/"):
            entities.add(t.subject.value)
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            classes[t.object.value] += 1
        if t.predicate.value == OWL + "sameAs" and isinstance(t.object, ox.NamedNode):
            for slug, namespace, _title, _home in LINK_TARGETS:
                if t.object.value.startswith(namespace):
                    links[slug] += 1
    return Statistics(
        triples=len(triples),
        entities=len(entities),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        classes=classes,
        properties=properties,
        links=links,
    )


def release_urls(config: Config, version: str) -> dict[str, str]:
    """Where a release's things live on the public server."""
    public = config.public_url
    return {
        "dumps": f"{public}dumps/{version}/",
        "sparql": f"{public}sparql",
        "catalog": f"{public}catalog",
        "void": f"{public}.well-known/void",
    }


def metadata_triples(
    config: Config,
    version: str,
    built_at: str,
    source_version: str,
    stats: Statistics,
    files: Iterable[DumpFile],
    vocabularies: Iterable[str],
    example_resources: Iterable[str],
) -> list[ox.Triple]:
    """The metadata graph: catalog, dataset (general and this version), dumps, VoID, PROV."""
    iris = ProjectIRIs(config.base_iri)
    urls = release_urls(config, version)
    w = _Writer()
    dataset = iris.dataset
    release = f"{dataset}/{version}"
    catalog = iris.catalog
    publisher = f"{config.base_iri}id/agent/publisher"
    contact = f"{config.base_iri}id/agent/contact-point"
    service = f"{config.base_iri}id/service/sparql"
    license_iri = config.dataset.license
    date = built_at[:10]
    ds = config.dataset

    # --- the catalog ------------------------------------------------------------------------
    w.typed(catalog, DCAT + "Catalog")
    w.add(catalog, DCTERMS + "title", _lit("Katalog von kommunen-kg", "de"))
    w.add(catalog, DCTERMS + "title", _lit("kommunen-kg catalogue", "en"))
    w.add(
        catalog,
        DCTERMS + "description",
        _lit(
            "Datensätze und Dienste, die kommunen-kg über „Kommunen innovativ“ veröffentlicht.",
            "de",
        ),
    )
    w.add(
        catalog,
        DCTERMS + "description",
        _lit("Datasets and services that kommunen-kg publishes about “Kommunen innovativ”.", "en"),
    )
    w.add(catalog, DCTERMS + "publisher", publisher)
    w.add(catalog, FOAF + "homepage", config.public_url)
    w.add(catalog, DCTERMS + "language", EU_LANGUAGE + "DEU")
    w.add(catalog, DCTERMS + "language", EU_LANGUAGE + "ENG")
    w.add(catalog, DCTERMS + "license", license_iri)
    w.add(catalog, DCTERMS + "modified", _lit(date, datatype=XSD + "date"))
    w.add(catalog, DCAT + "dataset", dataset)
    w.add(catalog, DCAT + "service", service)

    # --- publisher and contact point, from the configuration -----------------------------------
    w.typed(publisher, FOAF + "Agent")
    w.add(publisher, FOAF + "name", _lit(config.publisher.name))
    if config.publisher.url:
        w.add(publisher, FOAF + "homepage", config.publisher.url)
    w.typed(contact, VCARD + "Kind", VCARD + "Organization")
    w.add(contact, VCARD + "fn", _lit(config.contact.name))
    if config.contact.email:
        w.add(contact, VCARD + "hasEmail", f"mailto:{config.contact.email}")
    if config.contact.url:
        w.add(contact, VCARD + "hasURL", config.contact.url)

    # --- the dataset, across versions --------------------------------------------------------
    w.typed(dataset, DCAT + "Dataset", VOID + "Dataset")
    w.add(dataset, DCTERMS + "title", _lit(ds.title_de, "de"))
    w.add(dataset, DCTERMS + "title", _lit(ds.title_en, "en"))
    w.add(
        dataset,
        DCTERMS + "description",
        _lit(
            "Die Dokumentation der BMBF-Fördermaßnahme „Kommunen innovativ“ als Wissensgraph: die "
            "Herbst-Konferenz 2020 mit ihren Veranstaltungen, Vorträgen und Vortragenden, die "
            "vorgestellten Verbundvorhaben mit ihren Partnern und die Themen, jeweils mit Quelle.",
            "de",
        ),
    )
    w.add(
        dataset,
        DCTERMS + "description",
        _lit(
            "The documentation of the BMBF funding measure “Kommunen innovativ” as a knowledge "
            "graph: the autumn conference 2020 with its events, talks and speakers, the joint "
            "projects presented with their partners, and the themes, each with its source.",
            "en",
        ),
    )
    w.add(dataset, DCTERMS + "publisher", publisher)
    w.add(dataset, DCAT + "contactPoint", contact)
    w.add(dataset, DCTERMS + "license", license_iri)
    w.add(dataset, DCTERMS + "language", EU_LANGUAGE + "DEU")
    w.add(dataset, DCTERMS + "language", EU_LANGUAGE + "ENG")
    w.add(dataset, DCAT + "theme", EU_DATA_THEME + "EDUC")
    w.add(dataset, DCAT + "theme", EU_DATA_THEME + "GOVE")
    w.add(dataset, DCAT + "theme", EU_DATA_THEME + "SOCI")
    for keyword, lang in (
        ("Daseinsvorsorge", "de"),
        ("Kommunen", "de"),
        ("demografischer Wandel", "de"),
        ("Forschungsförderung", "de"),
        ("public services", "en"),
        ("municipalities", "en"),
        ("demographic change", "en"),
        ("research funding", "en"),
        ("Linked Open Data", "en"),
    ):
        w.add(dataset, DCAT + "keyword", _lit(keyword, lang))
    temporal = f"{dataset}#temporal"
    w.add(dataset, DCTERMS + "temporal", temporal)
    w.typed(temporal, DCTERMS + "PeriodOfTime")
    w.add(temporal, DCAT + "startDate", _lit("2016-11-10", datatype=XSD + "date"))
    w.add(temporal, DCAT + "endDate", _lit("2020-12-08", datatype=XSD + "date"))
    w.add(
        dataset, DCTERMS + "spatial", "http://publications.europa.eu/resource/authority/country/DEU"
    )
    w.add(
        dataset,
        DCATDE + "politicalGeocodingLevelURI",
        DCATAP_DE_POLITICAL_GEOCODING_LEVEL + "federal",
    )
    w.add(dataset, DCTERMS + "accrualPeriodicity", EU_FREQUENCY + "IRREG")
    w.add(dataset, DCTERMS + "modified", _lit(built_at, datatype=XSD + "dateTime"))
    w.add(dataset, DCAT + "landingPage", config.public_url)
    w.add(dataset, DCTERMS + "conformsTo", iris.vocabulary_document)
    w.add(dataset, DCTERMS + "hasVersion", release)
    w.add(dataset, DCAT + "hasCurrentVersion", release)
    w.add(dataset, OWL + "versionInfo", _lit(version))
    w.add(dataset, DCAT + "version", _lit(version))

    # VoID, on the dataset (it always describes the current release)
    w.add(dataset, VOID + "uriSpace", _lit(config.base_iri))
    w.add(dataset, VOID + "sparqlEndpoint", urls["sparql"])
    w.add(dataset, VOID + "triples", _lit(str(stats.triples), datatype=XSD + "integer"))
    w.add(dataset, VOID + "entities", _lit(str(stats.entities), datatype=XSD + "integer"))
    w.add(
        dataset,
        VOID + "distinctSubjects",
        _lit(str(stats.distinct_subjects), datatype=XSD + "integer"),
    )
    w.add(
        dataset,
        VOID + "distinctObjects",
        _lit(str(stats.distinct_objects), datatype=XSD + "integer"),
    )
    w.add(dataset, VOID + "classes", _lit(str(len(stats.classes)), datatype=XSD + "integer"))
    w.add(dataset, VOID + "properties", _lit(str(len(stats.properties)), datatype=XSD + "integer"))
    w.add(dataset, VOID + "rootResource", iris.thing("event", "herbst-konferenz-2020"))
    for example in example_resources:
        w.add(dataset, VOID + "exampleResource", example)
    for vocabulary in sorted(set(vocabularies)):
        w.add(dataset, VOID + "vocabulary", vocabulary)
    w.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/Turtle")
    w.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/N-Triples")
    w.add(dataset, VOID + "feature", "http://www.w3.org/ns/formats/JSON-LD")
    for i, (cls, count) in enumerate(sorted(stats.classes.items())):
        part = f"{dataset}#class-{i + 1}"
        w.add(dataset, VOID + "classPartition", part)
        w.add(part, VOID + "class", cls)
        w.add(part, VOID + "entities", _lit(str(count), datatype=XSD + "integer"))
    for i, (prop, count) in enumerate(sorted(stats.properties.items())):
        part = f"{dataset}#property-{i + 1}"
        w.add(dataset, VOID + "propertyPartition", part)
        w.add(part, VOID + "property", prop)
        w.add(part, VOID + "triples", _lit(str(count), datatype=XSD + "integer"))
    for slug, namespace, title, homepage in LINK_TARGETS:
        if not stats.links.get(slug):
            continue
        target = f"{config.base_iri}id/dataset/{slug}"
        linkset = f"{dataset}#linkset-{slug}"
        w.typed(target, VOID + "Dataset")
        w.add(target, DCTERMS + "title", _lit(title))
        w.add(target, FOAF + "homepage", homepage)
        w.add(target, VOID + "uriSpace", _lit(namespace))
        w.typed(linkset, VOID + "Linkset")
        w.add(dataset, VOID + "subset", linkset)
        w.add(linkset, VOID + "subjectsTarget", dataset)
        w.add(linkset, VOID + "objectsTarget", target)
        w.add(linkset, VOID + "linkPredicate", OWL + "sameAs")
        w.add(linkset, VOID + "triples", _lit(str(stats.links[slug]), datatype=XSD + "integer"))

    # --- this version and its distributions ----------------------------------------------------
    w.typed(release, DCAT + "Dataset", VOID + "Dataset")
    w.add(release, DCTERMS + "isVersionOf", dataset)
    w.add(release, DCTERMS + "title", _lit(f"{ds.title_de} (Version {version})", "de"))
    w.add(release, DCTERMS + "title", _lit(f"{ds.title_en} (version {version})", "en"))
    w.add(
        release,
        DCTERMS + "description",
        _lit(f"Veröffentlichung {version} des Wissensgraphen.", "de"),
    )
    w.add(
        release, DCTERMS + "description", _lit(f"Release {version} of the knowledge graph.", "en")
    )
    w.add(release, DCTERMS + "publisher", publisher)
    w.add(release, DCTERMS + "license", license_iri)
    w.add(release, DCAT + "version", _lit(version))
    w.add(release, OWL + "versionInfo", _lit(version))
    w.add(release, DCTERMS + "issued", _lit(built_at, datatype=XSD + "dateTime"))
    w.add(release, ADMS + "versionNotes", _lit(f"Quellstand: {source_version}", "de"))
    w.add(release, ADMS + "versionNotes", _lit(f"Source version: {source_version}", "en"))
    for f in files:
        dist = f"{release}/distribution/{f.name.replace('.', '-')}"
        url = urls["dumps"] + f.name
        for owner in (dataset, release):
            w.add(owner, DCAT + "distribution", dist)
        w.add(dataset, VOID + "dataDump", url)
        w.typed(dist, DCAT + "Distribution")
        w.add(dist, DCTERMS + "title", _lit(f"{f.fmt.label}: {f.name}", "de"))
        w.add(dist, DCTERMS + "title", _lit(f"{f.fmt.label}: {f.name}", "en"))
        w.add(dist, DCAT + "downloadURL", url)
        w.add(dist, DCAT + "accessURL", url)
        w.add(dist, DCAT + "mediaType", IANA_MEDIA + f.fmt.media_type)
        w.add(dist, DCTERMS + "format", EU_FILE_TYPE + f.fmt.eu_file_type)
        if f.fmt.gzip:
            w.add(dist, DCAT + "compressFormat", IANA_MEDIA + "application/gzip")
        w.add(dist, DCAT + "byteSize", _lit(str(f.size), datatype=XSD + "nonNegativeInteger"))
        w.add(dist, DCTERMS + "license", license_iri)
        w.add(dist, DCTERMS + "issued", _lit(built_at, datatype=XSD + "dateTime"))
        checksum = f"{dist}#sha256"
        w.add(dist, SPDX + "checksum", checksum)
        w.typed(checksum, SPDX + "Checksum")
        w.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        w.add(checksum, SPDX + "checksumValue", _lit(f.sha256, datatype=XSD + "hexBinary"))
        w.add(dist, VOID + "triples", _lit(str(f.triples), datatype=XSD + "integer"))

    # --- the SPARQL endpoint as a data service -------------------------------------------------
    w.typed(service, DCAT + "DataService", SD + "Service")
    w.add(service, DCTERMS + "title", _lit("SPARQL-Endpunkt von kommunen-kg", "de"))
    w.add(service, DCTERMS + "title", _lit("kommunen-kg SPARQL endpoint", "en"))
    w.add(service, DCAT + "endpointURL", urls["sparql"])
    w.add(service, SD + "endpoint", urls["sparql"])
    w.add(service, DCAT + "endpointDescription", urls["sparql"])
    w.add(service, DCTERMS + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
    w.add(service, DCAT + "servesDataset", dataset)
    w.add(service, DCTERMS + "publisher", publisher)
    w.add(service, DCTERMS + "license", license_iri)
    w.add(dataset, DCAT + "distribution", f"{dataset}/distribution/sparql")
    sparql_dist = f"{dataset}/distribution/sparql"
    w.typed(sparql_dist, DCAT + "Distribution")
    w.add(sparql_dist, DCTERMS + "title", _lit("SPARQL-Endpunkt", "de"))
    w.add(sparql_dist, DCTERMS + "title", _lit("SPARQL endpoint", "en"))
    w.add(sparql_dist, DCAT + "accessURL", urls["sparql"])
    w.add(sparql_dist, DCAT + "accessService", service)
    w.add(sparql_dist, DCTERMS + "format", EU_FILE_TYPE + "SPARQLQ")
    w.add(sparql_dist, DCTERMS + "license", license_iri)

    # --- provenance -------------------------------------------------------------------------
    activity = f"{release}#build"
    w.add(release, PROV + "wasGeneratedBy", activity)
    w.typed(activity, PROV + "Activity")
    w.add(activity, RDFS + "label", _lit(f"Build der Version {version}", "de"))
    w.add(activity, RDFS + "label", _lit(f"Build of release {version}", "en"))
    w.add(activity, PROV + "endedAtTime", _lit(built_at, datatype=XSD + "dateTime"))
    w.add(activity, PROV + "wasAssociatedWith", iris.project_agent)
    w.add(activity, RDFS + "comment", _lit(f"Source version: {source_version}", "en"))
    return w.triples


# Namespaces of the vocabularies the knowledge graph uses, for void:vocabulary.
KNOWN_VOCABULARIES = (SCHEMA, SKOS, DCTERMS, FOAF, OWL, RDFS)


def vocabularies_used(stats: Statistics, own_vocab: str) -> list[str]:
    used = set()
    for term in list(stats.properties) + list(stats.classes):
        for namespace in (*KNOWN_VOCABULARIES, own_vocab):
            if term.startswith(namespace):
                used.add(namespace.rstrip("#") if namespace == own_vocab else namespace)
    return sorted(used)
