"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

A GET on ``/sparql`` without a query answers this description, so that a client (or a harvester
following ``void:sparqlEndpoint``) learns what the endpoint speaks before it asks: the language,
the result formats, whether the default graph is the union of the named graphs, the named graphs
of the release, and the limits a query runs under.

The limits have no term in the Service Description vocabulary. They are stated twice: in words
(``rdfs:comment``, German and English) and machine-readably as ``schema:additionalProperty``
entries, each a ``schema:PropertyValue`` with ``schema:propertyID``, ``schema:value`` and
``schema:unitText``. schema.org is understood everywhere, so no term had to be minted.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from kommunen_kg.config import ServerConfig
from kommunen_kg.rdf.namespaces import DCTERMS, RDF_TYPE, RDFS, SCHEMA, SD, VOID, XSD
from kommunen_kg.sparql.engine import GRAPH_FORMATS
from kommunen_kg.sparql.shape import MAX_CHAIN, MAX_NESTING
from kommunen_kg.web.http.layer import MAX_REQUEST_LINE
from kommunen_kg.web.http.negotiation import GRAPH_OFFERS, RESULT_OFFERS, Format

FORMATS_NS = "http://www.w3.org/ns/formats/"
ENTAILMENT_NS = "http://www.w3.org/ns/entailment/"

# W3C's IRIs for the formats (https://www.w3.org/ns/formats/), by our format names.
FORMAT_IRIS: dict[str, str] = {
    "json": FORMATS_NS + "SPARQL_Results_JSON",
    "xml": FORMATS_NS + "SPARQL_Results_XML",
    "csv": FORMATS_NS + "SPARQL_Results_CSV",
    "tsv": FORMATS_NS + "SPARQL_Results_TSV",
    "turtle": FORMATS_NS + "Turtle",
    "ntriples": FORMATS_NS + "N-Triples",
    "nquads": FORMATS_NS + "N-Quads",
    "trig": FORMATS_NS + "TriG",
    "jsonld": FORMATS_NS + "JSON-LD",
    "rdfxml": FORMATS_NS + "RDF_XML",
}

PREFIXES = {
    "sd": SD,
    "formats": FORMATS_NS,
    "ent": ENTAILMENT_NS,
    "rdfs": RDFS,
    "schema": SCHEMA,
    "void": VOID,
    "dcterms": DCTERMS,
    "xsd": XSD,
}


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _lit(value: object, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    if isinstance(value, bool):
        return ox.Literal(str(value).lower(), datatype=_n(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=_n(XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=_n(XSD + "decimal"))
    return ox.Literal(str(value))


def limits(server: ServerConfig) -> list[tuple[str, float | int, str, str, str]]:
    """(propertyID, value, unit, German name, English name) of every limit a query runs under."""
    return [
        ("queryTimeout", server.query_timeout, "s", "Zeitlimit je Anfrage", "query timeout"),
        (
            "resultLimit",
            server.result_limit,
            "rows or triples",
            "höchstens gelieferte Zeilen oder Tripel",
            "result limit (rows or triples)",
        ),
        (
            "maxQueryLength",
            server.max_query_length,
            "characters",
            "größte Länge einer Anfrage",
            "maximum query length",
        ),
        (
            "maxRequestSize",
            server.max_request_size,
            "bytes",
            "größte Anfrage (HTTP-Body)",
            "maximum request size (HTTP body)",
        ),
        (
            "maxRequestLine",
            MAX_REQUEST_LINE,
            "bytes",
            "längste Anfragezeile (URL einer GET-Anfrage)",
            "longest request line (the URL of a GET request)",
        ),
        (
            "queryMemoryLimit",
            server.query_memory_limit,
            "MB",
            "Arbeitsspeicher je Anfrage",
            "memory per query",
        ),
        (
            "queryQueueTimeout",
            server.query_queue_timeout,
            "s",
            "längste Wartezeit, wenn alle Abfrageprozesse belegt sind",
            "longest wait while every query worker is busy",
        ),
        (
            "maxNestingDepth",
            MAX_NESTING,
            "levels",
            "tiefste Verschachtelung von Klammern ({ }, ( ), [ ])",
            "deepest nesting of brackets ({ }, ( ), [ ])",
        ),
        (
            "maxChainLength",
            MAX_CHAIN,
            "items",
            "längste Kette (Operatoren, Trennzeichen, Gruppen, Terme in Klammern)",
            "longest chain (operators, separators, groups, terms in parentheses)",
        ),
    ]


def limits_text(server: ServerConfig, lang: str) -> str:
    if lang == "de":
        return (
            f"Grenzen: Eine Anfrage läuft höchstens {server.query_timeout:g} s (danach 503) und "
            f"belegt höchstens {server.query_memory_limit} MB Arbeitsspeicher; geliefert werden "
            f"höchstens {server.result_limit} Zeilen oder Tripel (ein gekürztes Ergebnis trägt "
            f"den Header X-Result-Truncated: true); eine Anfrage darf höchstens "
            f"{server.max_query_length} Zeichen lang sein, ein HTTP-Body höchstens "
            f"{server.max_request_size} Bytes groß, die Anfragezeile einer GET-Anfrage höchstens "
            f"{MAX_REQUEST_LINE} Bytes: lange Anfragen bitte per POST senden. Klammern dürfen "
            f"höchstens {MAX_NESTING} Ebenen tief geschachtelt sein, Ketten höchstens "
            f"{MAX_CHAIN} Glieder haben (sonst 400). Sind alle Abfrageprozesse belegt, wartet "
            f"eine Anfrage höchstens {server.query_queue_timeout:g} s (danach 503). Der "
            "Endpunkt ist nur lesbar (kein SPARQL Update); SERVICE ist nur für freigegebene "
            "Endpunkte erlaubt."
        )
    return (
        f"Limits: a query runs for at most {server.query_timeout:g} s (then 503) and may take "
        f"at most {server.query_memory_limit} MB of memory; at most {server.result_limit} rows "
        "or triples are returned (a cut result carries the header X-Result-Truncated: true); a "
        f"query may be at most {server.max_query_length} characters long, a request body at "
        f"most {server.max_request_size} bytes, the request line of a GET at most "
        f"{MAX_REQUEST_LINE} bytes: send long queries by POST. Brackets may nest at most "
        f"{MAX_NESTING} levels deep, chains have at most {MAX_CHAIN} items (else 400). While "
        f"every query worker is busy, a query waits at most {server.query_queue_timeout:g} s "
        "(then 503). The endpoint is read-only (no SPARQL Update); SERVICE is allowed only to "
        "allow-listed endpoints."
    )


def describe(
    endpoint_url: str,
    server: ServerConfig,
    named_graphs: Iterable[tuple[str, int | None]],
    *,
    service_iri: str | None = None,
    title: tuple[str, str] | None = None,
    dataset_iri: str | None = None,
    union_default_graph: bool = True,
) -> list[ox.Triple]:
    """The description as triples; ``named_graphs`` are (graph IRI, triple count or None).

    The service is ``service_iri`` when given (the node the release's DCAT metadata describes),
    else the endpoint URL itself, as many endpoints do.
    """
    service = _n(service_iri or endpoint_url)
    a = _n(RDF_TYPE)
    triples = [
        ox.Triple(service, a, _n(SD + "Service")),
        ox.Triple(service, _n(SD + "endpoint"), _n(endpoint_url)),
        ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
        ox.Triple(service, _n(SD + "defaultEntailmentRegime"), _n(ENTAILMENT_NS + "Simple")),
    ]
    for offer in (*RESULT_OFFERS, *GRAPH_OFFERS):
        triples.append(ox.Triple(service, _n(SD + "resultFormat"), _n(FORMAT_IRIS[offer.name])))
    if union_default_graph:
        triples.append(ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")))
    if server.service_allowlist:
        triples.append(ox.Triple(service, _n(SD + "feature"), _n(SD + "BasicFederatedQuery")))
    if title:
        triples += [
            ox.Triple(service, _n(DCTERMS + "title"), _lit(title[0], "de")),
            ox.Triple(service, _n(DCTERMS + "title"), _lit(title[1], "en")),
        ]
    for lang in ("de", "en"):
        comment = _lit(limits_text(server, lang), lang)
        triples.append(ox.Triple(service, _n(RDFS + "comment"), comment))
    for key, value, unit, name_de, name_en in limits(server):
        node = ox.BlankNode(f"limit-{key}")
        triples += [
            ox.Triple(service, _n(SCHEMA + "additionalProperty"), node),
            ox.Triple(node, a, _n(SCHEMA + "PropertyValue")),
            ox.Triple(node, _n(SCHEMA + "propertyID"), _lit(key)),
            ox.Triple(node, _n(SCHEMA + "name"), _lit(name_de, "de")),
            ox.Triple(node, _n(SCHEMA + "name"), _lit(name_en, "en")),
            ox.Triple(node, _n(SCHEMA + "value"), _lit(value)),
            ox.Triple(node, _n(SCHEMA + "unitText"), _lit(unit)),
        ]

    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("default-graph")
    triples += [
        ox.Triple(service, _n(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, a, _n(SD + "Dataset")),
        ox.Triple(dataset, _n(SD + "defaultGraph"), default_graph),
        ox.Triple(default_graph, a, _n(SD + "Graph")),
    ]
    if dataset_iri:
        triples.append(ox.Triple(dataset, _n(RDFS + "seeAlso"), _n(dataset_iri)))
    if union_default_graph:
        triples += [
            ox.Triple(
                default_graph,
                _n(RDFS + "comment"),
                _lit("Die Vereinigung aller benannten Graphen.", "de"),
            ),
            ox.Triple(
                default_graph, _n(RDFS + "comment"), _lit("The union of all named graphs.", "en")
            ),
        ]
    for index, (graph_iri, count) in enumerate(named_graphs):
        named = ox.BlankNode(f"named-graph-{index}")
        graph = ox.BlankNode(f"graph-{index}")
        triples += [
            ox.Triple(dataset, _n(SD + "namedGraph"), named),
            ox.Triple(named, a, _n(SD + "NamedGraph")),
            ox.Triple(named, _n(SD + "name"), _n(graph_iri)),
            ox.Triple(named, _n(SD + "graph"), graph),
            ox.Triple(graph, a, _n(SD + "Graph")),
        ]
        if count is not None:
            triples.append(ox.Triple(graph, _n(VOID + "triples"), _lit(int(count))))
    return triples


def serialise(triples: list[ox.Triple], fmt: Format) -> bytes:
    """The description in one of :data:`negotiation.DESCRIPTION_OFFERS`."""
    return ox.serialize(triples, format=GRAPH_FORMATS[fmt.name][1], prefixes=PREFIXES)
