"""RDF documents as HTTP answers: choosing a syntax by ``Accept`` (or ``?format=``) and writing it.

Harvesters ask for RDF/XML (ckanext-dcat's default), JSON-LD or Turtle; browsers ask for HTML.
One table of syntaxes serves every metadata document, so that each offers the same choice,
answers ``406 Not Acceptable`` with the list when nothing fits, and names the alternatives in
``Link`` headers.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from flask import Request, Response

from kommunen_kg.web.http import negotiation
from kommunen_kg.web.http.rdf_forms import JSONLD, NTRIPLES, RDFXML, TURTLE, RdfForm, serialise

HTML = "text/html"


# Turtle first: it wins ties (``*/*``, no Accept header), since it is the syntax people read.
SYNTAXES: tuple[RdfForm, ...] = (TURTLE, JSONLD, RDFXML, NTRIPLES)
BY_KEY = {s.extension: s for s in SYNTAXES}


class NotAcceptable(Exception):
    """No offered syntax matches the request; the answer is a 406 listing them."""


def choose(request: Request, html: bool = True) -> RdfForm | str:
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
    offers = (SYNTAXES[0], negotiation.HTML, *SYNTAXES[1:]) if html else SYNTAXES
    chosen = negotiation.choose(request.headers.get("Accept"), offers)
    if chosen is None:
        raise NotAcceptable("none of the offered media types is acceptable")
    if chosen is negotiation.HTML:
        return HTML
    return chosen  # type: ignore[return-value]


def not_acceptable(message: str, html: bool = True) -> Response:
    types = [s.media_type for s in SYNTAXES] + ([HTML] if html else [])
    formats = [s.extension for s in SYNTAXES] + (["html"] if html else [])
    text = (
        f"406 Not Acceptable: {message}.\n"
        f"Available media types: {', '.join(types)}.\n"
        f"Or ask with ?format= one of: {', '.join(formats)}.\n"
    )
    return Response(text, 406, mimetype="text/plain")


def rdf_response(
    triples: Iterable[ox.Triple], syntax: RdfForm, prefixes: dict[str, str], path: str
) -> Response:
    """The graph written in ``syntax``, with ``Link`` headers to its other syntaxes."""
    response = Response(serialise(triples, syntax, prefixes), mimetype=syntax.media_type)
    add_alternates(response, path, current=syntax.extension)
    response.vary.add("Accept")
    return response


def add_alternates(response: Response, path: str, current: str | None, html: bool = True) -> None:
    links = [
        f'<{path}?format={s.extension}>; rel="alternate"; type="{s.media_type}"'
        for s in SYNTAXES
        if s.extension != current
    ]
    if html and current != "html":
        links.append(f'<{path}?format=html>; rel="alternate"; type="text/html"')
    response.headers["Link"] = ", ".join(links)
