"""The servers the hostile clients attack: ``kommunen-kg serve`` as it is deployed, with short
limits so that every attack is over in seconds.

Two targets: the embedded store (client queries in the query pool) and ``serve --store`` over
Oxigraph server (PyPI), where client queries run in the store. Both run granian with 2 workers
of 8 threads each, so at most 6 requests per worker wait for a query (8 - 2 reserved).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kommunen_kg.config import Config
from kommunen_kg.rdf.release import Release
from kommunen_kg.sparql.remote.client import StoreEndpoints
from kommunen_kg.sparql.remote.publish import publish

from ..sparql_servers import OXIGRAPH, oxigraph_serve
from ..support import ROOT, logged_server
from .clients import Target

pytestmark = pytest.mark.slow

CLIENT_TIMEOUT = 3.0  # [server] client_timeout of the attacked servers
QUERY_TIMEOUT = 2.0
QUEUE_TIMEOUT = 1.0
THREADS = 8
MAX_ANSWER_MB = 6  # LARGE (5.2 MB as XML) passes, nine terms a row (7.9 MB) do not
MEMORY_LIMIT_MB = 256


def _toml(folder: Path, config: Config) -> Path:
    toml = folder / "kommunen-kg.toml"
    toml.write_text(
        "[paths]\n"
        f'ontology = "{ROOT / "ontology"}"\n'
        f'data = "{ROOT / "data"}"\n'
        f'graphs = "{config.graphs_dir}"\n'
        "[server]\n"
        f"query_timeout = {QUERY_TIMEOUT}\n"
        f"client_timeout = {CLIENT_TIMEOUT}\n"
        f"query_queue_timeout = {QUEUE_TIMEOUT}\n"
        "query_workers_min = 1\n"
        "query_workers_max = 4\n"
        "query_queue_length = 4\n"
        f"query_memory_limit = {MEMORY_LIMIT_MB}\n"
        "result_limit = 10000\n"
        f"max_answer_bytes = {MAX_ANSWER_MB * 1024 * 1024}\n"
        # every answer computed afresh: the attacks must reach the engine
        "response_cache_size = 0\n",
        encoding="utf-8",
    )
    return toml


@contextlib.contextmanager
def _serve(folder: Path, config: Config, *extra: str) -> Iterator[Target]:
    with logged_server(
        "--config",
        str(_toml(folder, config)),
        "--no-build",
        "--workers",
        "2",
        "--threads",
        str(THREADS),
        *extra,
        cwd=ROOT,
        log=folder / "serve.log",
        timeout=60,
    ) as (url, process):
        yield Target(url, process.pid, "store" if extra else "embedded")


@pytest.fixture(scope="package")
def embedded(tmp_path_factory, config: Config, release: Release) -> Iterator[Target]:
    with _serve(tmp_path_factory.mktemp("embedded"), config) as target:
        yield target


@pytest.fixture(scope="package")
def store_mode(tmp_path_factory, config: Config, release: Release) -> Iterator[Target]:
    if OXIGRAPH is None:
        pytest.skip("the `oxigraph` command is missing (pip install oxigraph, in the test extras)")
    with oxigraph_serve(None) as store:
        publish(release, StoreEndpoints(store))
        folder = tmp_path_factory.mktemp("store")
        with _serve(folder, config, "--store", store) as target:
            yield target


@pytest.fixture(params=["embedded", "store_mode"])
def target(request) -> Target:
    """Each attack against both: the embedded store and serve --store."""
    return request.getfixturevalue(request.param)
