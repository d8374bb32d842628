"""What hostile and careless clients do, as plain sockets; and what the server's processes hold.

Every loop here is bounded (a number of rounds or a deadline), and every address is loopback.
"""

from __future__ import annotations

import contextlib
import socket
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import requests

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SMALL = "SELECT ?p ?o WHERE { <https://w3id.org/kommunen-innovativ/id/project/lebenswert> ?p ?o }"
# 10,000 rows of six terms: about 5 MB as SPARQL XML.
LARGE = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 10000"
PAGE = "page/project/lebenswert"


@dataclass(frozen=True)
class Target:
    """A running server: its root URL, the pid of its master process, and how it answers."""

    url: str
    pid: int
    mode: str  # "embedded" (query pool over the loaded release) or "store" (Oxigraph server)

    @property
    def address(self) -> tuple[str, int]:
        parts = urllib.parse.urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80


def timed_get(url: str, **kwargs) -> tuple[int | str, float]:
    """Status (or the exception's name) and seconds of one GET, never waiting beyond 10 s."""
    started = time.monotonic()
    try:
        status: int | str = requests.get(url, timeout=10, **kwargs).status_code
    except requests.RequestException as exc:
        status = type(exc).__name__
    return status, time.monotonic() - started


def ask_json(target: Target, query: str, timeout: float = 30) -> requests.Response:
    return requests.post(
        target.url + "sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=timeout,
    )


def status_line(sock: socket.socket, wait: float) -> bytes:
    """The first line the server sends within ``wait`` seconds (b"" when it closes first)."""
    sock.settimeout(wait)
    received = b""
    with contextlib.suppress(OSError):
        while b"\r\n" not in received:
            piece = sock.recv(4096)
            if not piece:
                break
            received += piece
    return received.split(b"\r\n", 1)[0]


def status_line_arrived(sock: socket.socket, wait: float) -> bool:
    """Whether the server has begun its answer within ``wait`` seconds (nothing is read)."""
    sock.settimeout(wait)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except OSError:
        return False


def trickle_body(target: Target, every: float, most: float) -> tuple[bytes, float]:
    """A POST announcing 200 bytes of body that sends one byte every ``every`` seconds, for at
    most ``most`` seconds; returns the server's status line and when it came."""
    started = time.monotonic()
    with socket.create_connection(target.address, timeout=5) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: hostile\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"
        )
        while time.monotonic() - started < most:
            try:
                sock.sendall(b"q")
            except OSError:
                break  # the server closed the connection
            sock.settimeout(every)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break  # the server answered
            except TimeoutError:
                continue
            except OSError:
                break
        return status_line(sock, 5), time.monotonic() - started


def unread_request(target: Target, request: bytes) -> socket.socket:
    """A connection that sends ``request`` and then never reads (a tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(target.address)
    sock.sendall(request)
    return sock


def post_form(path: str, fields: dict[str, str], accept: str) -> bytes:
    body = urllib.parse.urlencode(fields).encode()
    return (
        f"POST /{path} HTTP/1.1\r\nHost: hostile\r\nAccept: {accept}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def drain(sock: socket.socket, wait: float) -> tuple[int, bool]:
    """Reads what the server still sends within ``wait`` seconds: (bytes, closed by it)."""
    deadline = time.monotonic() + wait
    got = 0
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            piece = sock.recv(1 << 20)
        except TimeoutError:
            return got, False
        except OSError:
            return got, True
        if not piece:
            return got, True
        got += len(piece)
    return got, False


# --- the server's processes, through /proc ------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def server_workers(master: int) -> list[int]:
    """The HTTP worker processes of a serve master (not its query pool's processes)."""
    return sorted(p for p in _children(master) if not comm(p).startswith("kkg-"))


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def zombies_under(pid: int) -> list[int]:
    """Descendants of ``pid`` that have ended and not been reaped."""
    out = []
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state == "Z":
                out.append(child)
    return out
