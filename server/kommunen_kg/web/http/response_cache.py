"""Replaying whole answers to repeated requests, in front of the application (WSGI middleware).

WHY: a release never changes while a server serves it, so neither does the answer to a GET:
the same URL with the same negotiation headers gets the same bytes until the next release
(which starts new server processes). Portal widgets, crawlers and link checkers ask the same
things again and again; for them, routing, negotiation, query analysis and rendering are
work done twice. This layer keeps the complete answers (status, headers, body) of GET
requests and replays them without entering Flask, as a shared HTTP cache in front of the
server would, but inside each server process.

What makes two requests "the same" (the cache key), following RFC 9111:

* the URL as the application sees it: scheme, ``Host``, script root, path, query string, and
  the ``X-Forwarded-*`` headers a proxy may add;
* the request headers the answer varies on: every header its ``Vary`` names, and always
  ``Accept``, ``Accept-Language`` and ``Accept-Encoding`` (a view that forgot to say
  ``Vary`` must still not get another reader's language or encoding).

Only what an HTTP cache could store is kept: the answer to a plain GET (no conditions, no
``Range``), with a status an RFC 9111 cache may keep (200, 203, 300, 301, 303, 308, 410; errors
are ``no-store`` here anyway), a ``Cache-Control`` that allows shared caching (no
``no-store``, ``no-cache`` or ``private``), no ``Set-Cookie``, and a stated length of at most
``max_entry_bytes``; large streamed files (the dumps) pass through untouched. A HEAD is
answered from a kept GET; a conditional request (``If-None-Match``, ``If-Modified-Since``)
from the kept validators, with 304 when they match.
Memory is bounded: least recently used answers go first once ``max_bytes`` is reached. An
answer is kept the second time its URL is asked for (the answer cache's ``Doorkeeper``), so a
sweep of URLs asked once (a crawler, a cold benchmark) neither costs the keeping nor pushes out
the answers that are asked again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.http import is_resource_modified, parse_date

from kommunen_kg.sparql.answer_cache import Doorkeeper

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

CACHEABLE_STATUS = frozenset({200, 203, 300, 301, 303, 308, 410})
# Request headers every key holds, whatever the answer's Vary says.
ALWAYS_KEYED = ("HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE", "HTTP_ACCEPT_ENCODING")
# Headers a 304 repeats from the full answer (RFC 9110 15.4.5), and CORS, which browsers need.
NOT_MODIFIED_HEADERS = frozenset(
    {
        "cache-control",
        "content-location",
        "etag",
        "expires",
        "last-modified",
        "vary",
        "access-control-allow-origin",
        "access-control-expose-headers",
        "link",
    }
)
_URL_PARTS = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PREFIX",
)


@dataclass(frozen=True)
class Answer:
    """One kept answer: what ``start_response`` got, the body, and its validators."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    last_modified: str | None
    # The status and header fields in ASGI's form, made at the first replay on the front
    # (``replay_asgi``) and kept: encoding them again for every replay was a tenth of it.
    _asgi: list[tuple[int, list[tuple[bytes, bytes]]]] = field(
        default_factory=list, compare=False, repr=False
    )

    def asgi(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        if not self._asgi:
            self._asgi.append((int(self.status.split(" ", 1)[0]), asgi_fields(self.headers)))
        return self._asgi[0]


def asgi_fields(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header fields as ASGI gives them to the server: lower-case names, Latin-1 bytes."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _environ_name(header: str) -> str:
    return "HTTP_" + header.strip().upper().replace("-", "_")


def _storable(status: int, headers: list[tuple[str, str]]) -> tuple[int | None, str | None]:
    """The stated length of an answer that may be kept (None: it may not), and its Vary
    header, by an RFC 9111 shared cache's rules."""
    if status not in CACHEABLE_STATUS:
        return None, None
    vary = None
    length = None
    for name, value in headers:
        lower = name.lower()
        if lower == "cache-control":
            directives = value.lower()
            if any(d in directives for d in ("no-store", "no-cache", "private")):
                return None, None
        elif lower == "vary":
            if "*" in value:
                return None, None
            vary = value if vary is None else f"{vary}, {value}"
        elif lower == "set-cookie":
            return None, None
        elif lower == "content-length" and value.isdigit():
            length = int(value)
    return length, vary


def _keyed_headers(vary: str | None) -> tuple[str, ...]:
    """WSGI names of the request headers that select a variant: Vary's and ALWAYS_KEYED."""
    names = list(ALWAYS_KEYED)
    for header in (vary or "").split(","):
        if header.strip() and _environ_name(header) not in names:
            names.append(_environ_name(header))
    return tuple(names)


class ResponseCache:
    """WSGI middleware that replays kept answers; see the module docstring."""

    def __init__(
        self,
        app: WSGIApp,
        max_bytes: int = 32 * 1024 * 1024,
        max_entry_bytes: int = 1024 * 1024,
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        # URL -> the header-name tuples its variants are keyed by (almost always one), with
        # the number of kept answers under each, so that evicting the last one forgets it.
        self._keyings: dict[tuple, dict[tuple[str, ...], int]] = {}
        # (URL, header names, header values) -> answer, least recently used first.
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._doorkeeper = Doorkeeper()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _url(environ: dict[str, Any]) -> tuple:
        return tuple(environ.get(part) for part in _URL_PARTS)

    def _find(self, url: tuple, environ: dict[str, Any]) -> Answer | None:
        with self._lock:
            for names in self._keyings.get(url, ()):
                key = (url, names, tuple(environ.get(name) for name in names))
                answer = self._answers.get(key)
                if answer is not None:
                    self._answers.move_to_end(key)
                    self.hits += 1
                    return answer
        return None

    # -- the WSGI interface --

    def replay(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes] | None:
        """The kept answer to this request, or None; never blocks and never enters Flask, so
        that the asynchronous front (``front.py``) can call it on its event loop."""
        answer = self._kept(environ)
        if answer is None:
            return None
        head = environ["REQUEST_METHOD"] == "HEAD"
        return self._replay(answer, environ, start_response, head=head)

    def _kept(self, environ: dict[str, Any]) -> Answer | None:
        """The kept answer to a plain GET or HEAD, or None."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or "HTTP_RANGE" in environ:
            return None
        return self._find(self._url(environ), environ)

    def replay_asgi(
        self, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """``replay`` for the asynchronous front (``front.py``): status, header fields in
        ASGI's form, body; or None. The same answers by the same rules."""
        answer = self._kept(environ)
        if answer is None:
            return None
        method = environ["REQUEST_METHOD"]
        if self._conditional(environ):  # rare: the WSGI form, then encoded
            given: list = []
            body = self._replay(
                answer, environ, lambda s, h, e=None: given.extend((s, h)), method == "HEAD"
            )
            return int(given[0].split(" ", 1)[0]), asgi_fields(given[1]), b"".join(body)
        status, fields = answer.asgi()
        return status, fields, b"" if method == "HEAD" else answer.body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        replayed = self.replay(environ, start_response)
        if replayed is not None:
            return replayed
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or "HTTP_RANGE" in environ:
            return self.app(environ, start_response)
        url = self._url(environ)
        if method == "HEAD" or self._conditional(environ):
            # Kept only from a plain GET, whose answer is the full representation.
            return self.app(environ, start_response)
        if not self._doorkeeper.admit(url):
            return self.app(environ, start_response)  # asked for the first time: not kept
        return self._fetch(url, environ, start_response)

    @staticmethod
    def _conditional(environ: dict[str, Any]) -> bool:
        return "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ

    def _replay(
        self,
        answer: Answer,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        head: bool,
    ) -> Iterable[bytes]:
        if (
            self._conditional(environ)
            and answer.status.startswith("200")
            and (answer.etag or answer.last_modified)
            and not is_resource_modified(
                environ,
                etag=answer.etag,
                last_modified=parse_date(answer.last_modified) if answer.last_modified else None,
            )
        ):
            headers = [(k, v) for k, v in answer.headers if k.lower() in NOT_MODIFIED_HEADERS]
            start_response("304 Not Modified", headers)
            return []
        start_response(answer.status, list(answer.headers))
        return [] if head else [answer.body]

    def _fetch(
        self, url: tuple, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body_iter = self.app(environ, capture)
        status_line = captured.get("status")
        if status_line is None:  # the application starts its answer lazily: leave it alone
            return body_iter
        try:
            status = int(status_line.split(" ", 1)[0])
        except ValueError:
            return body_iter
        headers: list[tuple[str, str]] = captured["headers"]
        length, vary = _storable(status, headers)
        if length is None or length > self.max_entry_bytes:
            return body_iter
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        if len(body) == length:
            self._keep(
                url,
                environ,
                Answer(
                    status_line,
                    list(headers),
                    body,
                    _header(headers, "etag"),
                    _header(headers, "last-modified"),
                ),
                vary,
            )
        return [body]

    def keep_answer(
        self, environ: dict[str, Any], status_line: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Keeps the answer to a plain GET that was given without passing through this
        middleware (``web/endpoint/direct.py``), by the same rules as one that passed."""
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_RANGE" in environ:
            return
        if self._conditional(environ):
            return
        url = self._url(environ)
        if not self._doorkeeper.admit(url):
            return  # asked for the first time: not kept
        length, vary = _storable(int(status_line.split(" ", 1)[0]), headers)
        if length is None or length > self.max_entry_bytes or length != len(body):
            return
        etag, modified = _header(headers, "etag"), _header(headers, "last-modified")
        answer = Answer(status_line, list(headers), body, etag, modified)
        self._keep(url, environ, answer, vary)

    def _keep(self, url: tuple, environ: dict[str, Any], answer: Answer, vary: str | None) -> None:
        names = _keyed_headers(vary)
        key = (url, names, tuple(environ.get(name) for name in names))
        size = _footprint(answer)
        with self._lock:
            self.misses += 1
            if key in self._answers:
                return
            self._answers[key] = answer
            keyings = self._keyings.setdefault(url, {})
            keyings[names] = keyings.get(names, 0) + 1
            self._size += size
            while self._size > self.max_bytes and self._answers:
                (old_url, old_names, _values), old = self._answers.popitem(last=False)
                self._size -= _footprint(old)
                left = self._keyings[old_url]
                left[old_names] -= 1
                if not left[old_names]:
                    del left[old_names]
                    if not left:
                        del self._keyings[old_url]

    def stats(self) -> dict[str, int]:
        """Hits, misses, answers and bytes kept: for /health and tests."""
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "answers": len(self._answers),
                "bytes": self._size,
            }


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


def _footprint(answer: Answer) -> int:
    """Roughly the bytes an answer holds (body, headers, and the objects around them)."""
    return len(answer.body) + sum(len(k) + len(v) for k, v in answer.headers) + 256
