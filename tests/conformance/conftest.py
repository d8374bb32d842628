"""The W3C SPARQL 1.1 conformance run: one real server, its store refilled for every test.

The server is the real application (``create_app``) behind werkzeug's threaded server on a
loopback port, over a :class:`Publication` with plain SPARQL dataset semantics (the default graph
is the store's default graph, not the union). Every test empties the store, loads its own data
and talks HTTP to the endpoint.

At the end of the run a table of outcomes per suite is printed, so that CI shows the pass counts
(and the approved tests among them) without anyone reading the log.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

import pyoxigraph as ox
import pytest

from kommunen_kg.config import Config, DatasetConfig
from kommunen_kg.web.publication import Publication

from ..support import server_in_thread


@dataclass
class ConformanceServer:
    """The endpoint under test and the publication behind it, to refill between tests."""

    url: str  # ends with /
    publication: Publication
    config: Config

    @property
    def endpoint(self) -> str:
        return self.url + "sparql"

    def reset(self, base_iri: str | None = None) -> ox.Store:
        """Empties the store; ``base_iri`` is the base the endpoint resolves queries against.

        A local runner would parse each query with its file URL as base; over HTTP the endpoint
        supplies the base, so the harness sets it to the query file's URL for the test.
        """
        self.publication.store.clear()
        dataset = replace(self.config.dataset, base_iri=base_iri or self.config.base_iri)
        self.publication.config = replace(self.config, dataset=dataset)
        return self.publication.store


@pytest.fixture(scope="session")
def sparql11_server():
    from kommunen_kg.web.app import create_app

    config = Config(dataset=DatasetConfig(base_iri="http://example.org/conformance/"))
    config = replace(config, server=replace(config.server, union_default_graph=False))
    # Each test refills the store in place, so answers must not be kept between tests.
    publication = Publication(
        config=config, store=ox.Store(), union_default_graph=False, answer_cache=False
    )
    with server_in_thread(create_app(publication)) as url:
        yield ConformanceServer(url, publication, config)


# --- the summary table ----------------------------------------------------------------------

_OUTCOMES: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
_FAILED: list[tuple[str, str]] = []
_XFAILED: list[tuple[str, str]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = dict(report.user_properties)
    if "sparql11_suite" not in props:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        suite = props["sparql11_suite"]
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        elif report.skipped:
            outcome = "n/a"
        else:
            outcome = report.outcome
        _OUTCOMES[suite][outcome] += 1
        if props.get("sparql11_approval") == "Approved":
            _OUTCOMES[suite]["approved"] += 1
            if outcome == "passed":
                _OUTCOMES[suite]["approved passed"] += 1
        if outcome == "xfailed":
            _XFAILED.append((props["sparql11_id"], str(report.wasxfail)[:160]))
        if outcome == "failed":
            lines = str(report.longrepr).strip().splitlines() or [""]
            reason = next((line[2:] for line in lines if line.startswith("E ")), lines[-1])
            _FAILED.append((props["sparql11_id"], reason.strip()[:300]))


def pytest_terminal_summary(terminalreporter) -> None:
    if not _OUTCOMES:
        return
    columns = ["passed", "failed", "xfailed", "n/a", "approved passed", "approved"]
    tr = terminalreporter
    tr.section("W3C SPARQL 1.1 conformance, through HTTP")
    tr.write_line(f"{'suite':<22}" + "".join(f"{c:>17}" for c in columns))
    totals: dict[str, int] = defaultdict(int)
    for suite in sorted(_OUTCOMES):
        row = _OUTCOMES[suite]
        tr.write_line(f"{suite:<22}" + "".join(f"{row.get(c, 0):>17}" for c in columns))
        for c in columns:
            totals[c] += row.get(c, 0)
    tr.write_line(f"{'total':<22}" + "".join(f"{totals[c]:>17}" for c in columns))
    for test_id, reason in _XFAILED:
        tr.write_line(f"engine deviation (xfail) {test_id}: {reason}")
    for test_id, reason in _FAILED:
        tr.write_line(f"FAILED {test_id}: {reason}")
