"""Running the application under a production WSGI server (gunicorn).

The publication (and with it the store) is loaded once in the master process, before gunicorn
forks its workers (``preload_app``), so the workers share the store's memory copy-on-write and a
worker that has to be replaced starts in milliseconds. Each worker serves several requests at
once on threads (pyoxigraph releases the GIL while it evaluates a query).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

# The longest request line gunicorn allows short of "unlimited" (it answers 414 beyond): GET
# queries up to about 8 KB of URL; longer queries go by POST, as the service description says.
MAX_REQUEST_LINE = 8190


class _Gunicorn(BaseApplication):
    """Gunicorn driven from Python instead of its own command line."""

    def __init__(self, app: Flask, options: dict[str, Any]):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key == "control_socket_disable" and key not in self.cfg.settings:
                continue  # older gunicorn (23) has no control socket
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run_gunicorn(
    app: Flask,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: float,
    on_ready: Callable[[], None] | None = None,
    post_fork: Callable[[], None] | None = None,
    access_log: bool = True,
    worker_exit: Callable[[], None] | None = None,
) -> None:
    """Serves ``app`` until SIGINT/SIGTERM; ``on_ready`` runs once the socket is listening.

    ``post_fork`` runs in each worker right after the fork, while it is still single-threaded
    (the query pool forks its zygote there); ``worker_exit`` runs in each worker as it stops.
    """
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
        # No control-socket thread in the master: it stays single-threaded, so every worker it
        # forks (also a replacement) starts without locks held by other threads; and servers
        # side by side do not share the one default socket path.
        "control_socket_disable": True,
    }
    _Gunicorn(app, options).run()
