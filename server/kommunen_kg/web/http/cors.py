"""CORS, one policy for every answer: any web page may read what this server publishes.

Everything here is public and read-only, and nothing depends on cookies or credentials, so every
response says ``Access-Control-Allow-Origin: *`` and exposes the headers a client on another
site needs to read (validators, links, redirects, ranges, the endpoint's result limit and
``Retry-After``). Preflight requests are answered for every path with the methods that path
takes: GET and HEAD everywhere, POST too at the SPARQL endpoint.
"""

from __future__ import annotations

from flask import Response

from kommunen_kg.web.http.fields import add_missing, present

EXPOSED_HEADERS = (
    "ETag, Link, Location, Content-Location, Content-Length, Content-Range, Accept-Ranges, "
    "Retry-After, X-Result-Limit, X-Result-Truncated"
)
PREFLIGHT_MAX_AGE = "86400"
READ_ONLY_METHODS = "GET, HEAD, OPTIONS"
# Paths that take more than reading: the SPARQL endpoint takes queries by POST.
METHODS_BY_PATH = {"/sparql": "GET, HEAD, POST, OPTIONS"}


#: The fields every answer gets, unless its view set its own policy.
FIELDS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
)


def allow_any_origin(response: Response, have: set[str] | None = None) -> Response:
    """Lets any origin read ``response``; a view that set its own policy keeps it
    (``have``: the names the response has, lower case, when the caller knows them)."""
    have = present(response) if have is None else have
    if "access-control-allow-origin" not in have:
        add_missing(response, FIELDS, have)
    return response


def preflight(path: str, method: str, headers: dict | object) -> Response | None:
    """The answer to a CORS preflight request, or None when the request is none."""
    get = headers.get  # type: ignore[union-attr]
    if method != "OPTIONS" or get("Access-Control-Request-Method") is None:
        return None
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = METHODS_BY_PATH.get(
        path.rstrip("/") or "/", READ_ONLY_METHODS
    )
    requested = get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    return response
