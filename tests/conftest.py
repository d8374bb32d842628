"""Shared fixtures: one built release of the real sources, and real servers over it.

Tests build the release from the repository's own ontology/ and data/ into a temporary folder
(never into graphs/), and talk HTTP to the real application.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kommunen_kg.build.pipeline import build
from kommunen_kg.config import Config, load_config
from kommunen_kg.rdf.release import Release
from kommunen_kg.web.publication import Publication, derived_files, open_release

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
    """The release as ``kommunen-kg build`` writes it: dumps, and the site index beside them."""
    return build(config, derived=lambda files: derived_files(config, files)).release


@pytest.fixture(scope="session")
def publication(config: Config, release: Release) -> Publication:
    return open_release(config, release)


@pytest.fixture(scope="session")
def app(publication: Publication):
    """The real application over the built release (the one ``live_server`` serves)."""
    from kommunen_kg.web.app import create_app

    return create_app(publication)


@pytest.fixture(scope="session")
def live_server(app) -> str:
    """Base URL (ending in /) of the real application serving the built release."""
    with server_in_thread(app) as url:
        yield url


def copy_sources(folder: Path) -> Path:
    """ontology/, data/ and the configuration copied into ``folder`` (releases go to its
    graphs/, as the configuration's paths are relative to it)."""
    import shutil

    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, folder / name)
    (folder / "kommunen-kg.toml").write_text(
        (ROOT / "kommunen-kg.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return folder


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    """A private copy of ontology/, data/ and the configuration, to break on purpose."""
    return copy_sources(tmp_path)


# One more moved IRI and one removed IRI than the shipped data/redirects.ttl lists.
REDIRECT_ENTRIES = """
<id/person/peter-dehn> dcterms:isReplacedBy <id/person/peter-dehne> .
<id/talk/2020-11-11-doppelt> prov:invalidatedAtTime "2026-11-20T09:00:00Z"^^xsd:dateTime ;
    rdfs:comment "Doppelt erfasst; derselbe Vortrag wie der über KuDeQua."@de ,
        "Recorded twice; the same talk as the one on KuDeQua."@en .
"""


@pytest.fixture(scope="session")
def publication_with_redirects(tmp_path_factory: pytest.TempPathFactory) -> Publication:
    """A release of the real sources whose data/redirects.ttl also moves one IRI and removes
    another (:data:`REDIRECT_ENTRIES`)."""
    sources = copy_sources(tmp_path_factory.mktemp("with-redirects"))
    redirects = sources / "data" / "redirects.ttl"
    redirects.write_text(redirects.read_text(encoding="utf-8") + REDIRECT_ENTRIES, encoding="utf-8")
    config = load_config(sources / "kommunen-kg.toml")
    return open_release(config, build(config).release)


@pytest.fixture(scope="session")
def server_with_redirects(publication_with_redirects: Publication) -> str:
    """Base URL (ending in /) of the real application serving :func:`publication_with_redirects`."""
    from kommunen_kg.web.app import create_app

    with server_in_thread(create_app(publication_with_redirects)) as url:
        yield url


@pytest.fixture(scope="session")
def second_release(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """Another release of the same dataset: the real sources plus 300 more people."""
    root = tmp_path_factory.mktemp("sources-v2")
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "kommunen-kg.toml", root / "kommunen-kg.toml")
    people = "".join(
        f'\nperson:test-person{i} a schema:Person ; schema:name "Test Person{i}" ;\n'
        f'    schema:givenName "Test" ; schema:familyName "Person{i}" ;\n'
        "    dcterms:source <https://kommunen-innovativ.de/> .\n"
        for i in range(300)
    )
    with open(root / "data" / "people.ttl", "a", encoding="utf-8") as f:
        f.write(people)
    config = load_config(root / "kommunen-kg.toml").with_graphs_dir(root / "graphs")
    return build(config).release


@pytest.fixture(scope="session")
def exported_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workbook ``kommunen-kg workbook export`` writes for the repository's sources."""
    from kommunen_kg.build.workbook.export import export_workbook
    from kommunen_kg.build.workbook.importer import layout_for

    path = tmp_path_factory.mktemp("workbook") / "programm.xlsx"
    export_workbook(layout_for(load_config(ROOT / "kommunen-kg.toml")), path)
    return path


@pytest.fixture
def workbook_project(sources_copy: Path, exported_workbook: Path) -> tuple[Config, Path]:
    """A private copy of the sources, its configuration, and a workbook exported from them
    (the export of the repository's sources, which the copy equals)."""
    config = load_config(sources_copy / "kommunen-kg.toml")
    path = sources_copy / "programm.xlsx"
    shutil.copy(exported_workbook, path)
    return config, path
