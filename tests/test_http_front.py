"""The asynchronous front (web/http/front.py), driven as an ASGI server drives it.

These tests call the front with the ASGI ``receive`` and ``send`` of a scripted client: what
the WSGI application sees, and what the client gets when it is slow, silent or never reads.
The same attacks against a real granian are in tests/hostile/.
"""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kommunen_kg.web.http.front import AsyncFront, FileWrapper


def scope(path: str = "/", method: str = "GET", query: bytes = b"", headers=(), raw=None):
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw if raw is not None else path.encode(),
        "query_string": query,
        "headers": [(k.encode(), v.encode()) for k, v in headers],
        "server": ("127.0.0.1", 8080),
        "client": ("127.0.0.1", 50000),
    }


class Client:
    """The client side of one exchange: the body it sends, and what it receives."""

    def __init__(self, pieces: list[bytes] | None = None, stall: float = 0.0, reads: bool = True):
        self.pieces = list(pieces or [b""])
        self.stall = stall  # seconds before each further piece of the body
        self.reads = reads  # False: never takes a piece of the answer
        self.messages: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if len(self.pieces) > 1 or self.stall:
            await asyncio.sleep(self.stall)
        piece = self.pieces.pop(0) if self.pieces else b""
        return {"type": "http.request", "body": piece, "more_body": bool(self.pieces)}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("more_body") and not self.reads:
            await asyncio.sleep(3600)
        self.messages.append(message)

    @property
    def status(self) -> int:
        return self.messages[0]["status"]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def run(coroutine) -> None:
    """Runs ``coroutine`` on a new event loop of its own thread: another test's loop (the
    browser driver's) may be running in this one."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, coroutine).result()


def exchange(front: AsyncFront, client: Client, **kwargs) -> Client:
    run(front(scope(**kwargs), client.receive, client.send))
    return client


def echo_app(seen: list):
    def app(environ, start_response):
        seen.append(environ)
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body or environ["PATH_INFO"].encode("latin-1")]

    return app


def front_for(app, **kwargs) -> AsyncFront:
    options = {"threads": 2, "max_body": 1000, "client_timeout": 0.5, **kwargs}
    return AsyncFront(app, **options)


def test_the_application_sees_the_path_as_its_raw_bytes_decoded_latin_1():
    seen: list = []
    exchange(front_for(echo_app(seen)), Client(), path="/x", raw=b"/%5Cevil/%C3%A4/%FF")
    assert seen[0]["PATH_INFO"] == "/\\evil/\xc3\xa4/\xff"  # as PEP 3333 and granian's WSGI
    assert seen[0]["REQUEST_URI"] == "/%5Cevil/%C3%A4/%FF"


def test_headers_become_cgi_names_and_repeated_ones_are_joined():
    seen: list = []
    headers = [("Accept", "a"), ("accept", "b"), ("Content-Type", "text/x"), ("X-A-B", "1")]
    exchange(front_for(echo_app(seen)), Client(), headers=headers, query=b"q=1")
    environ = seen[0]
    assert environ["HTTP_ACCEPT"] == "a,b"
    assert environ["CONTENT_TYPE"] == "text/x" and "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_X_A_B"] == "1" and environ["QUERY_STRING"] == "q=1"


def test_a_body_in_pieces_reaches_the_application_whole():
    seen: list = []
    client = exchange(front_for(echo_app(seen)), Client([b"ab", b"cd", b"e"]), method="POST")
    assert client.status == 200 and client.body == b"abcde"
    assert seen[0]["CONTENT_LENGTH"] == "5"


def test_a_body_that_stalls_past_the_client_timeout_is_a_408_and_never_reaches_a_thread():
    seen: list = []
    client = Client([b"a", b"b", b"c"], stall=0.4)
    exchange(front_for(echo_app(seen)), client, method="POST")
    assert client.status == 408 and seen == []


def test_a_body_beyond_max_body_is_a_413_without_reading_the_rest():
    seen: list = []
    client = Client([b"x" * 600, b"x" * 600, b"x" * 600])
    exchange(front_for(echo_app(seen)), client, method="POST")
    assert client.status == 413 and seen == [] and len(client.pieces) == 1


def test_a_declared_length_beyond_max_body_is_left_to_the_application_to_refuse():
    seen: list = []
    headers = [("Content-Length", "5000")]
    exchange(front_for(echo_app(seen)), Client(), method="POST", headers=headers)
    assert seen[0]["CONTENT_LENGTH"] == "5000" and seen[0]["wsgi.input"].read() == b""


def test_a_file_answer_is_sent_in_pieces_and_closed():
    data = bytes(range(256)) * 1000
    handle = io.BytesIO(data)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(len(data)))])
        return environ["wsgi.file_wrapper"](handle, 4096)

    client = exchange(front_for(app), Client())
    assert client.body == data and handle.closed
    assert len(client.messages) > 60  # pieces, not one copy of the whole file


def test_an_answer_the_client_never_takes_is_dropped_after_the_client_timeout():
    handle = io.BytesIO(b"y" * (3 * 1024 * 1024))

    def app(environ, start_response):
        start_response("200 OK", [])
        return FileWrapper(handle)

    client = Client(reads=False)
    run(asyncio.wait_for(front_for(app)(scope(), client.receive, client.send), 5))
    assert handle.closed


def test_a_kept_answer_is_replayed_on_the_loop_without_a_thread():
    calls: list = []

    class Cache:
        def __call__(self, environ, start_response):
            calls.append("app")
            start_response("200 OK", [])
            return [b"computed"]

        def replay_asgi(self, environ):
            return 200, [(b"etag", b'"k"')], b"kept"

    front = front_for(Cache())
    client = exchange(front, Client())
    assert client.body == b"kept" and calls == [] and front._executor is None


@pytest.mark.parametrize("pending", [0, 1])
def test_requests_beyond_the_waiting_limit_get_503_with_retry_after(pending):
    seen: list = []
    front = front_for(echo_app(seen), waiting_max=1)
    front._pending = pending
    client = exchange(front, Client())
    if pending:
        assert client.status == 503 and seen == []
        assert (b"retry-after", b"5") in client.messages[0]["headers"]
    else:
        assert client.status == 200


def test_a_retiring_worker_asks_the_client_to_close_the_connection():
    retiring = [False]
    front = front_for(echo_app([]), retiring=lambda: retiring[0])
    before = exchange(front, Client()).messages[0]["headers"]
    retiring[0] = True
    after = exchange(front, Client()).messages[0]["headers"]
    assert (b"connection", b"close") not in before
    assert (b"connection", b"close") in after
