"""The servers under test, each started on loopback the way its users start it.

- ``kommunen-kg``: production mode, ``kommunen-kg serve --graphs DIR --no-build --workers N``
  (granian or gunicorn, pre-forked workers over one loaded release).
- ``oxigraph-mem``: ``oxigraph serve`` without ``--location`` (in memory), then the release's
  TriG files POSTed to its Graph Store (``/store``); ready when the POST has finished.
- ``oxigraph-disk``: ``oxigraph load --location`` (timed: the ready-time yardstick), then
  ``oxigraph serve-read-only --location``.
- ``rdflib-endpoint``: its CLI, ``rdflib-endpoint serve FILES`` (rdflib parses, FastAPI under
  uvicorn answers).
- baselines for the HTTP stack: nginx serving the same answer bytes as static files (the
  ceiling), and a bare Flask app returning a fixed body under gunicorn (sync and gthread) and
  granian.

All of them serve the same TriG files of the release (every named graph, plus the release's
metadata), with the union of the named graphs as the default graph, so the same query sees
the same data everywhere.
"""

from __future__ import annotations

import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import procs

ROOT = Path(__file__).resolve().parent.parent
PROBE = "ASK { ?s ?p ?o }"


@dataclass
class Running:
    """A started server: where it answers and what starting it cost."""

    name: str
    base_url: str
    sparql_path: str | None
    process: object
    ready_s: float
    load_s: float | None = None
    notes: list[str] = field(default_factory=list)
    extra: list = field(default_factory=list)  # further processes to stop (none so far)

    def memory(self) -> procs.Memory:
        return procs.memory(self.process.pid)  # type: ignore[attr-defined]

    def stop(self) -> None:
        procs.stop(self.process)  # type: ignore[arg-type]


def http_get(url: str, accept: str = "*/*", timeout: float = 30.0) -> tuple[int, dict, bytes]:
    """One GET that does not follow redirects: (status, headers, body)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read() if exc.fp else b""


def sparql_ok(base_url: str, path: str, timeout: float = 5.0) -> bool:
    url = f"{base_url.rstrip('/')}{path}?query={urllib.parse.quote(PROBE)}"
    status, _, _ = http_get(url, "application/sparql-results+json", timeout)
    return status == 200


def _which(name: str) -> str | None:
    """A command from the running interpreter's environment first, then from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def available() -> dict[str, str | None]:
    """Which peers and baselines can run here; the value says why not when one cannot."""
    missing: dict[str, str | None] = {}
    missing["kommunen-kg"] = None
    missing["oxigraph-mem"] = None if _which("oxigraph") else "PyPI package oxigraph missing"
    missing["oxigraph-disk"] = missing["oxigraph-mem"]
    missing["rdflib-endpoint"] = (
        None if _which("rdflib-endpoint") else "PyPI package rdflib-endpoint[cli] missing"
    )
    missing["nginx"] = None if shutil.which("nginx") else "Debian package nginx missing"
    missing["flask-gunicorn-sync"] = None
    missing["flask-gunicorn-gthread"] = None
    missing["flask-granian"] = None if _which("granian") else "PyPI package granian missing"
    return missing


def start_kommunen_kg(
    config: Path, graphs: Path, log: Path, workers: int, threads: int = 8, server: str = "granian"
):
    port = procs.free_port()
    command = [
        sys.executable,
        "-m",
        "kommunen_kg",
        "serve",
        "--config",
        str(config),
        "--graphs",
        str(graphs),
        "--no-build",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--quiet",
        "--server",
        server,
    ]
    started = time.perf_counter()
    process = procs.spawn(command, log, cwd=config.parent)
    url = f"http://127.0.0.1:{port}"
    procs.wait_for(lambda: sparql_ok(url, "/sparql"), 600, process, "kommunen-kg")
    return Running(
        f"kommunen-kg ({server}, {workers} workers x {threads} threads)",
        url,
        "/sparql",
        process,
        ready_s=time.perf_counter() - started,
    )


def start_oxigraph_memory(files: list[Path], log: Path) -> Running:
    port = procs.free_port()
    command = [
        _which("oxigraph") or "oxigraph",
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    started = time.perf_counter()
    process = procs.spawn(command, log)
    url = f"http://127.0.0.1:{port}"
    procs.wait_for(lambda: sparql_ok(url, "/query"), 60, process, "oxigraph serve")
    load_started = time.perf_counter()
    for path in files:
        request = urllib.request.Request(
            f"{url}/store",
            data=path.read_bytes(),
            method="POST",
            headers={"Content-Type": "application/trig"},
        )
        with urllib.request.urlopen(request, timeout=1800) as response:
            response.read()
    now = time.perf_counter()
    return Running(
        "Oxigraph server, in memory",
        url,
        "/query",
        process,
        ready_s=now - started,
        load_s=now - load_started,
    )


def oxigraph_load(files: list[Path], location: Path, log: Path) -> float:
    """``oxigraph load`` into ``location``; returns its wall time in seconds."""
    command = [_which("oxigraph") or "oxigraph", "load", "--location", str(location)]
    for path in files:
        command += ["--file", str(path)]
    started = time.perf_counter()
    process = procs.spawn(command, log)
    code = process.wait(timeout=3600)
    procs.stop(process)
    if code != 0:
        raise RuntimeError(f"oxigraph load failed with code {code} (see {log})")
    return time.perf_counter() - started


def start_oxigraph_disk(files: list[Path], location: Path, log: Path) -> Running:
    """``oxigraph load`` then ``serve-read-only``; ready time includes the load."""
    load_s = oxigraph_load(files, location, log)
    running = start_oxigraph_disk_existing(location, log)
    running.load_s = load_s
    running.ready_s += load_s
    return running


def start_oxigraph_disk_existing(location: Path, log: Path) -> Running:
    port = procs.free_port()
    command = [
        _which("oxigraph") or "oxigraph",
        "serve-read-only",
        "--location",
        str(location),
        "--bind",
        f"127.0.0.1:{port}",
        "--union-default-graph",
    ]
    started = time.perf_counter()
    process = procs.spawn(command, log)
    url = f"http://127.0.0.1:{port}"
    procs.wait_for(lambda: sparql_ok(url, "/query"), 60, process, "oxigraph serve-read-only")
    return Running(
        "Oxigraph server, on disk", url, "/query", process, ready_s=time.perf_counter() - started
    )


def start_rdflib_endpoint(files: list[Path], log: Path) -> Running:
    port = procs.free_port()
    command = [
        _which("rdflib-endpoint") or "rdflib-endpoint",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *map(str, files),
    ]
    started = time.perf_counter()
    process = procs.spawn(command, log)
    url = f"http://127.0.0.1:{port}"
    procs.wait_for(lambda: sparql_ok(url, "/", 30), 1800, process, "rdflib-endpoint")
    return Running("rdflib-endpoint", url, "/", process, ready_s=time.perf_counter() - started)


NGINX_CONF = """daemon off;
master_process on;
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{
        application/sparql-results+json json;
        text/turtle ttl;
        text/html html;
    }}
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""


def start_nginx(root: Path, log: Path, workers: int) -> Running:
    """nginx over ``root/www`` (the answer bytes, written there by the runner)."""
    port = procs.free_port()
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port, workers=workers), encoding="utf-8")
    started = time.perf_counter()
    process = procs.spawn(["nginx", "-c", str(conf), "-p", str(root)], log)
    url = f"http://127.0.0.1:{port}"
    procs.wait_for(lambda: http_get(url + "/", timeout=2)[0] in (200, 403, 404), 30, process)
    return Running("nginx, static files", url, None, process, ready_s=time.perf_counter() - started)


def start_fixed_flask(
    server: str, body: Path, media_type: str, log: Path, workers: int, threads: int = 8
) -> Running:
    """The bare Flask app of :mod:`bench.fixed_app` under one WSGI server."""
    port = procs.free_port()
    env = {"BENCH_FIXED_BODY": str(body), "BENCH_FIXED_TYPE": media_type}
    bind = f"127.0.0.1:{port}"
    if server == "gunicorn-sync":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            bind,
            "--log-level",
            "warning",
            "bench.fixed_app:app",
        ]
        label = f"bare Flask, gunicorn sync ({workers} workers)"
    elif server == "gunicorn-gthread":
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-b",
            bind,
            "--log-level",
            "warning",
            "bench.fixed_app:app",
        ]
        label = f"bare Flask, gunicorn gthread ({workers} workers x {threads} threads)"
    elif server == "granian":
        command = [
            _which("granian") or "granian",
            "--interface",
            "wsgi",
            "--workers",
            str(workers),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "bench.fixed_app:app",
        ]
        label = f"bare Flask, granian WSGI ({workers} workers)"
    else:
        raise ValueError(server)
    started = time.perf_counter()
    process = procs.spawn(command, log, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    procs.wait_for(lambda: http_get(url + "/fixed", timeout=2)[0] == 200, 60, process, label)
    return Running(label, url, None, process, ready_s=time.perf_counter() - started)
