"""Parts of a deployment for the tests: readers, app servers that can be restarted, nginx.

The app servers run detached, each remembered in a state folder (its command, folder and pid),
so that a command outside the test can restart one the way an init system does:
``python -m tests.deployment restart STATE ADDRESS`` stops the server at ADDRESS (Ctrl-C to its
process group, then waits until it is gone) and starts it again. ``docs/rolling-restart.sh``
gets exactly that as its ``RESTART`` command.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if Path(p).exists()), None
)
ROLLING_RESTART = ROOT / "docs" / "rolling-restart.sh"


# --- readers ---------------------------------------------------------------------------------


def served_version(url: str) -> str | None:
    with contextlib.suppress(requests.RequestException, ValueError):
        return requests.get(url + "health", timeout=5).json().get("version")
    return None


class Readers:
    """Threads that read ``paths`` of every server in ``urls`` until stopped. Each answer's
    status is kept, the release its ETag names, and what ``mark`` makes of its text (the
    part that tells the releases apart; an answer is mixed if two answers that name the
    same release have different marks). ``posts`` are (label, path, form) sent as POST; the
    label stands for the path in the marks and failures."""

    def __init__(
        self,
        urls: list[str],
        paths: tuple[str, ...],
        mark: Callable[[str, str], object] = lambda _path, _text: None,
        posts: tuple[tuple[str, str, dict[str, str]], ...] = (),
    ):
        self.mark = mark
        self.stop = threading.Event()
        self.statuses: Counter = Counter()
        self.versions: Counter = Counter()
        self.failures: list[str] = []
        self.marks: dict[tuple[str, str], set] = defaultdict(set)  # (path, release) -> marks
        requests_ = [(path, path, None) for path in paths] + list(posts)
        self.threads = [
            threading.Thread(target=self._read, args=(url, label, path, form))
            for url in urls
            for label, path, form in requests_
        ]

    def _read(self, url: str, label: str, path: str, form: dict[str, str] | None) -> None:
        # As HTTP asks of clients (RFC 9112, 9.3.1) and browsers do: a request sent on a
        # kept-alive connection that the server closed at the same moment (an old worker
        # stopping) is sent once more on a new connection. A SPARQL query sent as POST is safe
        # (the protocol's query operation changes nothing), so it is retried the same way.
        # Anything else counts as a failure.
        session = requests.Session()
        retry_once = Retry(
            total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET", "POST"}
        )
        session.mount("http://", HTTPAdapter(max_retries=retry_once))
        while not self.stop.is_set():
            try:
                if form is None:
                    response = session.get(url + path, timeout=10)
                else:
                    response = session.post(url + path, data=form, timeout=10)
            except requests.RequestException as exc:
                self.failures.append(f"{label}: {exc}")
                continue
            self.statuses[response.status_code] += 1
            if response.status_code != 200:
                self.failures.append(f"{label}: {response.status_code} {response.text[:200]}")
            tag = response.headers.get("ETag", "").removeprefix("W/").strip('"')
            if tag:
                version = tag.split("-", 1)[0]
                self.versions[version] += 1
                self.marks[(label, version)].add(self.mark(label, response.text))

    def mixed(self) -> dict[tuple[str, str], set]:
        """The (path, release) pairs whose answers differed in what tells releases apart."""
        return {key: marks for key, marks in self.marks.items() if len(marks) > 1}

    def marks_of(self, path: str) -> dict[str, set]:
        return {v: marks for (p, v), marks in self.marks.items() if p == path}

    def answers(self) -> int:
        return sum(self.statuses.values())

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


# What tells the test releases apart (tests/conftest.py: the second has 300 more people).
PERSONS_QUERY = "SELECT (COUNT(?p) AS ?n) WHERE { ?p a <http://schema.org/Person> }"
PERSONS = "sparql?query=" + quote(PERSONS_QUERY)
STORE_PATHS = (
    "browse",
    "catalog",
    PERSONS,
    "page/project/lebenswert",
    "data/project/lebenswert.ttl",
)
# The same query as a POST with a form body (label, path, form).
PERSONS_POSTED = (("POST " + PERSONS, "sparql", {"query": PERSONS_QUERY}),)


def release_marks(*versions: str) -> Callable[[str, str], object]:
    """What tells the two releases apart in each answer: the second has 300 more people, and
    the catalog names the release it describes."""

    def mark(path: str, text: str) -> object:
        if path == "browse":
            after = re.sub(r"<[^>]+>", " ", text.split("Personen", 1)[-1])
            found = re.search(r"(\d+)\s+Einträge", after)
            return found.group(1) if found else None
        if path.endswith(PERSONS):
            return tuple(re.findall(r'"value"\s*:\s*"(\d+)"', text))
        if path == "catalog":
            return tuple(v for v in versions if v in text)
        return None

    return mark


# --- app servers an outside command can restart ----------------------------------------------


def _record(state: Path, address: str) -> Path:
    return state / (address.replace(":", "_") + ".json")


def _launch(record: dict) -> int:
    with open(record["log"], "a", encoding="utf-8") as out:
        process = subprocess.Popen(
            record["argv"],
            cwd=record["cwd"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def _group_alive(group: int) -> bool:
    """Whether any process of the process group ``group`` still runs (zombies do not count:
    the one that started them may reap them late, and they hold no port)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == group:
                return True
    return False


def _gone(group: int, seconds: float) -> bool:
    """Waits up to ``seconds`` for every process of ``group`` to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(group, os.WNOHANG)  # reaps it when it is our child
        if not _group_alive(group):
            return True
        time.sleep(0.05)
    return False


def _stop(pid: int, grace: float = 30.0) -> None:
    """Ctrl-C to the server's process group, as an operator's ``systemctl stop`` would send its
    signal; SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGINT)
    if not _gone(pid, grace):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        _gone(pid, 10)


def start_server(state: Path, address: str, argv: list[str], cwd: Path, log: Path) -> None:
    """Starts an app server detached and remembers it in ``state`` under ``address``."""
    state.mkdir(parents=True, exist_ok=True)
    record = {"argv": argv, "cwd": str(cwd), "log": str(log), "restarts": 0}
    record["pid"] = _launch(record)
    _record(state, address).write_text(json.dumps(record), encoding="utf-8")


def restart_server(state: Path, address: str) -> None:
    """Stops the server at ``address`` and, once it is gone, starts it again."""
    path = _record(state, address)
    record = json.loads(path.read_text(encoding="utf-8"))
    _stop(record["pid"])
    record["pid"] = _launch(record)
    record["restarts"] += 1
    path.write_text(json.dumps(record), encoding="utf-8")


def server_record(state: Path, address: str) -> dict:
    return json.loads(_record(state, address).read_text(encoding="utf-8"))


def stop_servers(state: Path) -> None:
    for path in state.glob("*.json"):
        _stop(json.loads(path.read_text(encoding="utf-8"))["pid"])


# --- nginx -----------------------------------------------------------------------------------

NGINX_CONF = """\
{user}worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log notice;
events {{ worker_connections 512; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;

    include {prefix}/upstream.conf;

{site}
}}
"""


# The site of docs/scaling.md ("nginx in front"), on loopback and without TLS.
SITE = """\
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 1m;
        location / {{
            proxy_pass http://kommunen_kg;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 45s;
            proxy_next_upstream error;
        }}
    }}"""


class Nginx:
    """Debian's nginx on loopback in front of ``addresses`` (the upstream ``kommunen_kg``),
    its files in ``prefix``; ``site`` is its ``server`` block (with ``{port}`` and
    ``{prefix}``); ``command`` is how to call it (for ``nginx -t`` and ``nginx -s reload``)."""

    def __init__(self, prefix: Path, port: int, addresses: list[str], site: str = SITE):
        self.prefix = prefix
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"
        self.conf = prefix / "nginx.conf"
        self.upstream = prefix / "upstream.conf"
        self.command = [str(NGINX), "-p", str(prefix), "-e", str(prefix / "error.log")]
        self.command += ["-c", str(self.conf)]
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the temp folders
        prefix.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            NGINX_CONF.format(user=user, prefix=prefix, site=site.format(port=port, prefix=prefix)),
            encoding="utf-8",
        )
        servers = "".join(f"    server {a} max_fails=3 fail_timeout=10s;\n" for a in addresses)
        self.upstream.write_text(
            f"upstream kommunen_kg {{\n    least_conn;\n{servers}    keepalive 64;\n}}\n",
            encoding="utf-8",
        )
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        """What ``docs/rolling-restart.sh`` needs to call this nginx."""
        return {"NGINX": " ".join(self.command), "NGINX_PID": str(self.prefix / "nginx.pid")}

    def errors(self) -> list[str]:
        """Lines of the error log about upstreams: a failed connection, a reset, a timeout."""
        text = (self.prefix / "error.log").read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if "upstream" in line and "[error]" in line]

    def __enter__(self) -> Nginx:
        self.process = subprocess.Popen(
            [*self.command, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.prefix / "stderr.log", "w", encoding="utf-8"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    "nginx did not start: " + (self.prefix / "stderr.log").read_text()
                )
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url, timeout=2)
                return self
            time.sleep(0.1)
        raise RuntimeError("nginx did not answer within 15 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGQUIT)  # graceful
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


if __name__ == "__main__":  # python -m tests.deployment restart STATE ADDRESS
    if len(sys.argv) != 4 or sys.argv[1] != "restart":
        sys.exit("usage: python -m tests.deployment restart STATE ADDRESS")
    restart_server(Path(sys.argv[2]), sys.argv[3])
