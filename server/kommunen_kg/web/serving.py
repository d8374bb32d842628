"""Running the application under a production WSGI server: granian (default) or gunicorn.

Both are pre-forking: the publication (and with it the store) is loaded once in the master
process, before the workers are forked, so the workers share the store's memory copy-on-write
and a worker that has to be replaced starts in milliseconds. Each worker serves several
requests at once on threads (pyoxigraph releases the GIL while it evaluates a query).

Why granian by default: measured side by side (bench/README.md), a bare Flask app answers
about 2.6 times as many requests under granian (its HTTP layer is Rust) as under gunicorn's
threaded workers on the same 2 cores, and the answers kommunen-kg replays from its caches
are bound by exactly that layer. gunicorn stays available (``--server gunicorn``) for
deployments that know it; docs/scaling.md shows both.

The two servers get the same hooks: ``on_ready`` once the socket listens, ``post_fork`` in each
worker while it is still single-threaded (the query pool forks its zygote there),
``worker_exit`` as a worker stops.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from kommunen_kg.web.app import DIRECT_KEY
from kommunen_kg.web.http.front import AsyncFront
from kommunen_kg.web.http.layer import MAX_REQUEST_LINE

log = logging.getLogger(__name__)

SERVERS = ("granian", "gunicorn")
# Request threads of each server process that never wait for a query worker: at most
# threads - RESERVED_THREADS requests are in the query pool at once (QueryPool.limit_requests),
# the next get 503 at once, and pages, /health and cached answers always find a thread.
RESERVED_THREADS = 2


class _Gunicorn(BaseApplication):
    """Gunicorn driven from Python instead of its own command line."""

    def __init__(self, app: Any, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key == "control_socket_disable" and key not in self.cfg.settings:
                continue  # older gunicorn (23) has no control socket
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def run_gunicorn(
    app: Flask | Callable[[], Flask],
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: float,
    on_ready: Callable[[], None] | None = None,
    post_fork: Callable[[], None] | None = None,
    access_log: bool = True,
    worker_exit: Callable[[], None] | None = None,
    on_reload: Callable[[], None] | None = None,
    reload_with: Callable[[Callable[[], None]], None] | None = None,
) -> None:
    """Serves ``app`` until SIGINT/SIGTERM; ``on_ready`` runs once the socket is listening.

    ``post_fork`` runs in each worker right after the fork, while it is still single-threaded
    (the query pool forks its zygote there); ``worker_exit`` runs in each worker as it stops.
    ``app`` may be a function that returns the application: each worker serves what it
    returns in that worker (the application the main process held when it forked it). On
    SIGHUP gunicorn runs ``on_reload`` in its main process and then replaces the workers,
    gracefully (``web/live.py`` switches releases this way); ``reload_with`` is told how to
    ask for that from a thread of the main process (a SIGHUP to itself).
    """
    if not isinstance(app, Flask) and callable(app):
        application = app

        def app(environ, start_response):  # type: ignore[no-redef]
            return application()(environ, start_response)

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": True,
        # gunicorn kills a worker that stops answering; give queries their own time limit first
        "timeout": int(timeout) + 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": MAX_REQUEST_LINE,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "kommunen-kg",
        "when_ready": (lambda _server: on_ready()) if on_ready else None,
        "post_fork": (lambda _server, _worker: post_fork()) if post_fork else None,
        "worker_exit": (lambda _server, _worker: worker_exit()) if worker_exit else None,
        "on_reload": (lambda _server: on_reload()) if on_reload else None,
        # No control-socket thread in the master: it stays single-threaded, so every worker it
        # forks (also a replacement) starts without locks held by other threads; and servers
        # side by side do not share the one default socket path.
        "control_socket_disable": True,
    }
    if reload_with is not None:
        # To the main thread itself, so that its wait in the arbiter's loop ends at once.
        main = threading.main_thread().ident
        reload_with(lambda: signal.pthread_kill(main, signal.SIGHUP))
    _Gunicorn(app, options).run()


def run_granian(
    app: Flask | Callable[[], Flask],
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: float,
    on_ready: Callable[[], None] | None = None,
    post_fork: Callable[[], None] | None = None,
    access_log: bool = True,
    worker_exit: Callable[[], None] | None = None,
    max_body: int = 1048576,
    client_timeout: float = 20.0,
    on_reload: Callable[[], None] | None = None,
    reload_with: Callable[[Callable[[], None]], None] | None = None,
    retiring: Callable[[], bool] | None = None,
) -> None:
    """Serves ``app`` under granian until SIGINT/SIGTERM; the arguments as for gunicorn.

    ``app`` may be a function that returns the application: each worker, also one forked
    later, serves what it returns at its fork. On SIGHUP granian runs ``on_reload`` in this
    process and then replaces the workers one by one, gracefully (``web/live.py`` switches
    releases this way); a worker for which ``retiring`` says True asks clients to close their
    connections, so that they move to the new workers.

    The application runs behind the asynchronous front (``web/http/front.py``) on granian's
    ASGI interface: request bodies (at most ``max_body`` bytes) and answers travel on the event
    loop, each piece within ``client_timeout`` seconds, and ``threads`` threads per worker run
    Flask, so that no slow or silent client holds a thread.

    granian forks its workers from this process (the ``fork`` start method, Linux's default),
    so they share the loaded store as gunicorn's preloaded workers do; the loader that hands
    each worker the application runs ``post_fork`` first. A worker that dies (killed, or
    crashed) is started again, as gunicorn's arbiter does.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    if multiprocessing.get_start_method() != "fork":  # pragma: no cover - not Linux
        raise RuntimeError("granian workers must be forked to share the loaded store")

    application = app if not isinstance(app, Flask) and callable(app) else (lambda: app)

    def load() -> AsyncFront:
        flask_app = application()
        front = AsyncFront(
            flask_app.wsgi_app,  # type: ignore[union-attr]
            direct=flask_app.extensions.get(DIRECT_KEY),  # type: ignore[union-attr]
            threads=threads,
            max_body=max_body,
            client_timeout=client_timeout,
            retiring=retiring,
            access_log=sys.stderr if access_log else None,
        )
        if post_fork is not None:
            post_fork()
        if worker_exit is not None:
            # Worker processes end through multiprocessing, which runs its finalizers (not
            # atexit handlers) on the way out.
            from multiprocessing import util

            util.Finalize(None, worker_exit, exitpriority=10)
        return front

    server = Server(
        "kommunen_kg",  # only a label: the loader hands over the application itself
        address=host,
        port=port,
        interface=Interfaces.ASGINL,  # the front has nothing to do at start-up or shut-down
        # HTTP/1.1 only: telling it from HTTP/2 waits for a first byte without a time limit
        http=HTTPModes.http1,
        workers=workers,
        backlog=1024,
        # a request line and headers that have begun must be complete within client_timeout
        http1_settings=HTTP1Settings(
            keep_alive=True, header_read_timeout=max(int(client_timeout * 1000), 1000)
        ),
        log_enabled=True,
        log_level=LogLevels.warning,
        log_access=False,  # the front writes the access log (web/http/front.py)
        respawn_failed_workers=True,
        respawn_interval=0.5,
        workers_kill_timeout=max(int(timeout), 1) + 5,
    )
    # granian warns when a worker has more Python threads than 2 x cores + 1; ours mostly wait
    # for a query process (sparql/pool.py), so more of them than cores is what we want.
    logging.getLogger("_granian").addFilter(
        lambda record: "Python threads" not in record.getMessage()
    )
    if on_ready is not None:
        server.on_startup(on_ready)
    if on_reload is not None:
        server.on_reload(on_reload)
    if reload_with is not None:  # how to ask for a reload from a thread (what SIGHUP does)
        reload_with(server.signal_handler_reload)
    server.serve(target_loader=load, wrap_loader=False)
