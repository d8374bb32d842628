"""The metadata graph of a release: DCAT-AP.de, VoID and PROV about the dataset.

Harvesters (GovData, data.europa.eu, CKAN with ckanext-dcat) read DCAT; Linked Data tools read
VoID; people who want to know where a release came from read PROV. All three describe the
same release, so they are made together, from the statistics of the content graphs and the
list of dump files. This is the only graph with time stamps in it, which keeps every other
file of a release reproducible.

The shape of the DCAT part follows DCAT-AP.de 3.0 (which builds on DCAT-AP 3.0), so that the
served ``/catalog`` validates against both sets of SHACL shapes:

* one abstract dataset ``{base}id/dataset/kommunen-innovativ`` that always means "the
  knowledge graph, newest version", and one ``dcat:Dataset`` per release
  (``...-{version}``), linked by ``dcat:hasVersion`` / ``dcterms:isVersionOf`` (DCAT 3
  versioning) and ``dcat:hasCurrentVersion``. Both carry the release's distributions, so a
  harvester that reads either one finds the downloads.
* controlled vocabularies as DCAT-AP.de prescribes them: EU file types for ``dcterms:format``,
  IANA media type IRIs for ``dcat:mediaType`` and ``dcat:compressFormat``, EU languages,
  data themes, frequencies, access rights and planned availability, the DCAT-AP.de licence
  list, and the DCAT-AP.de political geocoding level. ``dcatde:politicalGeocodingURI`` is
  deprecated in DCAT-AP.de 3.0; the area is ``dcterms:spatial`` instead.
* no blank nodes: every node has an IRI (hash IRIs for the parts of one resource), so that
  the graph is stable across builds and every part can be referred to.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kommunen_kg.config import Config
from kommunen_kg.rdf.dumps import DumpFormat
from kommunen_kg.rdf.namespaces import (
    ADMS,
    DCAT,
    DCATAP,
    DCATAP_DE_POLITICAL_GEOCODING_LEVEL,
    DCATDE,
    DCTERMS,
    EU_ACCESS_RIGHT,
    EU_AUTHORITY,
    EU_AVAILABILITY,
    EU_COUNTRY,
    EU_DATA_THEME,
    EU_FILE_TYPE,
    EU_FREQUENCY,
    EU_LANGUAGE,
    FOAF,
    IANA_MEDIA,
    ORG,
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

SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"

# What the dataset is about, in the EU data-theme list: public services of municipalities
# (GOVE: government and public sector), regions and towns under demographic change (REGI),
# population and society (SOCI).
THEMES = ("GOVE", "REGI", "SOCI")
KEYWORDS: tuple[tuple[str, str], ...] = (
    ("Daseinsvorsorge", "de"),
    ("Kommunen", "de"),
    ("demografischer Wandel", "de"),
    ("Forschungsförderung", "de"),
    ("Linked Open Data", "de"),
    ("public services", "en"),
    ("municipalities", "en"),
    ("demographic change", "en"),
    ("research funding", "en"),
    ("Linked Open Data", "en"),
)
# The funding measure's documented span: from its first projects to the autumn conference.
TEMPORAL_START = "2016-11-10"
TEMPORAL_END = "2020-12-08"

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


def _int(value: int, datatype: str = XSD + "integer") -> ox.Literal:
    return _lit(str(value), datatype=datatype)


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

    def texts(self, s: str, p: str, de: str, en: str) -> None:
        self.add(s, p, _lit(de, "de"))
        self.add(s, p, _lit(en, "en"))


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


# What data/redirects.ttl states about a moved or removed IRI (see describe.status).
RETIRING = (DCTERMS + "isReplacedBy", PROV + "invalidatedAtTime")


def release_urls(config: Config, version: str) -> dict[str, str]:
    """Where a release's things live on the public server."""
    public = config.public_url
    return {
        "home": public,
        "dumps": f"{public}dumps/{version}/",
        "listing": f"{public}dumps/",
        "sparql": f"{public}sparql",
        "catalog": f"{public}catalog",
        "void": f"{public}.well-known/void",
    }


def _partition_key(term: str, prefixes: dict[str, str]) -> str:
    """A readable, stable fragment for a class or property partition: ``schema-Event``.

    Derived from the term itself (not from its position in a sorted list), so that the
    partition of one class keeps its IRI from release to release.
    """
    for prefix, namespace in sorted(prefixes.items(), key=lambda kv: -len(kv[1])):
        if term.startswith(namespace):
            local = term[len(namespace) :]
            if re.fullmatch(r"[A-Za-z0-9_-]+", local):
                return f"{prefix}-{local}"
    return "h-" + hashlib.sha256(term.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class _Context:
    """What every part of the description needs."""

    config: Config
    iris: ProjectIRIs
    version: str
    built_at: str
    first_issued: str
    urls: dict[str, str]

    @property
    def license(self) -> str:
        return self.config.dataset.license

    @property
    def attribution(self) -> str:
        ds = self.config.dataset
        return f"{self.config.publisher.name}: {ds.title_de} ({self.config.public_url})"


def _rights_statement(c: _Context) -> str:
    """The IRI of the rights statement: a part of the catalog's document, which links to it
    (a hash resource is described with the document that links to it)."""
    return f"{c.iris.catalog}#rights"


def _rights(w: _Writer, c: _Context) -> None:
    """What a reuser may do, in words, beside the licence's IRI (``dct:rights``).

    WHY: DCAT-AP names ``dct:rights`` for statements the licence does not make, and
    data.europa.eu's metadata quality assessment counts it (5 points). Here it restates the
    licence and the attribution the licence asks for, so it is true whatever licence is
    configured."""
    rights = _rights_statement(c)
    w.typed(rights, DCTERMS + "RightsStatement")
    w.texts(
        rights,
        RDFS + "label",
        f"Nutzung nach der Lizenz {c.license}; Namensnennung: {c.attribution}",
        f"Use under the licence {c.license}; attribution: {c.attribution}",
    )


def _agents(w: _Writer, c: _Context) -> None:
    """Publisher and contact point come from the configuration; the builder is this software."""
    config, iris = c.config, c.iris
    w.typed(iris.publisher, FOAF + "Agent")
    w.add(iris.publisher, FOAF + "name", _lit(config.publisher.name))
    if config.publisher.url:
        w.add(iris.publisher, FOAF + "homepage", config.publisher.url)
    if config.publisher.email:
        w.add(iris.publisher, FOAF + "mbox", f"mailto:{config.publisher.email}")

    # DCAT-AP.de: a vcard:Kind with one vcard:fn and at least an e-mail, URL or telephone.
    w.typed(iris.contact_point, VCARD + "Kind", VCARD + "Organization")
    w.add(iris.contact_point, VCARD + "fn", _lit(config.contact.name))
    if config.contact.email:
        w.add(iris.contact_point, VCARD + "hasEmail", f"mailto:{config.contact.email}")
    if config.contact.url or not config.contact.email:
        w.add(iris.contact_point, VCARD + "hasURL", config.contact.url or config.public_url)

    w.typed(iris.software, PROV + "SoftwareAgent", FOAF + "Agent")
    w.add(iris.software, FOAF + "name", _lit("kommunen-kg"))


def _catalog(w: _Writer, c: _Context) -> None:
    iris = c.iris
    catalog = iris.catalog
    w.typed(catalog, DCAT + "Catalog")
    w.texts(catalog, DCTERMS + "title", "Katalog von kommunen-kg", "kommunen-kg catalogue")
    w.texts(
        catalog,
        DCTERMS + "description",
        "Datensätze und Dienste, die kommunen-kg über „Kommunen innovativ“ veröffentlicht.",
        "Datasets and services that kommunen-kg publishes about “Kommunen innovativ”.",
    )
    w.add(catalog, DCTERMS + "publisher", iris.publisher)
    w.add(catalog, FOAF + "homepage", c.urls["home"])
    w.add(catalog, DCTERMS + "language", EU_LANGUAGE + "DEU")
    w.add(catalog, DCTERMS + "language", EU_LANGUAGE + "ENG")
    w.add(catalog, DCTERMS + "license", c.license)
    w.add(catalog, DCTERMS + "rights", _rights_statement(c))
    w.add(catalog, DCTERMS + "issued", _lit(c.first_issued[:10], datatype=XSD + "date"))
    w.add(catalog, DCTERMS + "modified", _lit(c.built_at[:10], datatype=XSD + "date"))
    w.add(catalog, DCAT + "themeTaxonomy", EU_AUTHORITY + "data-theme")
    w.add(catalog, DCAT + "dataset", iris.dataset)
    w.add(catalog, DCAT + "service", iris.sparql_service)
    # The home page is a web page (DCAT-AP wants foaf:Document for homepage/landingPage).
    w.typed(c.urls["home"], FOAF + "Document")


def _describe_dataset(w: _Writer, c: _Context, dataset: str) -> None:
    """What the abstract dataset and each of its versions say alike (DCAT-AP.de Dataset)."""
    config, iris = c.config, c.iris
    w.typed(dataset, DCAT + "Dataset", VOID + "Dataset")
    w.add(dataset, DCTERMS + "identifier", _lit(dataset))
    w.add(dataset, DCTERMS + "publisher", iris.publisher)
    w.add(dataset, DCAT + "contactPoint", iris.contact_point)
    w.add(dataset, DCTERMS + "license", c.license)
    w.add(dataset, DCTERMS + "accessRights", EU_ACCESS_RIGHT + "PUBLIC")
    w.add(dataset, DCTERMS + "language", EU_LANGUAGE + "DEU")
    w.add(dataset, DCTERMS + "language", EU_LANGUAGE + "ENG")
    for theme in THEMES:
        w.add(dataset, DCAT + "theme", EU_DATA_THEME + theme)
    for keyword, lang in KEYWORDS:
        w.add(dataset, DCAT + "keyword", _lit(keyword, lang))
    temporal = f"{dataset}#temporal"
    w.add(dataset, DCTERMS + "temporal", temporal)
    w.typed(temporal, DCTERMS + "PeriodOfTime")
    w.add(temporal, DCAT + "startDate", _lit(TEMPORAL_START, datatype=XSD + "date"))
    w.add(temporal, DCAT + "endDate", _lit(TEMPORAL_END, datatype=XSD + "date"))
    # A federal funding measure with projects all over Germany: the area is the country,
    # the political level (DCAT-AP.de) is the federation.
    w.add(dataset, DCTERMS + "spatial", EU_COUNTRY + "DEU")
    w.add(
        dataset,
        DCATDE + "politicalGeocodingLevelURI",
        DCATAP_DE_POLITICAL_GEOCODING_LEVEL + "federal",
    )
    if config.dataset.contributor_id:
        w.add(dataset, DCATDE + "contributorID", config.dataset.contributor_id)
    w.add(dataset, DCAT + "landingPage", c.urls["home"])
    w.add(dataset, DCTERMS + "conformsTo", ProjectIRIs.from_config(config).vocabulary_document)
    w.add(dataset, DCTERMS + "issued", _lit(c.first_issued, datatype=XSD + "dateTime"))
    w.add(dataset, DCTERMS + "modified", _lit(c.built_at, datatype=XSD + "dateTime"))


def _dataset(w: _Writer, c: _Context) -> None:
    config, iris = c.config, c.iris
    ds = config.dataset
    dataset = iris.dataset
    release = iris.release(c.version)
    _describe_dataset(w, c, dataset)
    w.add(dataset, DCTERMS + "title", _lit(ds.title_de, "de"))
    w.add(dataset, DCTERMS + "title", _lit(ds.title_en, "en"))
    w.texts(
        dataset,
        DCTERMS + "description",
        "Die Dokumentation der BMBF-Fördermaßnahme „Kommunen innovativ“ als Wissensgraph: die "
        "Herbst-Konferenz 2020 mit ihren Veranstaltungen, Vorträgen und Vortragenden, die "
        "vorgestellten Verbundvorhaben mit ihren Partnern und die Themen, jeweils mit Quelle.",
        "The documentation of the BMBF funding measure “Kommunen innovativ” as a knowledge "
        "graph: the autumn conference 2020 with its events, talks and speakers, the joint "
        "projects presented with their partners, and the themes, each with its source.",
    )
    w.add(dataset, DCTERMS + "accrualPeriodicity", EU_FREQUENCY + "IRREG")
    w.add(dataset, DCAT + "version", _lit(c.version))
    w.add(dataset, DCAT + "hasVersion", release)
    w.add(dataset, DCAT + "hasCurrentVersion", release)
    vocabulary = ProjectIRIs.from_config(config).vocabulary_document
    w.typed(vocabulary, DCTERMS + "Standard")


def _release(w: _Writer, c: _Context, source_version: str) -> None:
    config, iris = c.config, c.iris
    ds = config.dataset
    release = iris.release(c.version)
    _describe_dataset(w, c, release)
    w.add(release, DCTERMS + "isVersionOf", iris.dataset)
    w.add(release, DCTERMS + "title", _lit(f"{ds.title_de} (Version {c.version})", "de"))
    w.add(release, DCTERMS + "title", _lit(f"{ds.title_en} (version {c.version})", "en"))
    w.texts(
        release,
        DCTERMS + "description",
        f"Veröffentlichung {c.version} des Wissensgraphen; ihre Dateien ändern sich nie.",
        f"Release {c.version} of the knowledge graph; its files never change.",
    )
    w.add(release, DCAT + "version", _lit(c.version))
    w.add(release, ADMS + "versionNotes", _lit(f"Quellstand: {source_version}", "de"))
    w.add(release, ADMS + "versionNotes", _lit(f"Source version: {source_version}", "en"))


def _distributions(w: _Writer, c: _Context, files: Iterable[DumpFile]) -> None:
    iris = c.iris
    release = iris.release(c.version)
    for f in files:
        dist = iris.distribution(c.version, f.name)
        url = c.urls["dumps"] + f.name
        for owner in (iris.dataset, release):
            w.add(owner, DCAT + "distribution", dist)
            w.add(owner, VOID + "dataDump", url)
        w.typed(dist, DCAT + "Distribution")
        w.add(dist, DCTERMS + "title", _lit(f"{f.fmt.label}: {f.name}", "de"))
        w.add(dist, DCTERMS + "title", _lit(f"{f.fmt.label}: {f.name}", "en"))
        what_de, what_en = (
            ("alle Graphen mit Namen, auch die SHACL-Shapes", "every named graph, with the shapes")
            if f.fmt.quads
            else ("der Wissensgraph (Vokabular, Themen, Daten)", "the knowledge graph")
        )
        w.texts(
            dist,
            DCTERMS + "description",
            f"Version {c.version}, {what_de}, {f.triples} Tripel.",
            f"Version {c.version}, {what_en}, {f.triples} triples.",
        )
        w.add(dist, DCAT + "downloadURL", url)
        w.add(dist, DCAT + "accessURL", url)
        # The media type of the data; a gzip file says so with dcat:compressFormat. There is
        # no packaging (one file, no archive), hence no dcat:packageFormat.
        w.add(dist, DCAT + "mediaType", IANA_MEDIA + f.fmt.media_type)
        w.add(dist, DCTERMS + "format", EU_FILE_TYPE + f.fmt.eu_file_type)
        if f.fmt.gzip:
            w.add(dist, DCAT + "compressFormat", IANA_MEDIA + "application/gzip")
        w.add(dist, DCAT + "byteSize", _int(f.size, XSD + "nonNegativeInteger"))
        w.add(dist, DCTERMS + "license", c.license)
        w.add(dist, DCTERMS + "rights", _rights_statement(c))
        w.add(dist, DCATDE + "licenseAttributionByText", _lit(c.attribution, "de"))
        w.add(dist, DCATAP + "availability", EU_AVAILABILITY + "STABLE")
        w.add(dist, DCTERMS + "issued", _lit(c.built_at, datatype=XSD + "dateTime"))
        checksum = f"{dist}#sha256"
        w.add(dist, SPDX + "checksum", checksum)
        w.typed(checksum, SPDX + "Checksum")
        w.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        w.add(checksum, SPDX + "checksumValue", _lit(f.sha256, datatype=XSD + "hexBinary"))
        w.add(dist, VOID + "triples", _int(f.triples))


def _service(w: _Writer, c: _Context) -> None:
    """The SPARQL endpoint: a dcat:DataService, and a distribution that is accessed through it."""
    iris = c.iris
    service = iris.sparql_service
    sparql = c.urls["sparql"]
    w.typed(service, DCAT + "DataService", SD + "Service")
    w.texts(
        service, DCTERMS + "title", "SPARQL-Endpunkt von kommunen-kg", "kommunen-kg SPARQL endpoint"
    )
    w.texts(
        service,
        DCTERMS + "description",
        "SPARQL-1.1-Endpunkt über die aktuelle Version des Wissensgraphen, nur lesend.",
        "Read-only SPARQL 1.1 endpoint over the current release of the knowledge graph.",
    )
    w.add(service, DCAT + "endpointURL", sparql)
    w.add(service, SD + "endpoint", sparql)
    # GET /sparql without a query answers the SPARQL 1.1 Service Description.
    w.add(service, DCAT + "endpointDescription", sparql)
    w.add(service, DCTERMS + "conformsTo", SPARQL_PROTOCOL)
    w.typed(SPARQL_PROTOCOL, DCTERMS + "Standard")
    w.add(SPARQL_PROTOCOL, DCTERMS + "title", _lit("SPARQL 1.1 Protocol", "en"))
    w.add(service, DCAT + "servesDataset", iris.dataset)
    w.add(service, DCTERMS + "publisher", iris.publisher)
    w.add(service, DCAT + "contactPoint", iris.contact_point)
    w.add(service, DCTERMS + "license", c.license)
    w.add(service, DCTERMS + "accessRights", EU_ACCESS_RIGHT + "PUBLIC")
    w.add(service, DCATAP + "availability", EU_AVAILABILITY + "STABLE")

    dist = iris.sparql_distribution
    w.add(iris.dataset, DCAT + "distribution", dist)
    w.typed(dist, DCAT + "Distribution")
    w.texts(dist, DCTERMS + "title", "SPARQL-Endpunkt", "SPARQL endpoint")
    w.texts(
        dist,
        DCTERMS + "description",
        "Abfragen über SPARQL 1.1; Ergebnisse als JSON, XML, CSV, TSV oder RDF.",
        "Queries over SPARQL 1.1; results as JSON, XML, CSV, TSV or RDF.",
    )
    w.add(dist, DCAT + "accessURL", sparql)
    w.add(dist, DCAT + "accessService", service)
    w.add(dist, DCTERMS + "format", EU_FILE_TYPE + "SPARQLQ")
    # What a client gets without asking for a format (the endpoint offers others, see above).
    w.add(dist, DCAT + "mediaType", IANA_MEDIA + "application/sparql-results+json")
    w.add(dist, DCTERMS + "license", c.license)
    w.add(dist, DCTERMS + "rights", _rights_statement(c))
    w.add(dist, DCATDE + "licenseAttributionByText", _lit(c.attribution, "de"))
    w.add(dist, DCATAP + "availability", EU_AVAILABILITY + "STABLE")
    w.add(dist, DCTERMS + "issued", _lit(c.built_at, datatype=XSD + "dateTime"))


def _void(
    w: _Writer,
    c: _Context,
    stats: Statistics,
    vocabularies: Iterable[str],
    example_resources: Iterable[str],
) -> None:
    """VoID on the abstract dataset: it always describes the release being served."""
    config, iris = c.config, c.iris
    dataset = iris.dataset
    prefixes = ProjectIRIs.from_config(config).prefixes()
    w.add(dataset, VOID + "uriSpace", _lit(config.base_iri))
    w.add(dataset, VOID + "sparqlEndpoint", c.urls["sparql"])
    w.add(dataset, VOID + "triples", _int(stats.triples))
    w.add(dataset, VOID + "entities", _int(stats.entities))
    w.add(dataset, VOID + "distinctSubjects", _int(stats.distinct_subjects))
    w.add(dataset, VOID + "distinctObjects", _int(stats.distinct_objects))
    w.add(dataset, VOID + "classes", _int(len(stats.classes)))
    w.add(dataset, VOID + "properties", _int(len(stats.properties)))
    w.add(
        dataset,
        VOID + "rootResource",
        ProjectIRIs.from_config(config).resource(config.dataset.root_resource),
    )
    for example in example_resources:
        w.add(dataset, VOID + "exampleResource", example)
    for vocabulary in sorted(set(vocabularies)):
        w.add(dataset, VOID + "vocabulary", vocabulary)
    for feature in ("Turtle", "N-Triples", "JSON-LD", "TriG", "N-Quads"):
        w.add(dataset, VOID + "feature", f"http://www.w3.org/ns/formats/{feature}")
    for cls, count in sorted(stats.classes.items()):
        part = f"{dataset}#class-{_partition_key(cls, prefixes)}"
        w.add(dataset, VOID + "classPartition", part)
        w.add(part, VOID + "class", cls)
        w.add(part, VOID + "entities", _int(count))
    for prop, count in sorted(stats.properties.items()):
        part = f"{dataset}#property-{_partition_key(prop, prefixes)}"
        w.add(dataset, VOID + "propertyPartition", part)
        w.add(part, VOID + "property", prop)
        w.add(part, VOID + "triples", _int(count))
    # Project websites are foaf:homepage links inside the data, not linksets: a linkset is
    # a set of links into another RDF dataset (here: owl:sameAs into ROR and the Funder
    # Registry, whose IRIs identify the same organisations).
    for slug, namespace, title, homepage in LINK_TARGETS:
        if not stats.links.get(slug):
            continue
        target = iris.link_target(slug)
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
        w.add(linkset, VOID + "triples", _int(stats.links[slug]))


def _provenance(w: _Writer, c: _Context, source_version: str) -> None:
    release = c.iris.release(c.version)
    activity = f"{release}#build"
    w.add(release, PROV + "wasGeneratedBy", activity)
    w.typed(activity, PROV + "Activity")
    w.texts(activity, RDFS + "label", f"Build der Version {c.version}", f"Build of {c.version}")
    w.add(activity, PROV + "endedAtTime", _lit(c.built_at, datatype=XSD + "dateTime"))
    w.add(activity, PROV + "wasAssociatedWith", c.iris.software)
    w.add(activity, RDFS + "comment", _lit(f"Source version: {source_version}", "en"))


def metadata_triples(
    config: Config,
    version: str,
    built_at: str,
    source_version: str,
    stats: Statistics,
    files: Iterable[DumpFile],
    vocabularies: Iterable[str],
    example_resources: Iterable[str],
    first_issued: str | None = None,
) -> list[ox.Triple]:
    """The metadata graph: catalog, dataset (general and this version), dumps, VoID, PROV.

    ``first_issued`` is when the first release of the dataset was built (``dcterms:issued``);
    without it, this release is taken to be the first.
    """
    c = _Context(
        config=config,
        iris=ProjectIRIs.from_config(config),
        version=version,
        built_at=built_at,
        first_issued=first_issued or built_at,
        urls=release_urls(config, version),
    )
    w = _Writer()
    _agents(w, c)
    _rights(w, c)
    _catalog(w, c)
    _dataset(w, c)
    _release(w, c, source_version)
    _distributions(w, c, files)
    _service(w, c)
    _void(w, c, stats, vocabularies, example_resources)
    _provenance(w, c, source_version)
    return w.triples


# Namespaces of the vocabularies the knowledge graph uses, for void:vocabulary.
KNOWN_VOCABULARIES = (SCHEMA, SKOS, DCTERMS, FOAF, ORG, PROV, OWL, RDFS)


def vocabularies_used(stats: Statistics, own_vocab: str) -> list[str]:
    used = set()
    for term in list(stats.properties) + list(stats.classes):
        for namespace in (*KNOWN_VOCABULARIES, own_vocab):
            if term.startswith(namespace):
                used.add(namespace.rstrip("#") if namespace == own_vocab else namespace)
    return sorted(used)
