"""Answers to SPARQL queries given without Flask: on the event loop or a request thread.

WHY: for a small query, the server's own work per request was several times the query's:
Flask's request handling was 37 % of a server worker's Python time on a cold lookup, handing
the request to a thread 15 %, and the round trip to a query process more than the evaluation
(profile in bench/README.md). A query that the engine answers at once (a kept answer, or a
query ``sparql/bounds.py`` bounds by construction, which then runs in this process) needs none
of Flask and no query process, so the asynchronous front (``web/http/front.py``) asks this
module first. A query that takes a few milliseconds at most (``now``) is answered on the
front's event loop, without a thread; any other on a request thread, a query for the query
processes included (Flask's view cost such a query about 0.6 ms of the server's CPU).

It is a second road to the same code, not a second implementation: the request is read by the
view's :func:`~kommunen_kg.web.endpoint.protocol.parse_operation`, vetted by the same
``vet``, negotiated by the same negotiation, answered by the same engines, with the view's
fields (:func:`~kommunen_kg.web.endpoint.protocol.answer_fields`) and the HTTP layer's
(:func:`~kommunen_kg.web.http.layer.finish_answer`); the answer is kept in the same response
cache. Whatever is not plainly such a query (an error to explain, the editor, the Service
Description, a conditional or HEAD request) returns None, and the view answers it as before:
so every error keeps its one wording. When running the query gives what the view must send
(an error, an answer in a file), the view gets it (``RAN_KEY``) and does not run it again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from werkzeug.http import parse_options_header

from kommunen_kg.sparql.engine import QueryRequest
from kommunen_kg.sparql.errors import QueryError
from kommunen_kg.sparql.vetting import vet
from kommunen_kg.web.endpoint.protocol import (
    RAN_KEY,
    VETTED_KEY,
    ProtocolError,
    answer_fields,
    offers_for,
    parse_operation,
    query_request,
)
from kommunen_kg.web.http import negotiation
from kommunen_kg.web.http.layer import (
    LAST_MODIFIED_KEY,
    MAX_REQUEST_LINE,
    VERSION_KEY,
    finish_answer,
    request_line_length,
)
from kommunen_kg.web.http.negotiation import Format
from kommunen_kg.web.http.response_cache import ResponseCache
from kommunen_kg.web.publication import publication_of

PATHS = frozenset({"/sparql", "/sparql/"})
# A request with any of these is the view's: conditions (304 and 412) and ranges.
THE_VIEWS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE", "HTTP_IF_MATCH")

Answer = tuple[str, list[tuple[str, str]], bytes]


class Prepared:
    """A request read, vetted and negotiated: ``now`` when its query runs in this process
    within a few milliseconds at most (the front answers on its loop), else on a request
    thread. :meth:`answer` returns None when the view should answer after all (an error)."""

    __slots__ = ("_answer", "now")

    def __init__(self, now: bool, answer: Callable[[], Answer | None]):
        self.now = now
        self._answer = answer

    def answer(self) -> Answer | None:
        return self._answer()


class DirectAnswers:
    """Called by the front with a WSGI environ; returns a :class:`Prepared` or None."""

    def __init__(self, app: Flask, cache: ResponseCache | None = None):
        self.publication = publication_of(app)
        self.version: str = app.config[VERSION_KEY]
        self.last_modified: datetime = app.config[LAST_MODIFIED_KEY]
        self.cache = cache

    def __call__(self, environ: dict[str, Any]) -> Prepared | None:
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "POST") or environ["PATH_INFO"] not in PATHS:
            return None
        if any(name in environ for name in THE_VIEWS):
            return None
        if request_line_length(environ) > MAX_REQUEST_LINE:
            return None
        publication = self.publication
        server = publication.config.server
        declared = environ.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit() or int(declared) > server.max_request_size:
            return None
        mimetype, params = parse_options_header(environ.get("CONTENT_TYPE", ""))
        try:
            operation = parse_operation(
                method,
                mimetype.lower(),
                params.get("charset"),
                environ.get("QUERY_STRING", "").encode("latin-1"),
                environ["wsgi.input"].read,
            )
        except ProtocolError:
            return None
        finally:
            environ["wsgi.input"].seek(0)  # the view reads it again if it answers instead
        query = operation.query
        if not query or not query.strip():
            return None
        try:
            analysis = vet(
                query,
                max_length=server.max_query_length,
                service_allowlist=server.service_allowlist,
                base_iri=publication.config.base_iri,
            )
        except QueryError:
            return None
        environ[VETTED_KEY] = (query, analysis)
        fmt = negotiation.negotiate(
            environ.get("HTTP_ACCEPT"),
            operation.formats,
            offers_for(analysis),
            browser_page=method == "GET",
        )
        if fmt is None or fmt is negotiation.HTML:
            return None
        request = query_request(publication, operation, analysis, fmt)
        client = publication.client
        now = client.local(request) and client.immediate(request)
        return Prepared(now, lambda: self._answer(environ, request, fmt, method))

    def _answer(
        self, environ: dict[str, Any], request: QueryRequest, fmt: Format, method: str
    ) -> Answer | None:
        client = self.publication.client
        try:
            answer = client.run(request)
        except QueryError as exc:
            environ[RAN_KEY] = (request, exc)  # the view words the error
            return None
        if answer.spool is not None:  # a large answer from a query process, in a file
            environ[RAN_KEY] = (request, answer)  # the view sends it piece by piece
            return None
        limit = self.publication.config.server.result_limit
        fields = answer_fields(fmt, limit, answer.truncated, client.etag(request), method)
        fields, body = finish_answer(
            environ, 200, fields, answer.body, self.version, self.last_modified
        )
        if self.cache is not None and method == "GET":
            self.cache.keep_answer(environ, "200 OK", fields, body)
        return "200 OK", fields, body
