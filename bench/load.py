"""A bounded load: N connections for D seconds against one loopback URL.

wrk (Debian's ``wrk``) drives the load when it is installed: it is written in C and keeps up
with nginx on this machine, so the load generator is never what limits a server. A Lua script
written per run gives each request its method, headers and path; in cold mode it replaces the
``SALT`` placeholder with a number unique per request, or cycles through a list of paths.
Without wrk, a Python generator (threads with keep-alive connections) does the same, slower:
its ceiling is then reported as such.

Errors are non-2xx/3xx answers (wrk counts status >= 400), timeouts and socket errors.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from .workload import SALT


@dataclass
class Request:
    """What one row sends: a path (with SALT in cold mode) or a list of paths to cycle."""

    paths: list[str]
    accept: str
    salted: bool = False
    method: str = "GET"
    body: str | None = None
    content_type: str | None = None


@dataclass
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    errors: int
    error_detail: dict[str, int] = field(default_factory=dict)
    generator: str = "wrk"

    def to_json(self) -> dict:
        return asdict(self)


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(text: str) -> str:
    level = "=" * 3
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


def lua_script(request: Request) -> str:
    """A wrk script for one row: static when every request is the same, else per request."""
    headers = {"Accept": request.accept}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    if request.body is not None:
        lines.append(f"wrk.body = {_lua_string(request.body)}")
    if not request.salted and len(request.paths) == 1:
        lines.append(f"wrk.path = {_lua_string(request.paths[0])}")
        return "\n".join(lines) + "\n"
    paths = ",\n".join(_lua_string(p) for p in request.paths)
    lines += [
        f"local paths = {{\n{paths}\n}}",
        f"local salted = {'true' if request.salted else 'false'}",
        "local counter = 0",
        "local nthreads = 0",
        "function setup(thread)",
        "  nthreads = nthreads + 1",
        "  thread:set('tid', nthreads)",
        "end",
        "function request()",
        "  counter = counter + 1",
        "  local path = paths[(counter % #paths) + 1]",
        "  local body = wrk.body",
        "  if salted then",
        "    local salt = tostring(tid * 100000000 + counter)",
        f"    path = path:gsub('{SALT}', salt)",
        f"    if body then body = body:gsub('{SALT}', salt) end",
        "  end",
        "  return wrk.format(nil, path, nil, body)",
        "end",
    ]
    return "\n".join(lines) + "\n"


_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


def run_wrk(
    base_url: str,
    request: Request,
    duration: float,
    connections: int = 8,
    threads: int = 2,
    timeout: float = 10.0,
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua_script(request) + _DONE)
        script = f.name
    try:
        command = [
            "wrk",
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            f"--timeout={max(1, round(timeout))}s",
            "-s",
            script,
            base_url.rstrip("/") + request.paths[0].replace(SALT, "0"),
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + timeout + 60
        )
        out = done.stdout + done.stderr
    finally:
        os.unlink(script)
    line = next((ln for ln in out.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary:\n{out}")
    raw = json.loads(line[len("WRKJSON ") :])
    seconds = raw["duration_us"] / 1e6
    detail = {k: raw[k] for k in ("connect", "read", "write", "status", "timeout") if raw[k]}
    done = raw["requests"]
    return LoadResult(
        requests=done,
        seconds=round(seconds, 2),
        rps=round(done / seconds, 2) if seconds else 0.0,
        p50_ms=round(raw["p50_us"] / 1000, 2) if done else None,
        p90_ms=round(raw["p90_us"] / 1000, 2) if done else None,
        p99_ms=round(raw["p99_us"] / 1000, 2) if done else None,
        errors=sum(detail.values()),
        error_detail=detail,
    )


def run_python(
    base_url: str,
    request: Request,
    duration: float,
    connections: int = 8,
    timeout: float = 10.0,
) -> LoadResult:
    """The fallback generator: one thread per connection, keep-alive, bounded by time."""
    parts = urlsplit(base_url)
    deadline = time.perf_counter() + duration
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(1, 10**12))

    def worker(tid: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                n = next(counter)
            path = request.paths[n % len(request.paths)]
            body = request.body
            if request.salted:
                salt = str(tid * 100000000 + n)
                path = path.replace(SALT, salt)
                body = body.replace(SALT, salt) if body else body
            headers = {"Accept": request.accept}
            if request.content_type:
                headers["Content-Type"] = request.content_type
            started = time.perf_counter()
            try:
                conn.request(request.method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                kind = "status" if response.status >= 400 else None
            except TimeoutError:
                kind = "timeout"
                conn.close()
            except (OSError, http.client.HTTPException):
                kind = "read"
                conn.close()
            if kind:
                with lock:
                    errors[kind] = errors.get(kind, 0) + 1
            else:
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(1, connections + 1)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    seconds = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 2)

    done = len(latencies) + errors.get("status", 0)
    return LoadResult(
        requests=done,
        seconds=round(seconds, 2),
        rps=round(done / seconds, 2),
        p50_ms=pct(50),
        p90_ms=pct(90),
        p99_ms=pct(99),
        errors=sum(errors.values()),
        error_detail=errors,
        generator="python",
    )


def run_load(
    base_url: str,
    request: Request,
    duration: float,
    connections: int = 8,
    timeout: float = 10.0,
    generator: str = "auto",
) -> LoadResult:
    """Runs the load with wrk when available (or asked for), else with Python."""
    if generator == "wrk" or (generator == "auto" and have_wrk()):
        return run_wrk(base_url, request, duration, connections, timeout=timeout)
    return run_python(base_url, request, duration, connections, timeout=timeout)
