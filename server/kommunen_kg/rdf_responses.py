"""RDF documents as HTTP answers: choosing a syntax by ``Accept`` (or ``?format=``) and writing it.

Harvesters ask for RDF/XML (ckanext-dcat's default), JSON-LD or Turtle; browsers ask for HTML.
One table of syntaxes serves every metadata document, so that each offers the same choice,
answers ``406 Not Acceptable`` with the list when nothing fits, and names the alternatives in
``Link`` headers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Request, Response

HTML = "text/html"


@dataclass(frozen=True)
class Syntax:
    key: str  # the ?format= value
    media_type: str
    rdf_format: ox.RdfFormat


SYNTAXES: tuple[Syntax, ...] = (
    Syntax("ttl", "text/turtle", ox.RdfFormat.TURTLE),
    Syntax("jsonld", "application/ld+json", ox.RdfFormat.JSON_LD),
    Syntax("rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    Syntax("nt", "application/n-triples", ox.RdfFormat.N_TRIPLES),
)
BY_KEY = {s.key: s for s in SYNTAXES}
BY_MEDIA_TYPE = {s.media_type: s for s in SYNTAXES}
# Other names clients use for the same syntaxes.
ALIASES = {
    "application/x-turtle": "text/turtle",
    "application/json": "application/ld+json",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "text/plain": "application/n-triples",
}


class NotAcceptable(Exception):
    """No offered syntax matches the request; the answer is a 406 listing them."""


def choose(request: Request, html: bool = True) -> Syntax | str:
    """The syntax to answer with: ``?format=`` first, then ``Accept`` (q-values, wildcards).

    Answers :data:`HTML` for browsers when ``html`` is true. Turtle wins ties (``*/*``, no
    Accept header), since it is the syntax people read.
    """
    fmt = request.args.get("format")
    if fmt is not None:
        if fmt == "html" and html:
            return HTML
        if fmt in BY_KEY:
            return BY_KEY[fmt]
        raise NotAcceptable(f"unknown format {fmt!r}")
    if not request.headers.get("Accept", "").strip():
        return SYNTAXES[0]  # no Accept header means any media type (RFC 9110 12.5.1)
    offered = [s.media_type for s in SYNTAXES[:1]]
    if html:
        offered += [HTML, "application/xhtml+xml"]
    offered += [s.media_type for s in SYNTAXES[1:]] + list(ALIASES)
    best = request.accept_mimetypes.best_match(offered)
    if best is None:
        raise NotAcceptable("none of the offered media types is acceptable")
    if best in (HTML, "application/xhtml+xml"):
        return HTML
    return BY_MEDIA_TYPE[ALIASES.get(best, best)]


def not_acceptable(message: str, html: bool = True) -> Response:
    types = [s.media_type for s in SYNTAXES] + ([HTML] if html else [])
    formats = [s.key for s in SYNTAXES] + (["html"] if html else [])
    text = (
        f"406 Not Acceptable: {message}.\n"
        f"Available media types: {', '.join(types)}.\n"
        f"Or ask with ?format= one of: {', '.join(formats)}.\n"
    )
    return Response(text, 406, mimetype="text/plain")


def sorted_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """A stable order, so that the same graph always gives the same bytes (and ETag)."""
    return sorted(set(triples), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))


def used_prefixes(triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> dict[str, str]:
    """Only the prefixes whose namespace the graph uses, so that a document declares no others."""
    iris = {
        term.value
        for t in triples
        for term in (t.subject, t.predicate, t.object)
        if isinstance(term, ox.NamedNode)
    }
    iris |= {
        t.object.datatype.value
        for t in triples
        if isinstance(t.object, ox.Literal) and t.object.datatype is not None
    }
    return {
        prefix: namespace
        for prefix, namespace in prefixes.items()
        if any(iri.startswith(namespace) for iri in iris)
    }


def rdf_response(
    triples: Iterable[ox.Triple], syntax: Syntax, prefixes: dict[str, str], path: str
) -> Response:
    """The graph written in ``syntax``, with ``Link`` headers to its other syntaxes."""
    statements = sorted_triples(triples)
    body = ox.serialize(
        statements,
        format=syntax.rdf_format,
        prefixes=used_prefixes(statements, prefixes)
        if syntax.rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML)
        else None,
    )
    response = Response(body, mimetype=syntax.media_type)
    add_alternates(response, path, current=syntax.key)
    response.vary.add("Accept")
    return response


def add_alternates(response: Response, path: str, current: str | None, html: bool = True) -> None:
    links = [
        f'<{path}?format={s.key}>; rel="alternate"; type="{s.media_type}"'
        for s in SYNTAXES
        if s.key != current
    ]
    if html and current != "html":
        links.append(f'<{path}?format=html>; rel="alternate"; type="text/html"')
    response.headers["Link"] = ", ".join(links)
