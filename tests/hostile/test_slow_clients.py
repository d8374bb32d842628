"""Slow and silent clients hold nothing: no request thread, no query worker, little memory.

The asynchronous front (web/http/front.py) reads bodies and writes answers on granian's event
loop, each within ``client_timeout`` (3 s here); Flask's threads only ever see whole requests.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from .clients import (
    LARGE,
    PAGE,
    SMALL,
    Target,
    ask_json,
    drain,
    post_form,
    rss_bytes,
    server_workers,
    status_line,
    status_line_arrived,
    timed_get,
    trickle_body,
    unread_request,
)
from .conftest import CLIENT_TIMEOUT, THREADS

pytestmark = pytest.mark.slow

# More clients than both server workers have threads together.
CROWD = 3 * THREADS


def test_clients_that_trickle_their_body_hold_no_request_thread(target: Target):
    outcomes: list[tuple[bytes, float]] = []
    clients = [
        threading.Thread(target=lambda: outcomes.append(trickle_body(target, 0.5, 10)))
        for _ in range(CROWD)
    ]
    for client in clients:
        client.start()
    time.sleep(1.0)  # every trickler has sent its headers and is sending its body
    probes = [timed_get(target.url + path) for path in ("health", PAGE) * 3]
    for client in clients:
        client.join(timeout=30)
    assert all(status == 200 and seconds < 2 for status, seconds in probes), probes
    assert len(outcomes) == CROWD
    for line, seconds in outcomes:
        assert line.startswith(b"HTTP/1.1 408"), line
        assert seconds < CLIENT_TIMEOUT + 2


def test_a_body_that_never_ends_is_refused_at_the_size_limit(target: Target):
    with socket.create_connection(target.address, timeout=5) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: hostile\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/sparql-query\r\n\r\n"
        )
        piece = b"%x\r\n%s\r\n" % (65536, b"#" * 65536)
        for _ in range(64):  # 4 MB at most, four times the limit
            try:
                sock.sendall(piece)
            except OSError:
                break
        assert status_line(sock, 5).startswith(b"HTTP/1.1 413")


def test_silent_connections_are_closed_within_the_client_timeout(target: Target):
    silent = [socket.create_connection(target.address, timeout=5) for _ in range(50)]
    try:
        status, seconds = timed_get(target.url + "health")
        assert status == 200 and seconds < 2
        started = time.monotonic()
        for sock in silent:
            _got, closed = drain(sock, CLIENT_TIMEOUT + 3 - (time.monotonic() - started))
            assert closed
        assert time.monotonic() - started < CLIENT_TIMEOUT + 3
    finally:
        for sock in silent:
            sock.close()


def test_unread_answers_hold_no_query_worker_and_little_server_memory(target: Target):
    workers = server_workers(target.pid)
    before = sum(rss_bytes(pid) for pid in workers)
    request = post_form("sparql", {"query": LARGE}, "application/sparql-results+xml")
    readers = [unread_request(target, request) for _ in range(16)]
    try:
        for sock in readers:  # every answer computed (or refused) and stuck in its socket
            assert status_line_arrived(sock, 10)
        held = sum(rss_bytes(pid) for pid in workers) - before
        # sixteen answers of 5 MB each, were they held: 85 MB
        assert held < 32 * 1024 * 1024, f"{held / 2**20:.0f} MB more"
        started = time.monotonic()
        assert ask_json(target, SMALL, timeout=5).status_code == 200
        assert time.monotonic() - started < 2
        time.sleep(CLIENT_TIMEOUT + 1)  # then a piece has waited longer than client_timeout
        for sock in readers:  # and the server has dropped the connection, answer unsent
            got, closed = drain(sock, 3)
            assert closed and got < 5 * 1024 * 1024
    finally:
        for sock in readers:
            sock.close()
    assert server_workers(target.pid) == workers  # none died on the way
