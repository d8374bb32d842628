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

from .support import CONFORMANCE_TOTALS, ROOT, server_in_thread


def pytest_terminal_summary(terminalreporter) -> None:
    """Pass counts per conformance suite, so that CI shows them at the end of the run."""
    if not CONFORMANCE_TOTALS:
        return
    terminalreporter.section("conformance suites")
    for suite, counts in sorted(CONFORMANCE_TOTALS.items()):
        total = sum(counts.values())
        detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
        terminalreporter.write_line(f"{suite}: {detail} (of {total})")


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
def app(publication: Publication):
    """The real application over the built release (the one ``live_server`` serves)."""
    from kommunen_kg.app import create_app

    return create_app(publication)


@pytest.fixture(scope="session")
def live_server(app) -> str:
    """Base URL (ending in /) of the real application serving the built release."""
    with server_in_thread(app) as url:
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
