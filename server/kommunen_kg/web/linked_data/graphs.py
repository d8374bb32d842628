"""The IRIs of the named graphs (``{base}graph/vocabulary|themes|shapes|data|metadata``).

The Service Description and the TriG and N-Quads dumps name these graphs, and clients follow
such IRIs. A graph's IRI names the graph, so it answers ``303 See Other`` like the IRI of any
thing: to a page that says what the graph holds, how many triples, where its dump is and how
to query it, or to the same description in RDF. Never to the graph's whole content, which the
dumps and the endpoint give.
"""

from __future__ import annotations

from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, abort

from kommunen_kg.rdf.namespaces import DCTERMS, GRAPH_NAMES, RDF_TYPE, SD, VOID
from kommunen_kg.rdf.release import DUMP_STEM, METADATA_FILE
from kommunen_kg.web import problems, site
from kommunen_kg.web.http.rdf_forms import BY_EXTENSION, serialise
from kommunen_kg.web.linked_data.routes import see_other

bp = Blueprint("graphs", __name__)

# What each graph holds, in German and English.
ABOUT: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "vocabulary": (
        ("Vokabular", "Vocabulary"),
        (
            "Die Klassen und Eigenschaften des Vokabulars von Kommunen innovativ (ki:).",
            "The classes and properties of the Kommunen innovativ vocabulary (ki:).",
        ),
    ),
    "themes": (
        ("Themen", "Themes"),
        (
            "Die Themen und Kernbotschaften als SKOS-Begriffsschema.",
            "The themes and key messages as a SKOS concept scheme.",
        ),
    ),
    "shapes": (
        ("Shapes", "Shapes"),
        (
            "Die SHACL-Shapes, gegen die die Daten vor jeder Veröffentlichung geprüft werden.",
            "The SHACL shapes the data is checked against before each release.",
        ),
    ),
    "data": (
        ("Daten", "Data"),
        (
            "Veranstaltungen, Vorträge, Personen, Organisationen, Projekte und ihre Beziehungen.",
            "Events, talks, people, organisations, projects and how they relate.",
        ),
    ),
    "metadata": (
        ("Metadaten", "Metadata"),
        (
            "Die Beschreibung der Veröffentlichung: DCAT, VoID und PROV.",
            "The description of the release: DCAT, VoID and PROV.",
        ),
    ),
}


def _graph(name: str) -> tuple[str, int]:
    """The graph's IRI and its triple count in the release served; 404 for any other name."""
    publication = site.publication()
    if name not in GRAPH_NAMES or publication.release is None:
        abort(problems.not_found(None))
    counts = publication.release.manifest.get("counts", {})
    return publication.iris.graph(name), int(counts.get(name, 0))


def _dump(name: str) -> str:
    """The dump that holds the graph, named (the metadata graph has a file of its own)."""
    file = METADATA_FILE if name == "metadata" else f"{DUMP_STEM}.trig"
    return site.public(f"/dumps/latest/{file}")


def _example_query(iri: str) -> str:
    return f"SELECT * WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT 100"


def description(name: str) -> list[ox.Triple]:
    """The graph described in RDF: what it is, holds and where it can be had."""
    iri, triples = _graph(name)
    publication = site.publication()
    graph = ox.NamedNode(iri)
    titles, texts = ABOUT[name]

    def fact(predicate: str, value: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(graph, ox.NamedNode(predicate), value)

    return [
        fact(RDF_TYPE, ox.NamedNode(SD + "Graph")),
        fact(RDF_TYPE, ox.NamedNode(VOID + "Dataset")),
        *(
            fact(DCTERMS + "title", ox.Literal(t, language=lang))
            for t, lang in zip(titles, ("de", "en"), strict=True)
        ),
        *(
            fact(DCTERMS + "description", ox.Literal(t, language=lang))
            for t, lang in zip(texts, ("de", "en"), strict=True)
        ),
        fact(
            VOID + "triples",
            ox.Literal(
                str(triples), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
            ),
        ),
        fact(VOID + "dataDump", ox.NamedNode(_dump(name))),
        fact(VOID + "sparqlEndpoint", ox.NamedNode(site.public("/sparql"))),
        fact(DCTERMS + "isPartOf", ox.NamedNode(publication.iris.dataset)),
    ]


@bp.route("/graph/<name>", methods=["GET", "HEAD"])
def graph_iri(name: str) -> Response:
    """303 See Other: to the page for a browser, to an RDF description for an RDF client."""
    iri, _ = _graph(name)
    return see_other(
        iri, f"/page/graph/{name}", lambda extension: f"/data/graph/{name}.{extension}"
    )


@bp.route("/data/graph/<name>.<extension>", methods=["GET", "HEAD"])
def graph_data(name: str, extension: str) -> Response:
    form = BY_EXTENSION.get(extension)
    if form is None:
        abort(problems.not_found(None))
    body = serialise(description(name), form, site.publication().iris.prefixes())
    return Response(body, content_type=form.content_type)


@bp.route("/page/graph/<name>", methods=["GET", "HEAD"])
def graph_page(name: str) -> Response:
    iri, triples = _graph(name)
    who = site.reader()
    titles, texts = ABOUT[name]
    index = 0 if who.lang == "de" else 1
    return site.render(
        "graph.html",
        who=who,
        name=name,
        iri=iri,
        title=titles[index],
        text=texts[index],
        triples=triples,
        dump=_dump(name),
        query_url=site.root() + "/sparql?query=" + quote(_example_query(iri), safe=""),
        forms=[(form.extension, form.media_type) for form in BY_EXTENSION.values()],
        alternates=site.language_urls(f"/page/graph/{name}"),
    )
