"""Namespaces and the IRIs this project mints, in one place.

The vocabulary's own namespace depends on the configured base IRI, so it is built by
:func:`project_iris`; the well-known namespaces are constants. Prefixes are shared by the
dumps, the query editor and the pages, so that every place abbreviates IRIs the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kommunen_kg.config import Config

SCHEMA = "http://schema.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCATDE = "http://dcat-ap.de/def/dcatde/"
SPDX = "http://spdx.org/rdf/terms#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
ADMS = "http://www.w3.org/ns/adms#"
SD = "http://www.w3.org/ns/sparql-service-description#"
VANN = "http://purl.org/vocab/vann/"

RDF_TYPE = RDF + "type"
RDFS_SUBCLASSOF = RDFS + "subClassOf"
RDFS_SUBPROPERTYOF = RDFS + "subPropertyOf"
OWL_INVERSEOF = OWL + "inverseOf"

WELL_KNOWN_PREFIXES: dict[str, str] = {
    "schema": SCHEMA,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "org": ORG,
    "prov": PROV,
    "owl": OWL,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "sh": SH,
    "void": VOID,
    "dcat": DCAT,
    "dcatde": DCATDE,
    "spdx": SPDX,
    "vcard": VCARD,
    "sd": SD,
}

# The kinds of things that get an IRI {base}id/{kind}/{slug}; the order is the order of the
# browse pages.
KINDS: tuple[str, ...] = (
    "event",
    "talk",
    "session",
    "panel",
    "person",
    "organisation",
    "project",
    "funding",
    "theme",
    "publication",
    "scheme",
    "agent",
    "dataset",
)


@dataclass(frozen=True)
class ProjectIRIs:
    """Every IRI this project mints, under one base IRI: ``{base}id/{kind}/{slug}`` for things
    (one path segment per slug, so that each dereferences like the graph's own resources;
    parts of one resource are hash IRIs of it), ``{base}def#Term``, ``{base}graph/{name}``.

    Where a configuration is at hand, make it with :meth:`from_config`, so that the dataset's
    IRIs follow ``[dataset] dataset_slug``.
    """

    base: str
    dataset_slug: str = "kommunen-innovativ"

    @classmethod
    def from_config(cls, config: Config) -> ProjectIRIs:
        return cls(config.base_iri, config.dataset.dataset_slug)

    @property
    def vocab(self) -> str:
        """Namespace of our vocabulary terms: ``{base}def#``."""
        return self.base + "def#"

    @property
    def vocabulary_document(self) -> str:
        return self.base + "def"

    @property
    def shapes_namespace(self) -> str:
        return self.base + "shapes#"

    @property
    def shapes_document(self) -> str:
        return self.base + "shapes"

    @property
    def theme_scheme(self) -> str:
        return self.base + "id/scheme/themes"

    @property
    def dataset(self) -> str:
        """The abstract dataset: always "the current knowledge graph"."""
        return f"{self.base}id/dataset/{self.dataset_slug}"

    def release(self, version: str) -> str:
        """One release of the dataset."""
        return f"{self.dataset}-{version}"

    def distribution(self, version: str, file_name: str) -> str:
        return f"{self.base}id/distribution/{version}-{file_name.replace('.', '-')}"

    @property
    def sparql_distribution(self) -> str:
        return f"{self.base}id/distribution/{self.dataset_slug}-sparql"

    @property
    def sparql_service(self) -> str:
        """The SPARQL endpoint as a DCAT data service (the Service Description's node too)."""
        return f"{self.base}id/service/sparql"

    @property
    def publisher(self) -> str:
        return f"{self.base}id/agent/publisher"

    @property
    def contact_point(self) -> str:
        return f"{self.base}id/agent/contact-point"

    def link_target(self, slug: str) -> str:
        """Another dataset we link to (a void:Linkset's target)."""
        return f"{self.base}id/dataset/{slug}"

    def resource(self, kind_and_slug: str) -> str:
        """A thing named as ``kind/slug`` (the configuration names resources so)."""
        return f"{self.base}id/{kind_and_slug}"

    @property
    def catalog(self) -> str:
        return self.base + "id/catalog"

    @property
    def project_agent(self) -> str:
        """This software, as the agent that builds and publishes the dataset."""
        return self.base + "id/agent/kommunen-kg"

    @property
    def software(self) -> str:
        return self.project_agent

    def graph(self, name: str) -> str:
        """The named graph of one part of a release: vocabulary, themes, shapes, data, metadata."""
        return f"{self.base}graph/{name}"

    def thing(self, kind: str, slug: str) -> str:
        return f"{self.base}id/{kind}/{slug}"

    def prefixes(self) -> dict[str, str]:
        """Prefixes for serialising: the well-known ones plus our own under this base."""
        return {
            "ki": self.vocab,
            "kis": self.shapes_namespace,
            **{kind: f"{self.base}id/{kind}/" for kind in KINDS},
            **WELL_KNOWN_PREFIXES,
        }


GRAPH_NAMES: tuple[str, ...] = ("vocabulary", "themes", "shapes", "data", "metadata")


# The EU vocabularies and authority tables that DCAT-AP metadata names.
DCATAP = "http://data.europa.eu/r5r/"
EU_AUTHORITY = "http://publications.europa.eu/resource/authority/"
EU_FILE_TYPE = EU_AUTHORITY + "file-type/"
EU_LANGUAGE = EU_AUTHORITY + "language/"
EU_DATA_THEME = EU_AUTHORITY + "data-theme/"
EU_FREQUENCY = EU_AUTHORITY + "frequency/"
EU_ACCESS_RIGHT = EU_AUTHORITY + "access-right/"
EU_AVAILABILITY = EU_AUTHORITY + "planned-availability/"
EU_COUNTRY = EU_AUTHORITY + "country/"
# http, as IANA's registry and data.europa.eu's quality checker write it (DCAT-AP.de accepts both)
IANA_MEDIA = "http://www.iana.org/assignments/media-types/"
DCATAP_DE_POLITICAL_GEOCODING_LEVEL = "http://dcat-ap.de/def/politicalGeocoding/Level/"
