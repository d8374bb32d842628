"""The queries and requests portals send, parameterised by the generated data.

Each :class:`Item` is one row of the results: a SPARQL query (sent with GET ``?query=``, the
way YASGUI, SPARQLWrapper and portal widgets send it) or a plain HTTP request to the
linked-data routes (``/id/...``, ``/data/...``, ``/page/...``).

Two modes:

- **warm**: the identical request again and again, as portal widgets and crawlers send it;
  a server that caches answers may answer from its cache.
- **cold**: every request is different, so no cache can help. A SPARQL query gets a unique
  comment *and* a unique, never-binding ``LIMIT`` (so a cache keyed by a normalised query
  misses too) wherever that leaves the answer unchanged; the paging query walks through
  pages; linked-data requests cycle through many resources.

The placeholder ``SALT`` in a cold request is replaced by the load generator with a number
unique per request (see :mod:`bench.load`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

SALT = "SALT"
JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
HTML = "text/html"

PREFIXES = """PREFIX ki: <{base}def#>
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@dataclass
class Item:
    """One kind of request: what to send warm, what to send cold, what answer to expect."""

    name: str
    kind: str  # "sparql" or "http"
    title: str
    accept: str
    warm: str  # SPARQL query text, or a path for "http"
    cold: str = ""  # query text with SALT, or "" for http (cold_paths then)
    cold_paths: list[str] = field(default_factory=list)
    expect: tuple[int, ...] = (200,)
    # Linked-data items: which route family (id, data, page) they exercise.
    route: str = ""


def _q(base: str, body: str) -> str:
    return PREFIXES.format(base=base) + body.strip() + "\n"


def sparql_items(base: str, params: dict) -> list[Item]:
    """The SPARQL part of the workload for one generated dataset (``bench-params.json``)."""
    w = params["workload"]
    iri = lambda rel: f"<{base}{rel}>"  # noqa: E731
    talk, event, theme = iri(w["talk"]), iri(w["event"]), iri(w["theme"])
    project, root = iri(w["project"]), iri(w["root_theme"])
    word = w["search_word"]
    # Every cold variant: a unique comment, and where the answer allows it a LIMIT far above
    # the answer's size (the same answer, but a different query even after normalisation).
    big = "LIMIT 1000000SALT"
    items = [
        Item(
            "lookup",
            "sparql",
            "resource lookup: all properties of one talk",
            JSON,
            _q(base, f"SELECT ?p ?o WHERE {{ {talk} ?p ?o }}"),
            _q(base, f"# cold SALT\nSELECT ?p ?o WHERE {{ {talk} ?p ?o }} {big}"),
        ),
        Item(
            "describe_event",
            "sparql",
            "DESCRIBE one event",
            TURTLE,
            _q(base, f"DESCRIBE {event}"),
            _q(base, f"# cold SALT\nDESCRIBE {event}"),
        ),
        Item(
            "construct_event",
            "sparql",
            "CONSTRUCT one event with the names of its talks",
            TURTLE,
            _q(
                base,
                f"""CONSTRUCT {{ {event} ?p ?o . ?talk schema:superEvent {event} ;
                    schema:name ?name }}
WHERE {{ {{ {event} ?p ?o }} UNION {{ ?talk schema:superEvent {event} ; schema:name ?name }} }}""",
            ),
            _q(
                base,
                f"""# cold SALT
CONSTRUCT {{ {event} ?p ?o . ?talk schema:superEvent {event} ; schema:name ?name }}
WHERE {{ {{ {event} ?p ?o }} UNION {{ ?talk schema:superEvent {event} ; schema:name ?name }} }}
{big}""",
            ),
        ),
        Item(
            "talks_by_theme",
            "sparql",
            "join: talks of one theme with their German titles",
            JSON,
            _q(
                base,
                f"""SELECT ?talk ?name WHERE {{
  ?talk a ki:Talk ; ki:theme {theme} ; schema:name ?name .
  FILTER (lang(?name) = "de")
}} ORDER BY ?talk""",
            ),
            _q(
                base,
                f"""# cold SALT
SELECT ?talk ?name WHERE {{
  ?talk a ki:Talk ; ki:theme {theme} ; schema:name ?name .
  FILTER (lang(?name) = "de")
}} ORDER BY ?talk {big}""",
            ),
        ),
        Item(
            "speakers_of_project",
            "sparql",
            "join: speakers of the talks that present one project",
            JSON,
            _q(
                base,
                f"""SELECT DISTINCT ?person ?name WHERE {{
  ?talk ki:presentsProject {project} ; ki:speaker ?person .
  ?person schema:name ?name .
}} ORDER BY ?name""",
            ),
            _q(
                base,
                f"""# cold SALT
SELECT DISTINCT ?person ?name WHERE {{
  ?talk ki:presentsProject {project} ; ki:speaker ?person .
  ?person schema:name ?name .
}} ORDER BY ?name {big}""",
            ),
        ),
        Item(
            "count_per_theme",
            "sparql",
            "aggregate: number of talks per theme",
            JSON,
            _q(
                base,
                """SELECT ?theme ?label (COUNT(?talk) AS ?talks) WHERE {
  ?talk ki:theme ?theme .
  ?theme skos:prefLabel ?label . FILTER (lang(?label) = "de")
} GROUP BY ?theme ?label ORDER BY DESC(?talks) ?theme""",
            ),
            _q(
                base,
                f"""# cold SALT
SELECT ?theme ?label (COUNT(?talk) AS ?talks) WHERE {{
  ?talk ki:theme ?theme .
  ?theme skos:prefLabel ?label . FILTER (lang(?label) = "de")
}} GROUP BY ?theme ?label ORDER BY DESC(?talks) ?theme {big}""",
            ),
        ),
        Item(
            "text_filter",
            "sparql",
            "text filter: people whose name contains a word",
            JSON,
            _q(
                base,
                f"""SELECT ?person ?name WHERE {{
  ?person a schema:Person ; schema:name ?name .
  FILTER (CONTAINS(LCASE(?name), "{word}"))
}} ORDER BY ?person LIMIT 100""",
            ),
            _q(
                base,
                f"""# cold SALT
SELECT ?person ?name WHERE {{
  ?person a schema:Person ; schema:name ?name .
  FILTER (CONTAINS(LCASE(?name), "{word}") || STRLEN(?name) < 0 * SALT)
}} ORDER BY ?person LIMIT 100""",
            ),
        ),
        Item(
            "broader_paths",
            "sparql",
            "property path: themes below a top theme (skos:broader*) with their talks",
            JSON,
            _q(
                base,
                f"""SELECT ?theme ?label (COUNT(?talk) AS ?talks) WHERE {{
  ?theme skos:broader* {root} ; skos:prefLabel ?label . FILTER (lang(?label) = "en")
  OPTIONAL {{ ?talk ki:theme ?theme }}
}} GROUP BY ?theme ?label ORDER BY ?theme""",
            ),
            _q(
                base,
                f"""# cold SALT
SELECT ?theme ?label (COUNT(?talk) AS ?talks) WHERE {{
  ?theme skos:broader* {root} ; skos:prefLabel ?label . FILTER (lang(?label) = "en")
  OPTIONAL {{ ?talk ki:theme ?theme }}
}} GROUP BY ?theme ?label ORDER BY ?theme {big}""",
            ),
        ),
        Item(
            "paging",
            "sparql",
            "OPTIONAL + ORDER BY paging: talks with date and project, 20 per page",
            JSON,
            _q(base, _paging("40")),
            _q(
                base,
                "# cold SALT\n"
                + _paging("40").replace(
                    "OPTIONAL { ?talk schema:startDate",
                    "FILTER (?talk != <urn:bench:SALT>)\n  OPTIONAL { ?talk schema:startDate",
                ),
            ),
        ),
    ]
    return items


def _paging(offset: str) -> str:
    return f"""SELECT ?talk ?name ?start ?projectName WHERE {{
  ?talk a ki:Talk ; schema:name ?name . FILTER (lang(?name) = "de")
  OPTIONAL {{ ?talk schema:startDate ?start }}
  OPTIONAL {{ ?talk ki:presentsProject ?project . ?project schema:name ?projectName }}
}} ORDER BY ?start ?talk LIMIT 20 OFFSET {offset}"""


def http_items(params: dict) -> list[Item]:
    """The linked-data routes; their concrete /data and /page paths are found by following
    the 303 of /id/ (see :func:`bench.run.resolve_routes`)."""
    w = params["workload"]
    talks = ["/" + t for t in w["talks"]]
    main = "/" + w["talk"]
    return [
        Item(
            "deref_id",
            "http",
            "IRI dereferencing: GET /id/... (Accept: text/turtle) answers 303",
            TURTLE,
            main,
            cold_paths=talks,
            expect=(303,),
            route="id",
        ),
        Item(
            "data",
            "http",
            "RDF description: the 303's target /data/... (Turtle)",
            TURTLE,
            main,
            cold_paths=talks,
            route="data",
        ),
        Item(
            "page",
            "http",
            "resource page: /page/... (HTML)",
            HTML,
            main,
            cold_paths=talks,
            route="page",
        ),
    ]


def query_url(endpoint_path: str, query: str) -> str:
    """``endpoint?query=...`` with the SALT placeholder left readable for the load generator."""
    return f"{endpoint_path}?query={quote(query, safe='')}"


def cold_variant(item: Item, n: int) -> str:
    """The n-th cold query of a SPARQL item (for checks and the Python load generator)."""
    return item.cold.replace(SALT, str(n))
