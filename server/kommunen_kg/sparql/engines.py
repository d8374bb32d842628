"""The engines of one release, wired in one place.

Two kinds of question reach a release (see ``sparql/engine.py``): a client's query,
untrusted, answered as bytes under a time and result limit, and the queries our own views write,
answered as pyoxigraph terms. :class:`Engines` holds one engine for each, bound to one release;
``serve``, ``serve --store``, ``serve FILES`` and the tests all get theirs from the functions
below, so that a later switch between releases has one object to replace.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from kommunen_kg.config import ServerConfig
from kommunen_kg.sparql.answer_cache import AnswerCache
from kommunen_kg.sparql.bounds import Bounds
from kommunen_kg.sparql.engine import ClientEngine, EmbeddedEngine, TrustedEngine
from kommunen_kg.sparql.pool import QueryPool
from kommunen_kg.sparql.remote.engine import RemoteEngine
from kommunen_kg.sparql.statistics import Statistics
from kommunen_kg.sparql.triage import Triage


@dataclass
class Engines:
    """``client`` answers client queries, ``trusted`` the views' queries; ``pool`` is the query
    pool behind ``client`` when there is one (it forks its processes after the server forks)."""

    client: ClientEngine
    trusted: TrustedEngine
    pool: QueryPool | None = None
    remote: RemoteEngine | None = None

    def limit_requests(self, most: int) -> None:
        """At most ``most`` client queries of this process wait for an answer at once (in the
        query pool, or at the remote store); the next are refused at once."""
        limited = self.pool if self.pool is not None else self.remote
        if limited is not None:
            limited.limit_requests(most)

    def close(self) -> None:
        self.client.close()
        self.trusted.close()


def over_store(
    store: ox.Store,
    version: str,
    server: ServerConfig,
    *,
    union_default_graph: bool = True,
    pooled: bool = False,
    answer_cache: bool = True,
    statistics: Statistics | None = None,
) -> Engines:
    """Engines over a store in this process.

    ``pooled``: client queries run in killable worker processes (``serve``); else in this
    process (tests, the conformance runner). With the store's ``statistics``, pooled client
    queries that are bounded by construction run in this process all the same
    (``triage.py``, ``[server] in_process_rows``). ``answer_cache``: answers are kept per
    release, off where a store is refilled in place. Raises ConfigError for pool settings that
    cannot work.
    """
    trusted = EmbeddedEngine(store, union_default_graph)
    pool = QueryPool.from_config(store, union_default_graph, server) if pooled else None
    client: ClientEngine = pool if pool is not None else trusted
    if pool is not None and statistics is not None and server.in_process_rows > 0:
        bounds = Bounds(statistics, server.in_process_rows)
        client = Triage(pool, trusted, bounds, admission=pool.admission)
    if answer_cache and server.answer_cache_size > 0:
        client = AnswerCache(client, version, max_bytes=server.answer_cache_size * 1024 * 1024)
    return Engines(client, trusted, pool)


def over_remote(
    remote: RemoteEngine, version: str, *, answer_cache: bool = True, cache_mb: int = 32
) -> Engines:
    """Engines over a remote SPARQL store: it answers both kinds of question."""
    client: ClientEngine = remote
    if answer_cache and cache_mb > 0:
        client = AnswerCache(remote, version, max_bytes=cache_mb * 1024 * 1024)
    return Engines(client, remote, remote=remote)
