"""Virtuoso (Debian's virtuoso-opensource 7.2) as the store behind ``serve --store`` (issue 15).

A real Virtuoso on loopback, with its own database and configuration in a temporary folder,
holds the release (its N-Quads dumps, loaded with Virtuoso's bulk loader under the public graph
names, as an operator would load them); ``serve --store`` over it must answer as the embedded
mode does: every sitemap URL and every resource's ``/id/`` (as a page and as Turtle) with the
same status and media type, every ``/data/`` document as the same graph, every page with the
same lines. Before the views stopped projecting booleans, 338 of 612 statuses were equal.

(The N-Quads, not the TriG dump: Virtuoso 7.2's Turtle reader keeps the backslash of an escaped
``\\#`` in a prefixed name, so the metadata's linkset IRIs came out wrong.)
"""

from __future__ import annotations

import contextlib
import difflib
import gzip
import html
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from .support import free_port, server_process

pytestmark = pytest.mark.slow

PACKAGED_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
PACKAGED_DB = "/var/lib/virtuoso-opensource-7/db"
SERVER = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt")


def _ini(folder: Path, sql_port: int, http_port: int) -> Path:
    """The package's configuration, with this folder's database and loopback ports."""
    text = PACKAGED_INI.read_text(encoding="utf-8").replace(PACKAGED_DB, str(folder / "db"))
    text = re.sub(
        r"^ServerPort(\s*)=\s*1111\s*$", rf"ServerPort\1= 127.0.0.1:{sql_port}", text, flags=re.M
    )
    text = re.sub(
        r"^ServerPort(\s*)=\s*8890\s*$", rf"ServerPort\1= 127.0.0.1:{http_port}", text, flags=re.M
    )
    text = re.sub(r"^(DirsAllowed\s*=.*)$", rf"\1, {folder / 'data'}", text, flags=re.M)
    path = folder / "virtuoso.ini"
    path.write_text(text, encoding="utf-8")
    return path


def _isql(sql_port: int, statements: str) -> str:
    done = subprocess.run(
        [ISQL, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={statements}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def virtuoso(release, tmp_path_factory) -> Iterator[str]:
    """A Virtuoso holding the release; yields its SPARQL endpoint."""
    if SERVER is None or ISQL is None or not PACKAGED_INI.exists():
        pytest.skip("Debian's virtuoso-opensource is not installed (.ci/run installs it)")
    folder = tmp_path_factory.mktemp("virtuoso")
    (folder / "db").mkdir()
    (folder / "data").mkdir()
    for name in ("kommunen-innovativ.nq.gz", "metadata.nq.gz"):
        with gzip.open(release.path / name, "rb") as packed:
            (folder / "data" / name.removesuffix(".gz")).write_bytes(packed.read())
    sql_port, http_port = free_port(), free_port()
    process = subprocess.Popen(
        [SERVER, "+foreground", "+configfile", str(_ini(folder, sql_port, http_port))],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{http_port}/sparql"
    try:
        deadline = time.monotonic() + 60
        while True:  # bounded by the deadline
            assert process.poll() is None, (folder / "db" / "virtuoso.log").read_text()[-2000:]
            with contextlib.suppress(requests.RequestException):
                if requests.get(endpoint, params={"query": "ASK {}"}, timeout=2).ok:
                    break
            assert time.monotonic() < deadline, "Virtuoso did not answer within 60 s"
            time.sleep(0.3)
        loaded = _isql(
            sql_port,
            f"ld_dir('{folder / 'data'}', '*.nq', 'urn:kommunen-kg:unused'); rdf_loader_run(); "
            "checkpoint; SELECT COUNT(*) FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;",
        )
        assert re.search(r"^\s*0\s*$", loaded, re.M), loaded
        yield endpoint
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def servers(virtuoso, config) -> Iterator[tuple[str, str]]:
    """The embedded server and one over Virtuoso, both of the release."""
    graphs = str(config.graphs_dir)
    with (
        server_process("--graphs", graphs, "--no-build", "--workers", "1") as embedded,
        server_process(
            "--store", virtuoso, "--graphs", graphs, "--no-build", "--workers", "1"
        ) as stored,
    ):
        yield embedded, stored


@pytest.fixture(scope="module")
def addresses(servers, config) -> tuple[list[str], list[str]]:
    """Every sitemap path (its public URLs, under the base), and every resource's /id/ path."""
    sitemap = requests.get(servers[0] + "sitemap.xml", timeout=30).text
    public = [html.unescape(u) for u in re.findall(r"<loc>([^<]+)</loc>", sitemap)]
    paths = sorted({u.removeprefix(config.base_iri) for u in public})
    pages = [p.split("?")[0] for p in paths if p.startswith("page/")]
    ids = sorted({"id/" + p.removeprefix("page/") for p in pages})
    assert len(paths) > 100 and len(ids) > 50 and all("://" not in p for p in paths)
    return paths, ids


def _get(base: str, path: str, accept: str) -> requests.Response:
    return requests.get(base + path, headers={"Accept": accept}, timeout=60, allow_redirects=False)


def test_every_address_answers_as_the_embedded_mode(servers, addresses) -> None:
    paths, ids = addresses
    asked = [(p, "text/html") for p in paths] + [
        (i, accept) for i in ids for accept in ("text/html", "text/turtle")
    ]
    different = []
    for path, accept in asked:
        answers = [_get(base, path, accept) for base in servers]
        seen = [
            (a.status_code, a.headers.get("Content-Type"), a.headers.get("Location"))
            for a in answers
        ]
        if seen[0] != seen[1]:
            different.append((path, accept, seen))
    assert not different, different[:5]


def test_every_data_document_holds_the_same_graph(servers, addresses) -> None:
    _paths, ids = addresses
    different = []
    for resource in ids:
        path = "data/" + resource.removeprefix("id/") + ".ttl"
        graphs = []
        for base in servers:
            answer = _get(base, path, "text/turtle")
            assert answer.status_code == 200, (base, path, answer.text[:300])
            graphs.append(rdflib.Graph().parse(data=answer.text, format="turtle"))
        if not isomorphic(*graphs):
            different.append(path)
    assert not different, different[:5]


def test_every_page_shows_the_same_lines(servers, addresses) -> None:
    """Equal up to the order of lines (stores may list equal things in another order), with
    each server's own address (in absolute links) taken out."""
    paths, _ids = addresses
    different = []
    for path in paths:
        pages = [_get(base, path, "text/html").text.replace(base, "/") for base in servers]
        lines = [sorted(page.splitlines()) for page in pages]
        if lines[0] != lines[1]:
            changed = difflib.unified_diff(lines[0], lines[1], lineterm="", n=0)
            different.append((path, [line[:160] for line in changed][2:8]))
    assert not different, different[:3]
