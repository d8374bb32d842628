"""The HTTP layer every response passes through: validators, caching, compression, CORS.

Everything the server publishes is read-only and changes only with a new release, so every
response can be revalidated cheaply and cached safely. The views just answer; this layer, one
``after_request`` hook, adds what HTTP clients, caches and browsers on other sites need:

* **ETag** for every ``200`` answer to GET/HEAD that a view did not tag itself:
  ``"{release version}-{SHA-256 of the body}"``, so one tag per release and representation.
  A gzip-compressed representation has its own tag (``...-gzip"``): it is other bytes.
  ``If-None-Match`` (and ``If-Modified-Since``) then give ``304 Not Modified``.
* **Last-Modified** where a view set none: no generated answer can be newer than both the
  release and the start of this server process (the software that renders it).
* **Cache-Control** by kind of answer when the view set none: ``no-store`` for errors (a 404
  must not outlive the fix), short for everything that can change with the next release.
  Immutable files (``/dumps/{version}/...``) say ``immutable`` themselves.
* **gzip** for text formats when the client accepts it. Our own code rather than
  Flask-Compress: that library picks gzip even for ``Accept-Encoding: gzip;q=0`` (which
  RFC 9110 12.5.3 defines as "not acceptable"), and its gzip output carries the time of day,
  so two compressions of one body differ while sharing a strong ETag. Here the compressed
  bytes are a pure function of the body (``mtime=0``). Streamed answers (large files sent by
  ``send_file``) are never buffered or compressed: they keep their exact length and ranges.
* **Security headers** (``security.py``): nosniff, a referrer policy, no framing, and a
  Content-Security-Policy for HTML pages.
* **CORS** (:mod:`.cors`, the one policy): ``Access-Control-Allow-Origin: *`` on every
  response, and preflight requests answered, because other portals fetch our IRIs, dumps,
  catalog, VoID and query answers from the browser.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote

from flask import Flask, Response, request
from werkzeug.http import http_date, parse_accept_header

from kommunen_kg.web.http import cors, security
from kommunen_kg.web.http.fields import add_missing, present

# The longest request line gunicorn allows short of "unlimited" (it answers 414 beyond), and
# the one this layer enforces under granian: GET queries up to about 8 KB of URL; longer
# queries go by POST, as the service description says.
MAX_REQUEST_LINE = 8190

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
NO_STORE = "no-store"

# Monitoring answers must never come from a cache.
NEVER_CACHED = ("/health",)

COMPRESSIBLE = frozenset(
    {
        "application/atom+xml",
        "application/javascript",
        "application/json",
        "application/ld+json",
        "application/n-quads",
        "application/n-triples",
        "application/rdf+xml",
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "application/trig",
        "application/xhtml+xml",
        "application/xml",
        "image/svg+xml",
    }
)
MIN_COMPRESS_SIZE = 512  # below this, gzip's header costs more than it saves
GZIP_LEVEL = 6


LAST_MODIFIED_KEY = "kommunen_kg.last_modified"
VERSION_KEY = "kommunen_kg.version"


def _is_compressible(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype in COMPRESSIBLE


def accepts_gzip(header: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: an explicit entry wins over ``*``; q=0 refuses."""
    if not header:
        return False
    accept = parse_accept_header(header)
    explicit = [q for value, q in accept if value.lower() in ("gzip", "x-gzip")]
    if explicit:
        return max(explicit) > 0
    return any(value == "*" and q > 0 for value, q in accept)


def _add_vary(response: Response, field: str) -> None:
    if field.lower() not in {v.lower() for v in response.vary}:
        response.vary.add(field)


def body_etag(version: str, body: bytes) -> str:
    """The entity tag of a generated representation (without quotes)."""
    return f"{version}-{hashlib.sha256(body).hexdigest()[:24]}"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


def cache_policy(path: str, status: int, method: str) -> str | None:
    """Cache-Control for an answer whose view chose none (None: say nothing)."""
    if status >= 400 or _under(path, NEVER_CACHED):
        return NO_STORE
    if method not in ("GET", "HEAD"):
        return None
    return SHORT


def compressed(body: bytes) -> bytes:
    """The gzip form of a body: a pure function of it (no time stamp), so one strong ETag."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def _compress(response: Response, etag: str | None, weak: bool) -> None:
    """Replaces the body by its gzip form, with its own ETag; the caller checked it is wanted."""
    response.set_data(compressed(response.get_data()))
    response.headers["Content-Encoding"] = "gzip"
    if etag is not None:
        response.set_etag(f"{etag}-gzip", weak=weak)


def _finish(response: Response) -> Response:
    from flask import current_app

    method = request.method
    path = request.path

    have = present(response)
    if "cache-control" not in have:
        policy = cache_policy(path, response.status_code, method)
        if policy:
            add_missing(response, (("Cache-Control", policy),), have)

    cors.allow_any_origin(response, have)
    security.harden(response, have)

    buffered = not (response.is_streamed or response.direct_passthrough)
    if response.status_code != 200 or not buffered:
        return response

    conditional = method in ("GET", "HEAD")
    etag, weak = response.get_etag()
    if conditional and etag is None:
        etag, weak = body_etag(current_app.config[VERSION_KEY], response.get_data()), False
        response.set_etag(etag)
    if conditional and response.last_modified is None:
        response.last_modified = current_app.config[LAST_MODIFIED_KEY]

    if _is_compressible(response.mimetype or "") and "content-encoding" not in have:
        _add_vary(response, "Accept-Encoding")
        wanted = accepts_gzip(request.headers.get("Accept-Encoding"))
        if wanted and (response.content_length or 0) >= MIN_COMPRESS_SIZE:
            _compress(response, etag, weak)

    if conditional:
        response.make_conditional(request)
    return response


# A release's Last-Modified is one moment, formatted for every answer given without Flask (5 us
# each, 2 % of a cold lookup's time).
_last_modified_field = functools.lru_cache(maxsize=4)(http_date)


@functools.lru_cache(maxsize=256)
def _fixed_fields(
    path: str, status: int, method: str, have: frozenset[str], mimetype: str
) -> tuple[tuple[tuple[str, str], ...], frozenset[str]]:
    """The fields :func:`finish_answer` adds that depend on nothing else (Cache-Control, CORS,
    the security fields), and their names in lower case. Kept: the same dozen fields, made
    name by name for every answer, were 4 % of a cold lookup."""
    out: list[tuple[str, str]] = []
    names = set(have)
    if "cache-control" not in names:
        policy = cache_policy(path, status, method)
        if policy:
            _add_missing(out, names, (("Cache-Control", policy),))
    if "access-control-allow-origin" not in names:
        _add_missing(out, names, cors.FIELDS)
    _add_missing(out, names, security.fields_for(mimetype))
    return tuple(out), frozenset(names - have)


def _add_missing(
    out: list[tuple[str, str]], names: set[str], pairs: Iterable[tuple[str, str]]
) -> None:
    """Appends to ``out`` each field whose name (lower case) is not in ``names`` yet."""
    for name, value in pairs:
        if name.lower() not in names:
            out.append((name, value))
            names.add(name.lower())


def finish_answer(
    environ: dict,
    status: int,
    fields: list[tuple[str, str]],
    body: bytes,
    version: str,
    last_modified: datetime,
) -> tuple[list[tuple[str, str]], bytes]:
    """What :func:`_finish` does to a buffered answer to a request without conditions, for an
    answer made without Flask (``web/endpoint/direct.py``): the same fields, by the same
    rules, in the same cases. ``fields`` are the view's; returns all fields and the body."""
    method = environ["REQUEST_METHOD"]
    out = list(fields)
    have = {name.lower() for name, _ in out}

    mimetype = next((v for n, v in out if n.lower() == "content-type"), "")
    mimetype = mimetype.split(";", 1)[0].strip().lower()
    fixed, names = _fixed_fields(environ["PATH_INFO"], status, method, frozenset(have), mimetype)
    out += fixed
    have |= names
    if status == 200:
        conditional = method in ("GET", "HEAD")
        etag = next((v for n, v in out if n.lower() == "etag"), None)
        if conditional and etag is None:
            etag = f'"{body_etag(version, body)}"'
            _add_missing(out, have, (("ETag", etag),))
        if conditional:
            _add_missing(out, have, (("Last-Modified", _last_modified_field(last_modified)),))
        if _is_compressible(mimetype) and "content-encoding" not in have:
            vary = next((i for i, (n, _) in enumerate(out) if n.lower() == "vary"), None)
            if vary is None:
                _add_missing(out, have, (("Vary", "Accept-Encoding"),))
            elif "accept-encoding" not in out[vary][1].lower():
                out[vary] = (out[vary][0], out[vary][1] + ", Accept-Encoding")
            wanted = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
            if wanted and len(body) >= MIN_COMPRESS_SIZE:
                body = compressed(body)
                _add_missing(out, have, (("Content-Encoding", "gzip"),))
                if etag is not None:
                    gzipped = etag[:-1] + '-gzip"'
                    out = [(n, gzipped if n.lower() == "etag" else v) for n, v in out]
    out.append(("Content-Length", str(len(body))))
    return out, body


def _preflight() -> Response | None:
    return cors.preflight(request.path, request.method, request.headers)


def request_line_length(environ: dict) -> int:
    """The length of the request line, as the client sent it where the server says."""
    target = len(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "") or (
        len(quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")))
        + len(environ.get("QUERY_STRING", ""))
        + 1
    )
    method = environ.get("REQUEST_METHOD", "")
    return len(method) + 1 + target + 1 + len(environ.get("SERVER_PROTOCOL", ""))


def _request_line_too_long() -> Response | None:
    """414 for a request line over the limit the Service Description states, whichever WSGI
    server runs: gunicorn refuses such lines itself, granian would accept them."""
    length = request_line_length(request.environ)
    if length <= MAX_REQUEST_LINE:
        return None
    response = Response(
        f"The request line is {length} bytes long; this server accepts at most "
        f"{MAX_REQUEST_LINE}. Send a long SPARQL query by POST (as the body with Content-Type "
        "application/sparql-query, or as a form).\n",
        414,
        mimetype="text/plain",
    )
    return security.harden(cors.allow_any_origin(response))


def _parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def init_app(app: Flask, version: str, released: str | None) -> None:
    """Puts every response of ``app`` through this layer.

    ``version`` goes into generated ETags; ``released`` (the release's creation time, ISO
    8601) bounds Last-Modified together with the moment the application was made.
    """
    started = datetime.now(UTC).replace(microsecond=0)
    app.config[VERSION_KEY] = version
    app.config[LAST_MODIFIED_KEY] = max(started, _parse_time(released)) if released else started
    app.before_request(_request_line_too_long)
    app.before_request(_preflight)
    app.after_request(_finish)
