"""Two app servers behind Debian's nginx: new releases and a rolling restart cost no request.

The deployment of ``docs/scaling.md``, on loopback: nginx with the documented proxy settings in
front of two ``kommunen-kg serve`` processes (2 workers each), on one Oxigraph server or each
on its own embedded copy. Readers ask through nginx for pages, /data, /catalog and /sparql
(GET and POST) while 20 releases are published and every app server is restarted by
``docs/rolling-restart.sh``, the very script the documentation gives. Every answer must be a
200, and every answer must be whole from one release (the release its ETag names).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kommunen_kg.rdf.release import Release, ReleaseFolder
from kommunen_kg.sparql.remote.client import StoreEndpoints
from kommunen_kg.sparql.remote.publish import publish

from .deployment import (
    NGINX,
    PERSONS,
    PERSONS_POSTED,
    ROLLING_RESTART,
    STORE_PATHS,
    Nginx,
    Readers,
    release_marks,
    served_version,
    server_record,
    start_server,
    stop_servers,
)
from .sparql_servers import OXIGRAPH, oxigraph_serve
from .support import SERVE, free_port, wait_until_up

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NGINX is None, reason="nginx is missing (Debian's nginx; .ci/run has it)"),
]

PUBLISHES = 20
BETWEEN_PUBLISHES = 1.5  # seconds


def _graphs_with(tmp_path: Path, *releases: Release) -> Path:
    graphs = tmp_path / "graphs"
    for each in releases:
        shutil.copytree(each.path, graphs / "releases" / each.version)
    (graphs / "current").write_text(releases[0].version + "\n", encoding="utf-8")
    return graphs


def _in_turns(publish_one: Callable[[Release], object], releases: tuple[Release, Release]):
    """A thread that publishes the two releases in turns, the first last; its errors kept."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for turn in range(PUBLISHES):
                time.sleep(BETWEEN_PUBLISHES)
                publish_one(releases[(turn + 1) % 2])
        except BaseException as exc:
            errors.append(exc)

    return threading.Thread(target=run), errors


@dataclass
class Outcome:
    """What readers, nginx, the rolling restart and the publisher saw."""

    readers: Readers
    restart: subprocess.CompletedProcess
    nginx: Nginx
    servers: list[dict]  # each app server's record (its restarts)
    final: set  # the release each server names at the end
    publish_errors: list[BaseException]


def _deployment(
    tmp_path: Path,
    serve_args: list[str],
    publish_one: Callable[[Release], object],
    release: Release,
    second_release: Release,
) -> Outcome:
    """Starts two app servers and nginx, reads through it during the publishes and the rolling
    restart, and returns what happened."""
    state = tmp_path / "state"
    ports = [free_port(), free_port()]
    addresses = [f"127.0.0.1:{port}" for port in ports]
    try:
        for port, address in zip(ports, addresses, strict=True):
            argv = [*SERVE, "--port", str(port), *serve_args, "--workers", "2"]
            start_server(state, address, argv, tmp_path, tmp_path / f"serve-{port}.log")
        for address in addresses:
            wait_until_up(f"http://{address}/", timeout=60)
        marks = release_marks(release.version, second_release.version)
        with (
            Nginx(tmp_path / "nginx", free_port(), addresses) as nginx,
            Readers([nginx.url], STORE_PATHS, marks, posts=PERSONS_POSTED) as readers,
        ):
            publisher, errors = _in_turns(publish_one, (release, second_release))
            publisher.start()
            time.sleep(2 * BETWEEN_PUBLISHES)  # the restart starts during the publishes
            restarted = subprocess.run(
                ["bash", str(ROLLING_RESTART), str(nginx.upstream), *addresses],
                env={
                    **os.environ,
                    **nginx.environment(),
                    "RESTART": f"{sys.executable} -m tests.deployment restart {state}",
                },
                cwd=Path(__file__).resolve().parent.parent,
                capture_output=True,
                text=True,
                timeout=300,
            )
            publisher.join(timeout=PUBLISHES * BETWEEN_PUBLISHES + 120)
            time.sleep(4.0)  # both servers follow the last publish
            final = {served_version(f"http://{address}/") for address in addresses}
        records = [server_record(state, address) for address in addresses]
    finally:
        stop_servers(state)
    return Outcome(readers, restarted, nginx, records, final, errors)


def _assert_no_request_lost(seen: Outcome, release: Release, second_release: Release) -> None:
    assert seen.restart.returncode == 0, seen.restart.stderr
    assert [server["restarts"] for server in seen.servers] == [1, 1]
    assert seen.publish_errors == []
    assert seen.readers.failures == []
    assert seen.nginx.errors() == []  # nginx retried nothing behind the readers' backs
    assert seen.readers.mixed() == {}
    assert set(seen.readers.versions) == {release.version, second_release.version}
    people = seen.readers.marks_of(PERSONS)
    assert people[release.version] != people[second_release.version]
    assert seen.final == {release.version}
    print(f"{seen.readers.answers()} answers through nginx: {dict(seen.readers.statuses)}")


@pytest.mark.skipif(OXIGRAPH is None, reason="the `oxigraph` command is missing")
def test_two_store_servers_behind_nginx_lose_no_request_to_publishes_and_a_rolling_restart(
    tmp_path, release, second_release
):
    graphs = _graphs_with(tmp_path, release, second_release)
    with oxigraph_serve(None) as store:
        endpoints = StoreEndpoints(store)
        publish(second_release, endpoints)  # both releases are in the store from now on
        publish(release, endpoints)
        seen = _deployment(
            tmp_path,
            ["--store", store, "--no-build", "--graphs", str(graphs)],
            lambda target: publish(target, endpoints),
            release,
            second_release,
        )
    _assert_no_request_lost(seen, release, second_release)


def test_two_embedded_servers_behind_nginx_lose_no_request_to_new_releases_and_a_rolling_restart(
    tmp_path, release, second_release
):
    graphs = _graphs_with(tmp_path, release, second_release)
    folder = ReleaseFolder(graphs)
    seen = _deployment(
        tmp_path,
        ["--no-build", "--graphs", str(graphs)],
        lambda target: folder.set_current(target.version),
        release,
        second_release,
    )
    _assert_no_request_lost(seen, release, second_release)


# --- HTTP Basic credentials for publish, checked by nginx in front of a store ---------------

# Oxigraph server has no accounts; nginx asks for Basic credentials on its update and Graph
# Store endpoints and leaves /query open, as an operator would put it in front of the store.
STORE_SITE = """\
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location = /query {{
            proxy_pass http://kommunen_kg;
        }}
        location / {{
            auth_basic "store";
            auth_basic_user_file {prefix}/htpasswd;
            proxy_pass http://kommunen_kg;
        }}
    }}"""
PASSWORD = "s3cret-Basic"


def _publish_cli(store: str, graphs: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``kommunen-kg publish --store`` with only ``env``'s credentials."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOMMUNEN_KG_STORE_")}
    clean["NETRC"] = "/nonexistent"  # no netrc of the machine's user
    return subprocess.run(
        [sys.executable, "-m", "kommunen_kg", "publish", "--store", store, "--graphs", str(graphs)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def guarded_store(tmp_path_factory) -> Iterator[str]:
    """An Oxigraph server behind nginx that asks for Basic credentials to change anything."""
    if OXIGRAPH is None:
        pytest.skip("the `oxigraph` command is missing")
    prefix = tmp_path_factory.mktemp("nginx-basic")
    (prefix / "htpasswd").write_text(f"publisher:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    with oxigraph_serve(None) as store:
        address = store.removeprefix("http://").removesuffix("/query")
        with Nginx(prefix, free_port(), [address], site=STORE_SITE) as nginx:
            yield nginx.url + "query"


def test_publish_authenticates_with_basic_credentials_from_the_environment(guarded_store, release):
    env = {"KOMMUNEN_KG_STORE_USER": "publisher", "KOMMUNEN_KG_STORE_PASSWORD": PASSWORD}
    done = _publish_cli(guarded_store, release.path.parent.parent, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"release {release.version} published" in done.stdout


def test_publish_without_credentials_is_refused_by_the_store(guarded_store, release):
    done = _publish_cli(guarded_store, release.path.parent.parent, {})
    assert done.returncode == 1
    assert "asks for credentials: give them in KOMMUNEN_KG_STORE_USER" in done.stderr


def test_refused_basic_credentials_stop_the_publish_without_showing_them(guarded_store, release):
    env = {"KOMMUNEN_KG_STORE_USER": "publisher", "KOMMUNEN_KG_STORE_PASSWORD": "not-the-s3cret"}
    done = _publish_cli(guarded_store, release.path.parent.parent, env)
    assert done.returncode == 1
    assert "refused the ones given" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr
