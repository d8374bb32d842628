"""Registers the linked-data views on an application: IRIs, descriptions, pages, sitemap.

One call from the application factory, so that the factory stays a list of parts. Not-found
and bad-request errors of these views (and of paths nobody serves) get a page that helps, in
the reader's language; errors inside other blueprints keep their own handling.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.web import problems, site
from kommunen_kg.web.linked_data import graphs
from kommunen_kg.web.linked_data import routes as linked_data
from kommunen_kg.web.pages import routes as pages
from kommunen_kg.web.pages import sitemap

OWN_PREFIXES = (
    "/id/",
    "/page/",
    "/data/",
    "/graph/",
    "/browse",
    "/search",
    "/def",
    "/shapes",
    "/timeline",
    "/presenters",
)


# Paths other parts of the server own: their errors keep the form those parts chose.
OTHER_PREFIXES = ("/sparql", "/dumps", "/catalog", "/.well-known", "/static", "/health")


def _ours() -> bool:
    if request.path.startswith(OTHER_PREFIXES):
        return False
    return request.url_rule is None or request.path == "/" or request.path.startswith(OWN_PREFIXES)


def register_views(app: Flask) -> None:
    app.register_blueprint(graphs.bp)
    app.register_blueprint(linked_data.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(sitemap.bp)

    # Read the vocabulary's terms and the resource index now, before a production server forks
    # its workers, so that they share them; a store that cannot answer yet is asked later.
    with app.app_context():
        try:
            site.terms()
            site.index()
        except QueryError:
            app.extensions.pop(site.CACHE_KEY, None)

    @app.errorhandler(NotFound)
    def not_found(error: HTTPException):
        if error.response is not None or not _ours():
            return error
        return problems.not_found(None)

    @app.errorhandler(BadRequest)
    def bad_request(error: HTTPException):
        if error.response is not None or not _ours():
            return error
        return problems.bad_request(error.description or "")
