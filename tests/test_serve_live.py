"""A running ``serve`` answers from a new release without a restart (issue 12).

Each test builds a release in a private copy of the sources, serves it with ``kommunen-kg
serve`` (granian, 2 workers), and changes ``graphs/current`` under it while readers read.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kommunen_kg.sparql.remote.client import StoreEndpoints
from kommunen_kg.sparql.remote.publish import publish

from .deployment import PERSONS, STORE_PATHS, Readers, release_marks, served_version
from .sparql_servers import OXIGRAPH, oxigraph_serve
from .support import ROOT, alive, health_once_unhealthy, logged_server, parents, run_cli

pytestmark = pytest.mark.slow


# The event whose English title the test changes, as a page and as /data.
CHANGED_PAGE = "page/event/herbst-konferenz-2020-vielfalt-leben?lang=en"
CHANGED_DATA = "data/event/herbst-konferenz-2020-vielfalt-leben.ttl"
OLD_TITLE, NEW_TITLE = "Embrace diversity!", "Embrace diversity, now!"
PATHS = (
    "health",
    "page/project/lebenswert",
    CHANGED_PAGE,
    CHANGED_DATA,
    "sparql?query=ASK%7B%7D",
)


@contextlib.contextmanager
def serving(
    folder: Path, workers: int = 2, server: str = "granian"
) -> Iterator[tuple[str, Path, int]]:
    """``kommunen-kg serve --no-build`` in ``folder``: its URL, its output (``folder/serve.log``)
    and its pid."""
    log = folder / "serve.log"
    serve = ("--no-build", "--workers", str(workers), "--server", server)
    with logged_server(*serve, cwd=folder, log=log) as (
        url,
        process,
    ):
        yield url, log, process.pid


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (a server's workers)."""
    return [child for child, parent in parents().items() if parent == pid]


def current(folder: Path) -> str:
    return (folder / "graphs" / "current").read_text(encoding="utf-8").strip()


def all_serve(url: str, version: str, asks: int = 8) -> bool:
    """Whether ``asks`` health checks in a row, each on a new connection, name ``version``."""
    return all(served_version(url) == version for _ in range(asks))


def has_new_title(path: str, text: str) -> bool | None:
    return NEW_TITLE in text if path in (CHANGED_PAGE, CHANGED_DATA) else None


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_a_new_build_is_served_within_seconds_with_no_failed_request(sources_copy, server):
    assert run_cli(sources_copy, "build", "-q").returncode == 0
    first = current(sources_copy)
    with serving(sources_copy, server=server) as (url, log, master):
        deadline = time.monotonic() + 10  # gunicorn answers once its first worker is up
        while len(children(master)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        old_workers = children(master)  # forked with the first release
        assert len(old_workers) == 2
        with Readers([url], PATHS, has_new_title) as readers:
            time.sleep(1.0)
            events = sources_copy / "data" / "events.ttl"
            text = events.read_text(encoding="utf-8")
            events.write_text(text.replace(OLD_TITLE, NEW_TITLE), "utf-8")
            built = run_cli(sources_copy, "build", "-q")
            assert built.returncode == 0, built.stderr
            second = current(sources_copy)
            assert second != first
            # within 5 s every worker forked with the first release has stopped, and the
            # workers that replaced them answer from the new one
            deadline = time.monotonic() + 5
            while any(map(alive, old_workers)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not any(map(alive, old_workers)), "not replaced in 5 s:\n" + log.read_text()
            assert all_serve(url, second)
            time.sleep(1.0)  # readers go on reading from the new release
        assert readers.failures == []
        assert set(readers.versions) <= {first, second} and readers.versions[second] > 0
        # not mixed: every answer's content is that of the release its ETag names
        assert readers.mixed() == {}
        assert readers.marks_of(CHANGED_PAGE) == {first: {False}, second: {True}}
        assert readers.marks_of(CHANGED_DATA) == {first: {False}, second: {True}}
        assert NEW_TITLE in requests.get(url + CHANGED_PAGE, timeout=10).text


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_a_release_that_cannot_be_loaded_is_not_served_and_health_says_so(sources_copy, server):
    assert run_cli(sources_copy, "build", "-q").returncode == 0
    first = current(sources_copy)
    with serving(sources_copy, workers=1, server=server) as (url, _log, _pid):
        (sources_copy / "graphs" / "current").write_text("000000000000\n", encoding="utf-8")
        health = health_once_unhealthy(url)
        assert health.status_code == 503
        assert health.json()["version"] == first
        assert "000000000000" in health.json()["reason"]
        assert requests.get(url + "page/project/lebenswert", timeout=5).status_code == 200


def test_serve_refuses_a_port_that_is_taken_with_one_line(sources_copy):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kommunen_kg", "serve", "--no-build", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


# --- two servers on one store, during publishes ----------------------------------------------


@pytest.mark.skipif(OXIGRAPH is None, reason="the `oxigraph` command is missing")
def test_two_store_servers_follow_twenty_publishes_without_a_failed_or_mixed_answer(
    tmp_path, release, second_release
):
    graphs = tmp_path / "graphs"
    for each in (release, second_release):
        shutil.copytree(each.path, graphs / "releases" / each.version)
    (graphs / "current").write_text(release.version + "\n", encoding="utf-8")
    serve = ("--no-build", "--graphs", str(graphs), "--workers", "2")
    with oxigraph_serve(None) as store:
        endpoints = StoreEndpoints(store)
        publish(second_release, endpoints)  # both releases are in the store from now on
        publish(release, endpoints)
        with (
            logged_server("--store", store, *serve, cwd=tmp_path, log=tmp_path / "a.log") as (a, _),
            logged_server("--store", store, *serve, cwd=tmp_path, log=tmp_path / "b.log") as (b, _),
            Readers(
                [a, b], STORE_PATHS, release_marks(release.version, second_release.version)
            ) as readers,
        ):
            switches = []
            for turn in range(20):
                time.sleep(1.5)
                result = publish((second_release, release)[turn % 2], endpoints)
                switches.append(result.timings["switch"])
            time.sleep(4.0)  # both servers follow the last publish
            final = {served_version(a), served_version(b)}
    assert readers.failures == []
    assert readers.mixed() == {}
    assert set(readers.versions) == {release.version, second_release.version}
    people = readers.marks_of(PERSONS)
    assert people[release.version] != people[second_release.version]
    assert final == {release.version}
    print(f"20 publishes: switch {max(switches) * 1000:.0f} ms at most; {readers.statuses}")
