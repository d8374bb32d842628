"""The SPARQL 1.1 Protocol at ``/sparql`` (https://www.w3.org/TR/sparql11-protocol/), read-only.

This module is a strict translation of HTTP onto the engine, with exact status codes:

* query by GET ``?query=``, POST ``application/x-www-form-urlencoded`` or POST
  ``application/sparql-query``; ``default-graph-uri`` / ``named-graph-uri`` become the query's
  dataset (they override FROM / FROM NAMED, as the protocol says);
* the answer's format by ``format=`` or by ``Accept`` (see ``web/http/negotiation.py``); a
  browser gets the query editor, a GET without a query the Service Description
  (``service_description.py``);
* what is refused before anything runs (see ``sparql/analysis.py`` and ``sparql/shape.py``):
  updates (403), SERVICE to endpoints off the allow-list or in a form that cannot be checked
  (403), queries over the length limit (413), structures deep or long enough to crash the
  engine (400);
* engine errors: a syntax error is 400 with line and column, a timeout 503, an engine that
  cannot answer now 503 with Retry-After;
* a result cut at the result limit says so in ``X-Result-Truncated: true`` beside
  ``X-Result-Limit: N`` (both on every query answer, and exposed to browsers through CORS);
* CORS: any origin may query; preflight requests are answered (web/http/cors.py).

Every error is a ``text/plain`` message meant for the person who wrote the query.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import wrap_file

from kommunen_kg.sparql.analysis import QueryAnalysis, undeclared_prefix
from kommunen_kg.sparql.engine import DatasetSpec, QueryRequest, QueryResponse
from kommunen_kg.sparql.errors import (
    AnswerTooLarge,
    EngineUnavailable,
    QueryError,
    QueryRefused,
    QuerySyntaxError,
    QueryTimeout,
)
from kommunen_kg.sparql.shape import QueryTooComplex
from kommunen_kg.sparql.vetting import QueryTooLong, vet
from kommunen_kg.web import site
from kommunen_kg.web.endpoint import service_description
from kommunen_kg.web.endpoint.example_queries import default_query, load_examples
from kommunen_kg.web.http import negotiation
from kommunen_kg.web.http.forms import form_pairs
from kommunen_kg.web.http.negotiation import Format

bp = Blueprint("sparql", __name__)

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"

RETRY_AFTER_SECONDS = 5
ANSWER_MAX_AGE = 300
SPOOL_PIECE = 64 * 1024  # a spooled answer is read and sent in pieces of this size
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
READ_ONLY = (
    "This endpoint is read-only: SPARQL Update is not accepted, and nothing was changed. "
    "Send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) with the parameter 'query'."
)


# Where the direct path (direct.py) leaves the analysis of a query it vetted and then left to
# the view (an error to word, a format to refuse), so that the view does not vet it again.
VETTED_KEY = "kommunen_kg.vetted"
# Where it leaves what running a query gave when that is the view's to send: an error to word
# (a time limit reached, a busy pool) or an answer in a file. The view takes it instead of
# running the query a second time (a runaway query would take its time limit twice).
RAN_KEY = "kommunen_kg.ran"


class ProtocolError(Exception):
    """A request the protocol does not allow; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


@dataclass(frozen=True)
class Operation:
    """What a protocol request asks, once the HTTP details are read."""

    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    formats: tuple[str, ...]  # the non-empty values of 'format' (and Fuseki's 'output')


def _publication():
    from kommunen_kg.web.publication import publication_of

    return publication_of(current_app)


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    response = Response(message.rstrip("\n") + "\n", status, mimetype="text/plain")
    response.headers.update(headers or {})
    return response


def _parse_pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    """URL-encoded pairs, refusing anything that is not UTF-8 (werkzeug would replace it)."""
    try:
        return form_pairs(raw)
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"The {where} is not valid UTF-8.") from exc


def _body(limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise ProtocolError(
            413,
            f"The request body is {request.content_length} bytes; this endpoint accepts at most "
            f"{limit} bytes.",
        )
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge as exc:
        raise ProtocolError(
            413, f"The request body is larger than {limit} bytes, the most this endpoint accepts."
        ) from exc


def read_operation(max_request_size: int) -> Operation:
    """Reads the protocol parameters of the Flask request (see :func:`parse_operation`)."""
    return parse_operation(
        request.method,
        request.mimetype,
        request.mimetype_params.get("charset"),
        request.query_string,
        lambda: _body(max_request_size),
    )


def parse_operation(
    method: str,
    mimetype: str,
    charset: str | None,
    query_string: bytes,
    body: Callable[[], bytes],
) -> Operation:
    """Reads the protocol parameters of a GET or POST, refusing what the protocol forbids.

    Without Flask, so that the direct path (``direct.py``) reads a request exactly as the
    view does: ``mimetype`` is the Content-Type without parameters, lower case; ``body``
    gives the request body (it may refuse one that is too large with a ProtocolError).
    """
    pairs = _parse_pairs(query_string, "query string")
    if method == "POST":
        if mimetype == SPARQL_UPDATE:
            raise ProtocolError(403, READ_ONLY)
        if mimetype == FORM:
            pairs += _parse_pairs(body(), "request body")
        elif mimetype == SPARQL_QUERY:
            if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
                raise ProtocolError(
                    415, "A SPARQL query sent as application/sparql-query must be UTF-8."
                )
            try:
                text = body().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ProtocolError(400, "The request body is not valid UTF-8.") from exc
            if any(name == "query" for name, _ in pairs):
                raise ProtocolError(
                    400,
                    "The query was sent twice: in the request body and as the parameter "
                    "'query'. Send it once.",
                )
            pairs.append(("query", text))
        else:
            raise ProtocolError(
                415,
                "A POST to the SPARQL endpoint needs the Content-Type "
                f"{FORM} or {SPARQL_QUERY}"
                + (f", not {mimetype}." if mimetype else "; the request had none."),
            )
    names = [name for name, _ in pairs]
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise ProtocolError(403, READ_ONLY)
    queries = [value for name, value in pairs if name == "query"]
    if len(queries) > 1:
        raise ProtocolError(
            400, f"The request has {len(queries)} 'query' parameters; send exactly one."
        )
    # SPARQLWrapper sends format (and output) twice, as a short name and as a media type.
    formats = tuple(value for name, value in pairs if name in ("format", "output") and value)
    default_graphs = tuple(value for name, value in pairs if name == "default-graph-uri")
    named_graphs = tuple(value for name, value in pairs if name == "named-graph-uri")
    for graph in (*default_graphs, *named_graphs):
        try:
            ox.NamedNode(graph)
        except ValueError as exc:
            raise ProtocolError(
                400, f"default-graph-uri and named-graph-uri must be IRIs; {graph!r} is not."
            ) from exc
    return Operation(
        queries[0] if queries else None,
        default_graphs,
        named_graphs,
        formats,
    )


def _not_acceptable(offers: tuple[Format, ...]) -> Response:
    return _text(
        406,
        "None of the formats this endpoint offers for this request is acceptable. Offered: "
        + ", ".join(negotiation.offered_media_types(offers))
        + ". Ask for one with the Accept header or the parameter 'format' "
        + "(short names: "
        + ", ".join(offer.names[0] for offer in offers)
        + ").",
        {"Vary": "Accept"},
    )


def editor_page() -> Response:
    """The query editor (YASGUI) with the example queries; a query in the URL opens in it.

    It stands in the site's frame (header, skip link, footer, language switch; the switch keeps
    a shared ``?query=``). The examples and the dataset's title belong to the published release;
    a server of ad-hoc files (``kommunen-kg serve FILES``) shows the bare editor in the frame.
    """
    publication = _publication()
    iris = publication.iris
    # A wrong ?lang= on the endpoint's URL is no reason to refuse the page.
    who = site.fallback_reader()
    lang = who.lang
    other = "en" if lang == "de" else "de"
    dataset = publication.config.dataset
    title = (dataset.title_de if lang == "de" else dataset.title_en) if publication.release else ""
    examples = [
        {
            "slug": ex.slug,
            "title": ex.title(lang),
            "other_title": ex.title(other),
            "query": ex.text(iris),
        }
        for ex in (load_examples(publication.config.queries_dir) if publication.release else ())
    ]
    response = site.render(
        "query.html",
        who=who,
        title=title,
        endpoint=url_for("sparql.sparql"),
        description_url=url_for("sparql.sparql", format="turtle"),
        default_query=default_query(iris),
        examples=examples,
        # Results name IRIs by these prefixes (and the query's own), and link the IRIs under the
        # base to this server, wherever it runs (query-editor.js).
        prefixes=iris.prefixes(),
        base=publication.config.base_iri,
        root=request.script_root + "/",
        # The editor itself, whatever query a shared link opens in it.
        canonical=site.public(request.path, lang=lang),
        alternates=site.language_urls(request.path),
    )
    response.vary.update(("Accept", "Accept-Language"))
    return response


def _named_graphs(publication) -> list[tuple[str, int | None]]:
    """The named graphs of what is served, with their sizes, for the Service Description.

    A release's manifest lists them. For ad-hoc files (``kommunen-kg serve FILES``) counting
    them scans the whole store, so it is done once per application, and before the server forks
    its workers (:func:`_count_before_forking`), so that they share the answer and none copies
    the store's pages by scanning it. Only a store that is refilled in place (the conformance
    runner's, with ``answer_cache`` off) is counted per request.
    """
    release = publication.release
    if release is not None and "graphs" in release.manifest:
        counts = release.manifest.get("counts", {})
        return [(iri, counts.get(name)) for name, iri in release.manifest["graphs"].items()]
    if not publication.answer_cache:
        return _count_named_graphs(publication)
    return site.cached("named_graphs", lambda: _count_named_graphs(publication))


def _count_named_graphs(publication) -> list[tuple[str, int | None]]:
    rows = publication.trusted.select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    )
    return [(row["g"].value, int(row["n"].value)) for row in rows if "g" in row]


@bp.record_once
def _count_before_forking(state) -> None:
    """Counts the named graphs as the application is made (see :func:`_named_graphs`); a store
    that cannot answer yet is counted at the first request instead."""
    with state.app.app_context(), contextlib.suppress(QueryError):
        _named_graphs(_publication())


def description(fmt: Format) -> Response:
    publication = _publication()
    config = publication.config
    triples = service_description.describe(
        url_for("sparql.sparql", _external=True),
        config.server,
        _named_graphs(publication),
        # The release's metadata (DCAT) names the service; the description speaks of the same.
        service_iri=publication.iris.sparql_service if publication.release else None,
        title=(config.dataset.title_de, config.dataset.title_en) if publication.release else None,
        dataset_iri=publication.iris.dataset if publication.release else None,
        union_default_graph=publication.union_default_graph,
    )
    response = Response(service_description.serialise(triples, fmt), 200)
    response.headers["Content-Type"] = fmt.content_type
    response.vary.add("Accept")
    return response


def offers_for(analysis: QueryAnalysis) -> tuple[Format, ...]:
    """The formats an answer to this query can take."""
    if analysis.returns_graph:
        return negotiation.GRAPH_OFFERS
    if analysis.form == "ASK":
        return negotiation.BOOLEAN_OFFERS
    return negotiation.RESULT_OFFERS


def query_request(
    publication, operation: Operation, analysis: QueryAnalysis, fmt: Format
) -> QueryRequest:
    """What the engine is asked for a vetted query in a negotiated format."""
    server = publication.config.server
    dataset = DatasetSpec(
        default_graphs=operation.default_graphs,
        named_graphs=operation.named_graphs,
        # The union stands in only where neither the protocol nor the query names a dataset.
        union_default_graph=publication.union_default_graph
        and not analysis.has_dataset_clause
        and not operation.default_graphs
        and not operation.named_graphs,
    )
    return QueryRequest(
        query=operation.query or "",
        result_format=fmt.name,
        dataset=dataset,
        timeout=server.query_timeout,
        limit=server.result_limit,
        base_iri=publication.config.base_iri,
        extension_functions=tuple(sorted(analysis.extension_functions)),
        max_bytes=server.max_answer_bytes,
    )


def answer_fields(
    fmt: Format, result_limit: int, truncated: bool, etag: str | None, method: str
) -> list[tuple[str, str]]:
    """The header fields of an answer to a query, whichever path gives it (the view below or
    ``direct.py``); the HTTP layer adds what every answer gets."""
    fields = [
        ("Content-Type", fmt.content_type),
        ("X-Result-Limit", str(result_limit)),
        ("X-Result-Truncated", "true" if truncated else "false"),
    ]
    if etag:
        fields.append(("ETag", f'W/"{etag}"'))
        if method in ("GET", "HEAD"):
            # Answers of GET requests may be kept by shared caches for a while; a new release
            # changes every validator.
            fields.append(("Cache-Control", f"public, max-age={ANSWER_MAX_AGE}"))
            fields.append(("Vary", "Accept, Accept-Encoding"))
            return fields
    else:  # NOW(), RAND(), ...: the answer is not fixed by the release
        fields.append(("Cache-Control", "no-store"))
    fields.append(("Vary", "Accept"))
    return fields


def run_query(operation: Operation) -> Response:
    publication = _publication()
    server = publication.config.server
    query = operation.query or ""
    # direct.py vetted this very text already when it left the request to this view
    vetted = request.environ.get(VETTED_KEY)
    analysis = (
        vetted[1]
        if vetted is not None and vetted[0] == query
        else vet(
            query,
            max_length=server.max_query_length,
            service_allowlist=server.service_allowlist,
            base_iri=publication.config.base_iri,
        )
    )
    offers = offers_for(analysis)
    fmt = negotiation.negotiate(
        request.headers.get("Accept"),
        operation.formats,
        offers,
        browser_page=request.method in ("GET", "HEAD"),
    )
    if fmt is None:
        return _not_acceptable(offers)
    if fmt is negotiation.HTML:
        return editor_page()
    query_request_ = query_request(publication, operation, analysis, fmt)
    # A release never changes, so the validator of an answer is known before the query runs:
    # a client that holds the answer gets 304 without the query being evaluated again.
    etag = publication.client.etag(query_request_)
    if etag and request.method in ("GET", "HEAD"):
        held = request.if_none_match
        for tag in (etag, f"{etag}-gzip"):
            if held.contains_weak(tag):
                response = Response(status=304)
                response.set_etag(tag, weak=True)
                _cacheable(response)
                return response
    answer = _answer_to(query_request_)
    if answer.spool is not None:
        # A large answer, in a file the query worker wrote: sent from there piece by piece,
        # never held in this process (the asynchronous front reads the file itself).
        response = Response(
            wrap_file(request.environ, answer.spool, buffer_size=SPOOL_PIECE),
            200,
            direct_passthrough=True,
        )
        response.content_length = answer.spooled
    else:
        response = Response(answer.body, 200)
    for name, value in answer_fields(
        fmt, server.result_limit, answer.truncated, etag, request.method
    ):
        response.headers[name] = value
    return response


def _answer_to(query_request_: QueryRequest) -> QueryResponse:
    """The engine's answer to the request; or what the direct path met running this very
    request (:data:`RAN_KEY`): its error raised here, its answer in a file returned."""
    ran = request.environ.pop(RAN_KEY, None)
    if ran is not None:
        asked, outcome = ran
        if asked == query_request_:
            if isinstance(outcome, QueryError):
                raise outcome
            return outcome
        if isinstance(outcome, QueryResponse) and outcome.spool is not None:
            outcome.spool.close()  # the view read another request: it runs that one
    return _publication().client.run(query_request_)


def _cacheable(response: Response) -> None:
    """The caching fields of a 304 to a GET (as those of its answer, see answer_fields)."""
    response.headers["Cache-Control"] = f"public, max-age={ANSWER_MAX_AGE}"
    response.vary.add("Accept")
    response.vary.add("Accept-Encoding")


def _error_for(exc: QueryError) -> Response:
    """Engine and analysis errors, as the protocol's status codes."""
    if isinstance(exc, QuerySyntaxError):
        where = f" at line {exc.line}, column {exc.column}" if exc.line is not None else ""
        return _text(400, f"Syntax error in the SPARQL query{where}: {exc}")
    if isinstance(exc, QueryTooLong):
        return _text(413, str(exc))
    if isinstance(exc, QueryTooComplex | AnswerTooLarge):
        return _text(400, str(exc))
    if isinstance(exc, QueryRefused):
        return _text(403, str(exc))
    if isinstance(exc, QueryTimeout):
        seconds = _publication().config.server.query_timeout
        return _text(
            503,
            f"The query was stopped after the time limit of {seconds:g} s. Simplify it (fewer "
            f"patterns, a LIMIT, more specific terms) or download the data dump. ({exc})",
        )
    if isinstance(exc, EngineUnavailable):
        return _text(
            503,
            f"The query engine cannot answer right now; please retry in a few seconds. ({exc})",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return _text(400, f"The query could not be evaluated: {exc}")


@bp.route(
    "/sparql",
    methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"],
    strict_slashes=False,  # /sparql/ is what many people (and the W3C protocol tests) write
)
def sparql() -> Response:
    if request.method == "OPTIONS":
        response = Response(status=204, headers={"Allow": ALLOWED_METHODS})
        del response.headers["Content-Type"]
        return response
    if request.method not in ("GET", "HEAD", "POST"):
        return _text(
            405,
            f"The SPARQL endpoint answers {ALLOWED_METHODS}; {request.method} is not allowed. "
            "It is read-only: graphs cannot be changed here.",
            {"Allow": ALLOWED_METHODS},
        )
    publication = _publication()
    operation: Operation | None = None
    try:
        operation = read_operation(publication.config.server.max_request_size)
        if operation.query is None:
            if request.method == "POST" or operation.default_graphs or operation.named_graphs:
                raise ProtocolError(
                    400, "The request has no 'query' parameter; there is nothing to answer."
                )
            fmt = negotiation.negotiate(
                request.headers.get("Accept"),
                operation.formats,
                negotiation.DESCRIPTION_OFFERS,
                browser_page=True,
            )
            if fmt is None:
                return _not_acceptable(negotiation.DESCRIPTION_OFFERS)
            return editor_page() if fmt is negotiation.HTML else description(fmt)
        if not operation.query.strip():
            raise ProtocolError(400, "The parameter 'query' is empty; there is nothing to answer.")
        return run_query(operation)
    except ProtocolError as exc:
        return _text(exc.status, str(exc), exc.headers)
    except QuerySyntaxError as exc:
        return _error_for(_with_missing_prefix(exc, operation.query if operation else ""))
    except QueryError as exc:
        return _error_for(exc)


def _with_missing_prefix(exc: QuerySyntaxError, query: str) -> QuerySyntaxError:
    """The engine's error for an undeclared prefix lists Unicode ranges; say which prefix is
    missing instead, and the declaration this server knows for it."""
    if "Prefix not found" not in str(exc):
        return exc
    token = undeclared_prefix(query)
    if token is None:
        return exc
    line = query.count("\n", 0, token.position) + 1
    column = token.position - (query.rfind("\n", 0, token.position) + 1) + 1
    name = token.prefix or ""
    known = _publication().iris.prefixes().get(name)
    offer = f" Add: PREFIX {name}: <{known}>" if known else ""
    return QuerySyntaxError(
        f"the prefix '{name}:' (in '{token.text}') is not declared.{offer}", line, column
    )


QUERY_PAGE_METHODS = "GET, HEAD, OPTIONS"


@bp.route("/query", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def query_page() -> Response:
    """The query editor under a name people guess; ``/sparql`` serves it to browsers, too."""
    if request.method == "OPTIONS":
        response = Response(status=204, headers={"Allow": QUERY_PAGE_METHODS})
        del response.headers["Content-Type"]
        return response
    return editor_page()
