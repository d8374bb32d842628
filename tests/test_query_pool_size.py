"""How many query processes a server worker may start (``[server] query_workers_max``),
and the other numbers of ``[server]``."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from kommunen_kg.config import ConfigError, ServerConfig
from kommunen_kg.sparql.pool.scheduler import QueryPool, most_workers


def test_by_default_a_pool_has_one_query_process_per_core():
    """Queries are CPU-bound: a process more than there are cores adds only memory."""
    assert ServerConfig().query_workers_max == 0
    assert most_workers(1, 0) == (os.cpu_count() or 1)


def test_one_per_core_is_never_fewer_than_the_processes_kept_ready():
    assert most_workers(64, 0) == 64


def test_a_configured_number_is_taken_as_it_is():
    assert most_workers(2, 8) == 8


@pytest.mark.parametrize(
    ("least", "most"), [(-1, 2), (0, -1), (3, 2)], ids=["negative-min", "negative-max", "min>max"]
)
def test_a_pool_size_that_cannot_work_is_a_configuration_error(least, most):
    server = replace(ServerConfig(), query_workers_min=least, query_workers_max=most)
    with pytest.raises(ConfigError, match="query_workers"):
        QueryPool.from_config(None, True, server)


@pytest.mark.parametrize("setting", ["answer_cache_size = -1", "query_timeout = -0.5"])
def test_a_negative_server_number_is_refused_when_the_configuration_is_read(tmp_path, setting):
    """A slip that would quietly turn a cache or a limit off stops with the key named."""
    from kommunen_kg.config import load_config

    toml = tmp_path / "kommunen-kg.toml"
    toml.write_text(f"[server]\n{setting}\n", encoding="utf-8")
    key = setting.split(" ")[0]
    with pytest.raises(ConfigError, match=f"{key} must not be negative"):
        load_config(toml)
