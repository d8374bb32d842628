"""Helpers of the SPARQL endpoint tests: servers with other limits, and a listener that counts.

``serve_with`` starts the real application over the same store as the session's publication,
with other server settings (a small result limit, an allow-list, ...); ``serve_with_pool`` does
the same with client queries in a query pool, as ``kommunen-kg serve`` runs them. ``Listener``
is a plain TCP socket on a loopback port that records every connection made to it, to prove
that a query made none.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import requests

from kommunen_kg.sparql.engine import ClientEngine, EmbeddedEngine
from kommunen_kg.sparql.engines import Engines, over_store
from kommunen_kg.sparql.pool import QueryPool
from kommunen_kg.web.publication import Publication

from .support import free_port, server_in_thread, stop


def _oxigraph_command() -> str | None:
    beside_python = Path(sys.executable).parent / "oxigraph"
    return str(beside_python) if beside_python.exists() else shutil.which("oxigraph")


# Oxigraph server (PyPI: oxigraph, in the test extras) as a SPARQL store on loopback.
OXIGRAPH = _oxigraph_command()
REMOTE_TIMEOUT_S = 2  # the store's own time limit (oxigraph serve --timeout-s)


def publication_with(
    publication: Publication, engine: ClientEngine | None = None, **server: object
) -> Publication:
    """The same store and release with other ``[server]`` settings, and optionally another
    engine for client queries (no answers kept then: the test wants that engine's answers)."""
    config = replace(publication.config, server=replace(publication.config.server, **server))
    union = config.server.union_default_graph
    engines = None
    if engine is not None:
        engines = Engines(engine, EmbeddedEngine(publication.store, union))
    return Publication(
        config=config,
        store=publication.store,
        release=publication.release,
        union_default_graph=union,
        engines=engines,
    )


@contextlib.contextmanager
def serve_with(
    publication: Publication, engine: ClientEngine | None = None, **server: object
) -> Iterator[str]:
    from kommunen_kg.web.app import create_app

    with server_in_thread(create_app(publication_with(publication, engine, **server))) as url:
        yield url


@contextlib.contextmanager
def serve_with_pool(publication: Publication, **server: object) -> Iterator[tuple[str, QueryPool]]:
    """Like :func:`serve_with`, with a started query pool as the engine: a query that crashed
    the engine would kill a worker process, not the test run."""
    config = publication_with(publication, **server).config
    engines = over_store(
        publication.store,
        publication.version,
        config.server,
        union_default_graph=config.server.union_default_graph,
        pooled=True,
        answer_cache=False,
    )
    pool = engines.pool
    assert pool is not None
    pool.start()
    try:
        with serve_with(publication, engine=pool, **server) as url:
            yield url, pool
    finally:
        engines.close()


class Listener:
    """A TCP listener on 127.0.0.1 that accepts and records connections until closed."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def settle(self, seconds: float = 0.5) -> None:
        """Waits a moment, so that a connection on its way is counted."""
        time.sleep(seconds)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.socket.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def oxigraph_serve(location: Path | None) -> Iterator[str]:
    """``oxigraph serve`` on a free loopback port; yields its query endpoint URL."""
    port = free_port()
    command = [
        OXIGRAPH,
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout-s",
        str(REMOTE_TIMEOUT_S),
    ]
    if location is not None:
        command += ["--location", str(location)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    root = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"oxigraph serve exited with {process.returncode}")
            try:
                if requests.get(root, timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("oxigraph serve did not come up within 30 s")
            time.sleep(0.1)
        yield root + "query"
    finally:
        stop(process, grace=10, how=signal.SIGTERM)
