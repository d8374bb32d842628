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
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from .support import free_port, server_process, stop

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


@contextlib.contextmanager
def running_virtuoso(folder: Path, release=None) -> Iterator[tuple[str, int]]:
    """A Virtuoso with its database in ``folder``, holding ``release`` under the public graph
    names when one is given; yields its HTTP root and its SQL port."""
    if SERVER is None or ISQL is None or not PACKAGED_INI.exists():
        pytest.skip("Debian's virtuoso-opensource is not installed (.ci/run installs it)")
    (folder / "db").mkdir()
    (folder / "data").mkdir()
    if release is not None:
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
    root = f"http://127.0.0.1:{http_port}/"
    try:
        deadline = time.monotonic() + 60
        while True:  # bounded by the deadline
            assert process.poll() is None, (folder / "db" / "virtuoso.log").read_text()[-2000:]
            with contextlib.suppress(requests.RequestException):
                if requests.get(root + "sparql", params={"query": "ASK {}"}, timeout=2).ok:
                    break
            assert time.monotonic() < deadline, "Virtuoso did not answer within 60 s"
            time.sleep(0.3)
        if release is not None:
            loaded = _isql(
                sql_port,
                f"ld_dir('{folder / 'data'}', '*.nq', 'urn:kommunen-kg:unused'); "
                "rdf_loader_run(); checkpoint; "
                "SELECT COUNT(*) FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;",
            )
            assert re.search(r"^\s*0\s*$", loaded, re.M), loaded
        yield root, sql_port
    finally:
        stop(process, grace=20, how=signal.SIGTERM)


@pytest.fixture(scope="module")
def virtuoso(release, tmp_path_factory) -> Iterator[str]:
    """A Virtuoso holding the release; yields its SPARQL endpoint."""
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso"), release) as (root, _port):
        yield root + "sparql"


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


# --- publishing into Virtuoso: credentials (issue 15) ------------------------------------------

PASSWORD = "dba"  # the password of a new Virtuoso database's dba, which may update


@pytest.fixture(scope="module")
def empty_virtuoso(tmp_path_factory) -> Iterator[str]:
    with running_virtuoso(tmp_path_factory.mktemp("virtuoso-empty")) as (root, _port):
        yield root


def _publish(root: str, config, env: dict[str, str], store: str | None = None):
    """``kommunen-kg publish`` into the store at ``root``, with only ``env``'s credentials."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOMMUNEN_KG_STORE_")}
    clean["NETRC"] = "/nonexistent"  # no netrc of the machine's user
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kommunen_kg",
            "publish",
            "--store",
            store or root + "sparql",
            "--update",
            root + "sparql-auth",
            "--graph-store",
            root + "sparql-graph-crud-auth",
            "--graphs",
            str(config.graphs_dir),
            "-q",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_publish_authenticates_with_digest_from_the_environment(empty_virtuoso, config, release):
    env = {"KOMMUNEN_KG_STORE_USER": "dba", "KOMMUNEN_KG_STORE_PASSWORD": PASSWORD}
    done = _publish(empty_virtuoso, config, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"release {release.version} published" in done.stdout


def test_publish_reads_credentials_from_a_netrc_file(empty_virtuoso, config, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login dba password {PASSWORD}\n", encoding="utf-8")
    netrc.chmod(0o600)
    done = _publish(empty_virtuoso, config, {"NETRC": str(netrc)})
    assert done.returncode == 0, done.stdout + done.stderr


def test_refused_credentials_stop_the_publish_without_showing_them(empty_virtuoso, config):
    env = {"KOMMUNEN_KG_STORE_USER": "dba", "KOMMUNEN_KG_STORE_PASSWORD": "not-the-s3cret"}
    done = _publish(empty_virtuoso, config, env)
    assert done.returncode == 1
    assert "refused the ones given" in done.stderr and "s3cret" not in done.stdout + done.stderr


def test_credentials_in_the_url_are_refused_and_not_repeated(empty_virtuoso, config):
    store = empty_virtuoso.replace("http://", "http://dba:s3cret@") + "sparql"
    done = _publish(empty_virtuoso, config, {}, store=store)
    assert done.returncode == 2
    assert "names a user or password" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr


def test_the_anonymous_endpoint_stays_read_only(empty_virtuoso):
    refused = requests.post(
        empty_virtuoso + "sparql",
        data=b"INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }",
        headers={"Content-Type": "application/sparql-update"},
        timeout=30,
    )
    assert refused.status_code >= 400
    asked = requests.get(
        empty_virtuoso + "sparql",
        params={"query": "ASK { GRAPH <urn:x> { ?s ?p ?o } }"},
        timeout=30,
    )
    assert "false" in asked.text


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { ?s ?p }",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?a ORDER BY ?b",
    ],
    ids=["syntax", "grouping"],
)
def test_a_store_error_reaches_the_client_without_the_stores_internals(servers, query) -> None:
    """Virtuoso repeats the query as it compiled it, with the release's graphs; the client
    gets its words only."""
    answer = requests.get(servers[1] + "sparql", params={"query": query}, timeout=30)
    assert answer.status_code == 400
    assert "define" not in answer.text and "urn:kommunen-kg" not in answer.text
    assert "\nSPARQL query:" not in answer.text and "37000" not in answer.text
    assert answer.text.startswith("Syntax error in the SPARQL query: ")
