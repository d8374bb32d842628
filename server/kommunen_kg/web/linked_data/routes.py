"""Cool URIs: the IRIs of things answer with 303 See Other; their descriptions answer directly.

``GET /id/{kind}/{slug}`` (and ``/def``, ``/shapes``) names a thing, not a document, so it
answers ``303 See Other`` (W3C, "Cool URIs for the Semantic Web"): to the page for a browser,
to an RDF description for an RDF client, chosen by ``Accept`` with ``Vary: Accept``.

``GET /data/{kind}/{slug}.{ttl|jsonld|nt|rdf}`` is that description in one syntax (or, without
an extension, in the syntax ``Accept`` asks for), with ``Link`` headers to its other forms, to
the page, and to the thing it describes (``rel="describes"``, RFC 6892). The thing's IRI is
not the document's canonical URL: it names the thing, not this document. ``rel="canonical"``
(RFC 6596) is sent where it names a document: a negotiated answer's own form's URL.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, redirect, request

from kommunen_kg.rdf.namespaces import OWL
from kommunen_kg.web import problems, site
from kommunen_kg.web.describe import iri_term
from kommunen_kg.web.http.rdf_forms import BY_EXTENSION, HTML, RDF_FORMS, RdfForm, choose, serialise
from kommunen_kg.web.resolution import resolve

bp = Blueprint("linked_data", __name__)


def see_other(iri: str, page: str, data: Callable[[str], str]) -> Response:
    """``303 See Other`` from a thing's IRI: to its page (``page``, in the language the link
    asked for with ``?lang=``, if it asked) or to the RDF form ``Accept`` picks (``data`` of the
    form's extension), with ``Vary: Accept``."""
    choice = choose(request.headers.get("Accept"), with_page=True)
    if choice is None:
        abort(problems.not_acceptable(iri, with_page=True))
    if choice == HTML:
        location = site.href(page, site.fallback_reader())
    else:
        assert isinstance(choice, RdfForm)
        location = site.root() + data(choice.extension)
    response = redirect(location, 303)
    response.vary.add("Accept")
    return response


def _see_other(local_path: str) -> Response:
    resolved = resolve(local_path, "id")
    addresses = site.addresses()
    return see_other(
        resolved.iri,
        addresses.page_url(resolved.iri) or "",
        lambda extension: addresses.data_url(resolved.iri, extension) or "",
    )


@bp.route("/id/<path:rest>", methods=["GET", "HEAD"])
def thing(rest: str) -> Response:
    return _see_other("id/" + rest)


@bp.route("/def", methods=["GET", "HEAD"])
def vocabulary() -> Response:
    return _see_other("def")


@bp.route("/def/<version>", methods=["GET", "HEAD"])
def vocabulary_version(version: str) -> Response:
    """The vocabulary's version IRI (owl:versionIRI, e.g. ``{base}def/1.0``) names the
    vocabulary document as it is now, so it answers like ``/def`` while the version is current;
    any other version is unknown."""
    pub = site.publication()
    document = pub.iris.vocabulary_document
    version_iri = f"{document}/{version}"
    try:
        current = pub.trusted.ask(
            f"ASK {{ {iri_term(document)} <{OWL}versionIRI> {iri_term(version_iri)} }}"
        )
    except ValueError:
        current = False
    if not current:
        abort(problems.not_found(version_iri))
    return _see_other("def")


@bp.route("/shapes", methods=["GET", "HEAD"])
def shapes() -> Response:
    return _see_other("shapes")


def link_header(iri: str, current: RdfForm | None, negotiated: bool = False) -> str:
    """``Link`` (RFC 8288) to the other forms, the page, and the thing described; a negotiated
    answer also names its form's own URL as canonical."""
    addresses = site.addresses()
    root = site.root()
    links = [
        f'<{root}{addresses.data_url(iri, f.extension)}>; rel="alternate"; type="{f.media_type}"'
        for f in RDF_FORMS
        if f is not current
    ]
    links.append(f'<{root}{addresses.page_url(iri)}>; rel="alternate"; type="text/html"')
    links.append(f'<{iri}>; rel="describes"')
    if negotiated and current is not None:
        links.append(f'<{root}{addresses.data_url(iri, current.extension)}>; rel="canonical"')
    return ", ".join(links)


@bp.route("/data/<path:rest>", methods=["GET", "HEAD"])
def data(rest: str) -> Response:
    stem, dot, extension = rest.rpartition(".")
    form = BY_EXTENSION.get(extension) if dot and "/" not in extension else None
    if form is not None:
        rest = stem
    addresses = site.addresses()
    resolved = resolve(addresses.local_path_of_view(rest), "data", form.extension if form else None)
    negotiated = form is None
    if form is None:
        choice = choose(request.headers.get("Accept"), with_page=False)
        if not isinstance(choice, RdfForm):
            abort(problems.not_acceptable(resolved.iri, with_page=False))
        form = choice
    pub = site.publication()
    body = serialise(resolved.describe().triples, form, pub.iris.prefixes())
    response = Response(body, content_type=form.content_type)
    response.headers["Link"] = link_header(resolved.iri, form, negotiated)
    if negotiated:
        response.vary.add("Accept")
        response.headers["Content-Location"] = site.root() + (
            addresses.data_url(resolved.iri, form.extension) or ""
        )
    return response
