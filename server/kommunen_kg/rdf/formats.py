"""Every syntax the site reads or writes, in one table: RDF syntaxes and SPARQL result formats.

Each :class:`Syntax` names what any part needs: the short name the engine and ``?format=`` use,
the media type and the other media types clients send for it, the file extension of a
``/data/...`` document, its label for people, the pyoxigraph format, the EU file-type code the
catalog states. The SPARQL endpoint, the linked-data documents, the catalog, the dumps and the
engine all take their formats from here (``web/http/negotiation.py`` chooses among them).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Syntax:
    """One syntax: ``name`` is its key (``turtle``, ``json``, ...), ``aliases`` other media
    types clients ask for it by, ``names`` its short names for ``?format=``."""

    name: str
    media_type: str
    label: str
    extension: str
    aliases: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    rdf_format: ox.RdfFormat | None = None
    results_format: ox.QueryResultsFormat | None = None
    eu_file_type: str = ""  # http://publications.europa.eu/resource/authority/file-type/...
    quads: bool = False

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    @property
    def content_type(self) -> str:
        """The Content-Type header value: every syntax served here is UTF-8 text."""
        return f"{self.media_type}; charset=utf-8"


# RDF syntaxes.
TURTLE = Syntax(
    "turtle",
    "text/turtle",
    "Turtle",
    "ttl",
    ("application/x-turtle", "text/n3"),
    ("turtle", "ttl", "n3"),
    ox.RdfFormat.TURTLE,
    eu_file_type="RDF_TURTLE",
)
NTRIPLES = Syntax(
    "ntriples",
    "application/n-triples",
    "N-Triples",
    "nt",
    ("text/plain",),  # what N-Triples was served as before it had a media type of its own
    ("ntriples", "n-triples", "nt"),
    ox.RdfFormat.N_TRIPLES,
    eu_file_type="RDF_N_TRIPLES",
)
NQUADS = Syntax(
    "nquads",
    "application/n-quads",
    "N-Quads",
    "nq",
    (),
    ("nquads", "n-quads", "nq"),
    ox.RdfFormat.N_QUADS,
    eu_file_type="RDF_N_QUADS",
    quads=True,
)
TRIG = Syntax(
    "trig",
    "application/trig",
    "TriG",
    "trig",
    (),
    ("trig",),
    ox.RdfFormat.TRIG,
    eu_file_type="RDF_TRIG",
    quads=True,
)
JSONLD = Syntax(
    "jsonld",
    "application/ld+json",
    "JSON-LD",
    "jsonld",
    ("application/json",),
    ("jsonld", "json-ld", "json"),
    ox.RdfFormat.JSON_LD,
    eu_file_type="JSON_LD",
)
RDFXML = Syntax(
    "rdfxml",
    "application/rdf+xml",
    "RDF/XML",
    "rdf",
    ("application/xml", "text/xml"),
    ("rdfxml", "rdf+xml", "rdf", "xml", "owl"),
    ox.RdfFormat.RDF_XML,
    eu_file_type="RDF_XML",
)

# SPARQL result formats.
RESULTS_JSON = Syntax(
    "json",
    "application/sparql-results+json",
    "SPARQL JSON",
    "srj",
    ("application/json",),
    ("json", "srj"),
    results_format=ox.QueryResultsFormat.JSON,
)
RESULTS_XML = Syntax(
    "xml",
    "application/sparql-results+xml",
    "SPARQL XML",
    "srx",
    ("application/xml", "text/xml"),
    ("xml", "srx"),
    results_format=ox.QueryResultsFormat.XML,
)
RESULTS_CSV = Syntax(
    "csv", "text/csv", "CSV", "csv", (), ("csv",), results_format=ox.QueryResultsFormat.CSV
)
RESULTS_TSV = Syntax(
    "tsv",
    "text/tab-separated-values",
    "TSV",
    "tsv",
    (),
    ("tsv",),
    results_format=ox.QueryResultsFormat.TSV,
)

RDF_SYNTAXES: tuple[Syntax, ...] = (TURTLE, NTRIPLES, NQUADS, TRIG, JSONLD, RDFXML)
RESULT_SYNTAXES: tuple[Syntax, ...] = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV)
