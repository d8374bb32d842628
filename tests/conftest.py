"""Shared fixtures: one built release of the real sources, and real servers over it.

Tests build the release from the repository's own ontology/ and data/ into a temporary folder
(never into graphs/), and talk HTTP to the real application.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kommunen_kg.build import build
from kommunen_kg.config import Config, load_config
from kommunen_kg.publication import Publication, open_release
from kommunen_kg.release import Release

from .support import ROOT, server_in_thread


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The repository's configuration, writing releases into a temporary folder."""
    graphs = tmp_path_factory.mktemp("graphs")
    return load_config(ROOT / "kommunen-kg.toml").with_graphs_dir(graphs)


@pytest.fixture(scope="session")
def release(config: Config) -> Release:
    return build(config).release


@pytest.fixture(scope="session")
def publication(config: Config, release: Release) -> Publication:
    return open_release(config, release)


@pytest.fixture(scope="session")
def live_server(publication: Publication) -> str:
    """Base URL (ending in /) of the real application serving the built release."""
    from kommunen_kg.app import create_app

    with server_in_thread(create_app(publication)) as url:
        yield url


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    """A private copy of ontology/, data/ and the configuration, to break on purpose."""
    import shutil

    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "kommunen-kg.toml").write_text(
        (ROOT / "kommunen-kg.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return tmp_path
