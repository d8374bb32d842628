"""The SPARQL 1.1 Protocol at /sparql (first cut: GET and POST, four result formats)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, request

from .engine import DatasetSpec, EngineUnavailable, QueryRequest, QuerySyntaxError, QueryTimeout

bp = Blueprint("sparql", __name__)

_KIND = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.I)


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    from .app import publication_of

    publication = publication_of(current_app)
    query = request.values.get("query")
    if request.method == "POST" and request.mimetype == "application/sparql-query":
        query = request.get_data(as_text=True)
    if not query:
        return Response("Missing query parameter\n", 400, mimetype="text/plain")
    match = _KIND.search(query)
    kind = match.group(1).upper() if match else "SELECT"
    graph = kind in ("CONSTRUCT", "DESCRIBE")
    fmt = request.values.get("format") or ("turtle" if graph else "json")
    try:
        answer = publication.engine.run(
            QueryRequest(
                query=query,
                result_format=fmt,
                dataset=DatasetSpec(union_default_graph=publication.union_default_graph),
                timeout=publication.config.server.query_timeout,
                limit=publication.config.server.result_limit,
            )
        )
    except QuerySyntaxError as exc:
        return Response(
            f"Syntax error at {exc.line}:{exc.column}: {exc}\n", 400, mimetype="text/plain"
        )
    except QueryTimeout as exc:  # minimal mapping for the query pool; the endpoint work owns it
        return Response(f"{exc}\n", 503, mimetype="text/plain")
    except EngineUnavailable as exc:
        return Response(f"{exc}\n", 503, mimetype="text/plain", headers={"Retry-After": "5"})
    return Response(answer.body, mimetype=answer.media_type)
