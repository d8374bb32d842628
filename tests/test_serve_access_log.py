"""``kommunen-kg serve`` writes one access line per request (the asynchronous front's own,
in the Common Log Format with the time taken); ``-q`` writes none."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from .support import ROOT, logged_server

pytestmark = pytest.mark.slow  # starts kommunen-kg serve

LINE = re.compile(
    r"^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "
    r'"(?P<method>[A-Z]+) (?P<target>\S+) HTTP/1\.1" (?P<status>\d{3}) (?P<size>\d+) '
    r"\d+\.\d{3}ms$"
)


def access_lines(log: Path) -> list[re.Match]:
    return [m for m in map(LINE.match, log.read_text(encoding="utf-8").splitlines()) if m]


def requests_and_lines(tmp_path: Path, *serve: str) -> list[re.Match]:
    """Serves with the access log (unless ``-q`` is given), asks three things, and reads the
    access lines from the server's output."""
    log = tmp_path / "serve.log"
    quiet = "-q" in serve
    with logged_server("--workers", "1", *serve, cwd=ROOT, log=log, quiet=quiet) as (url, _):
        requests.get(url + "page/project/lebenswert", timeout=10)
        requests.get(url + "id/talk/does-not-exist", timeout=10)
        requests.get(url + "sparql", params={"query": "ASK {}"}, timeout=10)
        deadline = time.monotonic() + 5
        while len(access_lines(log)) < 4 and time.monotonic() < deadline:  # bounded wait
            time.sleep(0.1)
    return access_lines(log)


def test_each_request_gets_one_line_with_method_target_status_and_size(tmp_path):
    lines = requests_and_lines(tmp_path)
    seen = {(m["method"], m["target"].split("?")[0], m["status"]) for m in lines}
    assert ("GET", "/page/project/lebenswert", "200") in seen
    assert ("GET", "/id/talk/does-not-exist", "404") in seen
    assert ("GET", "/sparql", "200") in seen
    page = next(m for m in lines if m["target"] == "/page/project/lebenswert")
    assert int(page["size"]) > 1000


def test_quiet_writes_no_access_line(tmp_path):
    assert requests_and_lines(tmp_path, "-q") == []
