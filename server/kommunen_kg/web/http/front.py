"""The asynchronous front: the network is read and written without a request thread.

WHY: a WSGI application (Flask) reads the request body and writes the answer with blocking
calls; under a threaded WSGI server a client that trickles its body, or never reads its
answer, holds one of the few request threads for as long as it likes (16 such clients took
the site down). This front is an ASGI application in front of the WSGI one. granian runs it
on its event loop; the front

* reads the whole request body on the loop, within ``client_timeout`` seconds and at most
  ``max_body`` bytes (else 408 or 413), before a thread is involved;
* runs the WSGI application on a bounded pool of ``threads`` threads, with at most
  ``waiting_max`` requests waiting for one (else 503 with ``Retry-After``);
* writes the answer on the loop: a body of up to ``BUFFERED_BODY`` bytes as one piece, a
  file (a spooled query answer, a dump) by reading it here piece by piece, anything else by
  pulling pieces from the application on a thread one at a time. Each piece must be taken by
  the client within ``client_timeout`` seconds, else the connection is dropped; the server
  never holds more than a few pieces of an answer in memory per connection (granian's
  channel to the socket holds four).

So a slow or silent client costs a connection and a few hundred kilobytes, never a request
thread or a query worker. Own code rather than a2wsgi: that library runs the application on a
thread that also waits for the client to take each piece of the answer, which is exactly the
cost this front exists to remove.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from kommunen_kg.web.http.forms import percent_decoded
from kommunen_kg.web.http.response_cache import asgi_fields
from kommunen_kg.web.http.security import HEADERS as SECURITY_HEADERS

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

BUFFERED_BODY = 1024 * 1024  # answers up to this size are sent as one piece
PIECE = 64 * 1024  # the size of the pieces a file or a long answer is sent in
RETRY_AFTER_SECONDS = 5


class FileWrapper:
    """``wsgi.file_wrapper``: marks an answer that is a file, which the front then sends by
    reading it on the loop instead of iterating it on a thread (PEP 3333)."""

    def __init__(self, file: Any, block_size: int = PIECE):
        self.file = file
        self.block_size = block_size

    def __iter__(self) -> Iterator[bytes]:  # for WSGI middleware that iterates it anyway
        while True:
            piece = self.file.read(self.block_size)
            if not piece:
                return
            yield piece

    def close(self) -> None:
        close = getattr(self.file, "close", None)
        if close is not None:
            close()


class _Answer:
    """What the application answered: status, headers, the first bytes, and what follows."""

    __slots__ = ("body", "closer", "headers", "rest", "status")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.rest: FileWrapper | Iterator[bytes] | None = None
        self.closer: Callable[[], None] | None = None

    def start(self, status: str, headers: list[tuple[str, str]]) -> None:
        """What ``start_response`` got, in ASGI's form."""
        self.status = int(status.split(" ", 1)[0])
        self.headers = asgi_fields(headers)

    def close(self) -> None:
        closer, self.closer = self.closer, None
        if closer is not None:
            closer()


class ClientTooSlow(Exception):
    """The client did not take a piece of the answer within the time allowed."""


class AsyncFront:
    """An ASGI application that serves a WSGI application; see the module docstring."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        threads: int,
        max_body: int,
        client_timeout: float,
        waiting_max: int | None = None,
        retiring: Callable[[], bool] | None = None,
        access_log: TextIO | None = None,
        direct: Callable[[dict[str, Any]], Any] | None = None,
    ):
        self.app = app
        # Answers given without the application (web/endpoint/direct.py: SPARQL queries that
        # run in bounded time in this process): ``direct(environ)`` prepares one on the loop
        # (or says None); its ``answer()`` runs on the loop when it is ``now``, else on a
        # request thread, and may still say None (the application answers then).
        self.direct = direct
        # One line per answered request (see _log). WHY here and not granian's access log:
        # granian calls back into Python for every request and formats the line through the
        # logging module: 13.9 us per line in isolation against 1.7 us for this one, and in a
        # profile of a cold SPARQL load 11 % of a server worker's Python time. (Switching the
        # log off entirely moved a worker from 918 to 772 us of CPU per request in one run;
        # runs of this log against none were within this machine's noise, 825-1,136 us.)
        self.access_log = access_log
        self._stamp = (0, "")  # the second and its formatted time, reused within the second
        # Whether this worker is about to be replaced (web/live.py: its release is no longer
        # the current one). Its answers then end their connection (``Connection: close``), so
        # that a client's next request goes over a new connection to a current worker instead
        # of holding this one open: a kept-alive connection can keep a stopping worker alive,
        # and a POST sent on it as the worker stops could not be sent again.
        self.retiring = retiring
        # A WSGI middleware that can answer some requests without blocking (the response
        # cache) offers ``replay_asgi``: those answers are given on the loop, without a thread.
        self.replay: Callable[[dict[str, Any]], tuple[int, list, bytes] | None] | None = getattr(
            app, "replay_asgi", None
        )
        self.threads = threads
        self.max_body = max_body
        self.client_timeout = client_timeout
        self.waiting_max = waiting_max if waiting_max is not None else max(64, 4 * threads)
        self._executor: ThreadPoolExecutor | None = None
        self._pending = 0  # requests waiting for a thread or running on one

    def _threads(self) -> ThreadPoolExecutor:
        # Made in the process that serves (granian forks its workers from the one that built
        # this object): threads do not survive a fork.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="kkg-request")
        return self._executor

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        # websockets: not served; returning without accepting closes the connection

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._threads()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._executor is not None:
                    self._executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if self.access_log is None:
            await self._serve(scope, receive, send)
            return
        started = time.time()
        sent = [0, 0]  # status, bytes of the body

        async def logged(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent[0] = message["status"]
            else:
                sent[1] += len(message.get("body", b""))
            await send(message)

        try:
            await self._serve(scope, receive, logged)
        finally:
            self._log(scope, sent[0], sent[1], started)

    def _log(self, scope: dict[str, Any], status: int, size: int, started: float) -> None:
        """One line in the Common Log Format, with the time taken: ``127.0.0.1 - -
        [06/Dec/2026:00:12:01 +0000] "GET /sparql?query=... HTTP/1.1" 200 2816 1.234ms``
        (status 0: the client left before an answer began)."""
        second = int(started)
        if second != self._stamp[0]:
            when = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
            self._stamp = (second, when)
        client = scope.get("client") or ("-", 0)
        query = scope.get("query_string", b"")
        target = scope.get("raw_path") or scope["path"].encode("utf-8")
        if query:
            target += b"?" + query
        line = (
            f'{client[0]} - - [{self._stamp[1]}] "{scope["method"]} '
            f'{target.decode("latin-1")} HTTP/{scope.get("http_version", "1.1")}" '
            f"{status} {size} {(time.time() - started) * 1000:.3f}ms\n"
        )
        with contextlib.suppress(OSError, ValueError):  # a closed or full log is no error
            self.access_log.write(line)

    async def _serve(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        environ = self._environ(scope)
        declared = environ.get("CONTENT_LENGTH", "")
        if declared and not declared.isdigit():
            await _plain(send, 400, "Content-Length is not a number.")
            return
        if declared and int(declared) > self.max_body:
            # Not read at all; the application says why in its own words (its 413).
            environ["wsgi.input"] = io.BytesIO(b"")
        elif (
            not declared
            and environ["REQUEST_METHOD"] in ("GET", "HEAD")
            and "HTTP_TRANSFER_ENCODING" not in environ
        ):
            environ["wsgi.input"] = io.BytesIO(b"")  # no body: nothing to wait for
        else:
            body = await self._read_body(receive, send)
            if body is None:
                return
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        if self.replay is not None:
            replayed = self._replayed(environ)
            if replayed is not None:
                await self._send_answer(replayed, send)
                return
        prepared = self._prepared(environ) if self.direct is not None else None
        if prepared is not None and prepared.now:
            direct = self._direct(prepared, environ)
            if direct is not None:
                with contextlib.suppress(ClientTooSlow, OSError):
                    await self._send_answer(direct, send)
                return
            prepared = None
        if self._pending >= self.waiting_max:
            await _plain(
                send,
                503,
                "The server is busy; please try again in a few seconds.",
                [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())],
            )
            return
        # Taken here, not for every request: on Python 3.11 each call asks the kernel for the
        # process id (a fork check), and an answer given on the loop above needs no loop.
        loop = asyncio.get_running_loop()
        self._pending += 1
        try:
            answer = None
            if prepared is not None:
                answer = await loop.run_in_executor(
                    self._threads(), self._direct, prepared, environ
                )
            if answer is None:
                answer = await loop.run_in_executor(self._threads(), self._call, environ)
        finally:
            self._pending -= 1
        try:
            await self._send_answer(answer, send)
        except (ClientTooSlow, OSError):
            pass  # the connection is dropped; nothing more is owed to this client
        finally:
            if answer.closer is not None:
                await loop.run_in_executor(None, answer.close)

    async def _read_body(self, receive: Receive, send: Send) -> bytes | None:
        """The whole request body, or None when an error was answered or the client left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.client_timeout
        pieces: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), remaining)
            except TimeoutError:
                await _plain(
                    send,
                    408,
                    f"The request body did not arrive within {self.client_timeout:g} s.",
                )
                return None
            if message["type"] != "http.request":
                return None  # http.disconnect: the client is gone
            piece = message.get("body", b"")
            size += len(piece)
            if size > self.max_body:
                await _plain(
                    send,
                    413,
                    f"The request body is larger than the limit of {self.max_body} bytes.",
                )
                return None
            if piece:
                pieces.append(piece)
            if not message.get("more_body", False):
                return b"".join(pieces)

    def _environ(self, scope: dict[str, Any]) -> dict[str, Any]:
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = percent_decoded(raw_path).decode("latin-1")
        query = scope.get("query_string", b"")
        server = scope.get("server") or ("127.0.0.1", 80)
        client = scope.get("client") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"],
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query.decode("latin-1"),
            "REQUEST_URI": raw_path.decode("latin-1")
            + ("?" + query.decode("latin-1") if query else ""),
            "SERVER_NAME": str(server[0]),
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": str(client[0]),
            "REMOTE_PORT": str(client[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
        }
        for raw_name, raw_value in scope.get("headers", ()):
            name = raw_name.decode("latin-1").upper().replace("-", "_")
            value = raw_value.decode("latin-1")
            key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name
            if key in environ:
                separator = "; " if key == "HTTP_COOKIE" else ","
                environ[key] = environ[key] + separator + value
            else:
                environ[key] = value
        return environ

    def _replayed(self, environ: dict[str, Any]) -> _Answer | None:
        """A kept answer, taken on the loop (see ``replay_asgi``), or None."""
        assert self.replay is not None
        kept = self.replay(environ)
        if kept is None:
            return None
        answer = _Answer()
        answer.status, answer.headers, answer.body = kept
        return answer

    def _prepared(self, environ: dict[str, Any]) -> Any:
        """What ``direct`` prepares for this request on the loop, or None."""
        assert self.direct is not None
        try:
            return self.direct(environ)
        except Exception:  # a defect there must not cost the answer: the application answers
            log.exception("Preparing a direct answer failed; the application answers instead")
            environ["wsgi.input"].seek(0)
            return None

    def _direct(self, prepared: Any, environ: dict[str, Any]) -> _Answer | None:
        """The prepared answer (on the loop or a request thread), or None."""
        try:
            given = prepared.answer()
        except Exception:
            log.exception("A direct answer failed; the application answers instead")
            given = None
        if given is None:
            environ["wsgi.input"].seek(0)
            return None
        answer = _Answer()
        answer.start(*given[:2])
        answer.body = given[2]
        return answer

    def _call(self, environ: dict[str, Any]) -> _Answer:
        """Runs the application on a request thread, up to its first ``BUFFERED_BODY`` bytes."""
        answer = _Answer()
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            if exc_info is not None and answer.headers:
                raise exc_info[1].with_traceback(exc_info[2])
            answer.start(status, headers)
            return written.append

        result = self.app(environ, start_response)
        if isinstance(result, FileWrapper):
            answer.body = b"".join(written)
            answer.rest = result
            answer.closer = result.close
            return answer
        closer = getattr(result, "close", None)
        pieces = written
        size = sum(map(len, pieces))
        iterator = iter(result)
        try:
            for piece in iterator:
                if piece:
                    pieces.append(piece)
                    size += len(piece)
                if size >= BUFFERED_BODY:
                    answer.body = b"".join(pieces)
                    answer.rest = iterator
                    answer.closer = closer
                    closer = None
                    return answer
        finally:
            if closer is not None:
                closer()
        answer.body = b"".join(pieces)
        return answer

    async def _send_answer(self, answer: _Answer, send: Send) -> None:
        headers = answer.headers
        if self.retiring is not None and self.retiring():
            headers = [*headers, (b"connection", b"close")]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        rest = answer.rest
        if rest is None:
            # One piece: granian takes it whole and never makes us wait (no timer needed).
            await send({"type": "http.response.body", "body": answer.body})
            return
        loop = asyncio.get_running_loop()
        if answer.body:
            await self._timed(
                send({"type": "http.response.body", "body": answer.body, "more_body": True})
            )
        while True:
            if isinstance(rest, FileWrapper):
                piece = rest.file.read(rest.block_size)  # a local file: fast, no thread needed
            else:
                piece = await loop.run_in_executor(None, next, rest, b"")
            if not piece:
                break
            message = {"type": "http.response.body", "body": piece, "more_body": True}
            await self._timed(send(message))
        await self._timed(send({"type": "http.response.body", "body": b""}))

    async def _timed(self, sending: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(sending, self.client_timeout)
        except TimeoutError:
            raise ClientTooSlow from None


async def _plain(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """An answer of the front itself, as plain text with the site's security headers."""
    body = (message + "\n").encode("utf-8")
    head = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
        *((name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()),
        *(headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
