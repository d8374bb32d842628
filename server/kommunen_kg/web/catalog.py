"""What harvesters and Linked Data tools read: ``/catalog`` (DCAT-AP.de) and VoID.

Both documents are views of the release's metadata graph (``metadata.trig``, written by
``build/metadata.py`` at build time, loaded into the store as ``{base}graph/metadata``):

* ``/catalog`` is the DCAT part: catalog, datasets, distributions, data service, agents. The
  VoID statistics (class and property partitions, linksets) are left out, because a harvester
  would only carry them along as noise; the build-time graph keeps both.
* ``/.well-known/void`` (RFC 5785, as the VoID guide proposes) is the VoID part: the datasets
  with their statistics, partitions, dumps, endpoint and linksets.

They are read from the release's ``metadata.trig`` file, not from the store: Oxigraph stores
every integer-derived datatype as ``xsd:integer`` (oxigraph/oxigraph#1413), and DCAT-AP
requires ``dcat:byteSize`` to be an ``xsd:nonNegativeInteger``. The release file holds the
exact literals, is immutable, and exists wherever a release is served (like the dumps).

Each answers Turtle, JSON-LD, RDF/XML or N-Triples by ``Accept`` (or ``?format=``), and a
readable page to browsers. ``/id/catalog``, the catalog's IRI, answers 303 See Other to
``/catalog``. A server of ad-hoc files has no release, hence no metadata, and answers 404.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import lru_cache

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, redirect, request

from kommunen_kg.rdf.namespaces import (
    ADMS,
    DCAT,
    DCATAP,
    DCTERMS,
    EU_DATA_THEME,
    EU_FILE_TYPE,
    EU_LANGUAGE,
    RDF_TYPE,
    VOID,
    ProjectIRIs,
)
from kommunen_kg.rdf.release import METADATA_FILE
from kommunen_kg.web import site
from kommunen_kg.web.linked_data.responses import (
    HTML,
    NotAcceptable,
    choose,
    not_acceptable,
    rdf_response,
)
from kommunen_kg.web.publication import Publication

bp = Blueprint("harvesting", __name__)

# Prefixes of the DCAT-AP world beyond the project's own list.
METADATA_PREFIXES = {
    "dcatap": DCATAP,
    "adms": ADMS,
    "filetype": EU_FILE_TYPE,
    "language": EU_LANGUAGE,
    "datatheme": EU_DATA_THEME,
}

Triples = tuple[ox.Triple, ...]


@lru_cache(maxsize=8)
def metadata_graph(path: str, graph: str) -> Triples:
    """The metadata graph of a release file (read once per process; releases never change)."""
    name = ox.NamedNode(graph)
    return tuple(
        q.triple for q in ox.parse(path=path, format=ox.RdfFormat.TRIG) if q.graph_name == name
    )


def _typed(triples: Triples, cls: str) -> set[str]:
    return {
        t.subject.value for t in triples if t.predicate.value == RDF_TYPE and t.object.value == cls
    }


def catalog_view(triples: Triples) -> list[ox.Triple]:
    """The DCAT part: everything but VoID's own terms and the resources only VoID describes."""
    void_only = _typed(triples, VOID + "Linkset") | (
        _typed(triples, VOID + "Dataset") - _typed(triples, DCAT + "Dataset")
    )
    return [
        t
        for t in triples
        if not t.predicate.value.startswith(VOID)
        and not (t.predicate.value == RDF_TYPE and t.object.value.startswith(VOID))
        and t.subject.value not in void_only
    ]


# Links to DCAT resources that the VoID document does not describe.
_NOT_IN_VOID = {
    DCAT + "distribution",
    DCAT + "contactPoint",
    DCAT + "hasVersion",
    DCAT + "hasCurrentVersion",
}


def void_view(triples: Triples) -> list[ox.Triple]:
    """The VoID part: the void:Datasets, their partitions and linksets, and who publishes them."""
    datasets = _typed(triples, VOID + "Dataset")
    described = datasets | _typed(triples, VOID + "Linkset")
    for t in triples:
        if t.subject.value in datasets and t.predicate.value in (
            VOID + "classPartition",
            VOID + "propertyPartition",
            DCTERMS + "publisher",
        ):
            described.add(t.object.value)
    return [
        t for t in triples if t.subject.value in described and t.predicate.value not in _NOT_IN_VOID
    ]


def _publication() -> Publication:
    from kommunen_kg.web.publication import publication_of

    return publication_of(current_app)


def _metadata(view: Callable[[Triples], list[ox.Triple]]) -> list[ox.Triple]:
    publication = _publication()
    if publication.release is None:
        abort(404, "This server publishes ad-hoc files, not a release: there is no metadata.")
    graph = ProjectIRIs.from_config(publication.config).graph("metadata")
    return view(metadata_graph(str(publication.release.file(METADATA_FILE)), graph))


class _Index:
    """The triples of a small graph by subject and predicate, for the HTML pages."""

    def __init__(self, triples: Iterable[ox.Triple]):
        self.data: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for t in triples:
            self.data[t.subject.value][t.predicate.value].append(t.object)

    def all(self, s: str, p: str) -> list[str]:
        return sorted(o.value for o in self.data.get(s, {}).get(p, []))

    def one(self, s: str, p: str, lang: str | None = None) -> str:
        objects = self.data.get(s, {}).get(p, [])
        for o in objects:
            if lang and isinstance(o, ox.Literal) and o.language == lang:
                return o.value
        return objects[0].value if objects else ""

    def texts(self, s: str, p: str, lang: str) -> list[str]:
        objects = self.data.get(s, {}).get(p, [])
        return sorted(
            o.value for o in objects if isinstance(o, ox.Literal) and o.language in (lang, None)
        )

    def of_type(self, cls: str) -> list[str]:
        return sorted(s for s, ps in self.data.items() if any(o.value == cls for o in ps[RDF_TYPE]))


def _answer(view: Callable[[Triples], list[ox.Triple]], template: str, path: str) -> Response:
    try:
        syntax = choose(request)
    except NotAcceptable as exc:
        return not_acceptable(str(exc))
    triples = _metadata(view)
    publication = _publication()
    if syntax == HTML:
        who = site.reader()
        response = site.render(
            template,
            who=who,
            g=_Index(triples),
            iris=ProjectIRIs.from_config(publication.config),
            format_param="html",
            DCAT=DCAT,
            VOID=VOID,
            path=path,
            alternates=site.language_urls(path, format="html"),
            # The URL that is this page for every client, as the alternates and sitemap say.
            canonical=site.public(path, format="html", lang=who.lang),
        )
        response.vary.add("Accept")
        return response
    prefixes = {**ProjectIRIs.from_config(publication.config).prefixes(), **METADATA_PREFIXES}
    return rdf_response(triples, syntax, prefixes, path)


@bp.get("/catalog")
def catalog() -> Response:
    """The DCAT-AP.de catalog of this publication."""
    return _answer(catalog_view, "publish/catalog.html", "/catalog")


@bp.get("/.well-known/void")
def void() -> Response:
    """The VoID description of the dataset (RFC 5785 well-known location)."""
    return _answer(void_view, "publish/void.html", "/.well-known/void")


@bp.get("/id/catalog")
def catalog_iri() -> Response:
    """The catalog's IRI: 303 See Other to its description, which negotiates the syntax."""
    target = "/catalog"
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, 303)
    response.vary.add("Accept")
    return response
