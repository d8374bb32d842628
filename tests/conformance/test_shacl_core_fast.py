"""The W3C SHACL core test suite, run against the SPARQL-compiled validator the build uses.

The same files and the same comparison as :mod:`test_shacl_core` (which runs pyshacl, the
reference): a test passes when the report conforms the same way and has the same results,
compared on focus node, path, severity, constraint component, source shape and value. Shapes the
fast validator cannot compile are validated by pyshacl inside it; the test ids that take that
path are listed in FALLBACK below, so that a regression in coverage shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, URIRef

from kommunen_kg.shacl.run import validate_rdflib

from ..support import count_outcome
from .test_shacl_core import CASES, MF, SH, SHT, _results
from .test_shacl_core import _load as _load_normalised

SUITE = "W3C SHACL core (fast validator)"

# Tests whose shapes the fast validator hands to pyshacl, with the reason it gives.
FALLBACK: dict[str, str] = {}
# Tests the fast validator fails, each with the reason (strict xfail).
KNOWN_DEVIATIONS: dict[str, str] = {}


def _load(path: Path) -> rdflib.Graph:
    """The test file as written: rdflib normally rewrites literals into canonical form
    ("1"^^xsd:boolean becomes "true", "none"^^xsd:boolean "false"), which changes what some tests
    test; data, shapes and expected report are all read this way, so they stay comparable."""
    previous = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        return _load_normalised(path)
    finally:
        rdflib.NORMALIZE_LITERALS = previous


def _param(case):
    reason = KNOWN_DEVIATIONS.get(case[0])
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(*case, id=case[0], marks=marks)


@pytest.mark.conformance
@pytest.mark.skipif(not CASES, reason="SHACL core suite not found")
@pytest.mark.parametrize(("name", "path", "entry"), [_param(c) for c in CASES])
def test_w3c_shacl_core_fast(name: str, path: Path, entry: URIRef) -> None:
    graph = _load(path)
    action = graph.value(entry, MF.action)

    def graph_at(iri):
        target = Path(str(iri).removeprefix("file://"))
        return graph if target == path.resolve() else _load(target)

    data = graph_at(graph.value(action, SHT.dataGraph))
    shapes = graph_at(graph.value(action, SHT.shapesGraph))
    expected = graph.value(entry, MF.result)
    try:
        conforms, report_graph, outcome = validate_rdflib(data, shapes)
        report = next(report_graph.subjects(RDF.type, SH.ValidationReport))
        lookup = (report_graph, shapes, data)
        expected_conforms = graph.value(expected, SH.conforms).toPython()
        outcome_ok = conforms == expected_conforms and _results(
            report_graph, report, lookup
        ) == _results(graph, expected, (graph, shapes, data))
    except Exception:
        count_outcome(SUITE, "failed")
        raise
    known = name in KNOWN_DEVIATIONS
    passed = "passed (through the pyshacl fallback)" if outcome.fallback else "passed"
    count_outcome(
        SUITE, passed if outcome_ok else "failed (known deviation)" if known else "failed"
    )
    assert bool(outcome.fallback) == (name in FALLBACK), outcome.fallback
    assert conforms == expected_conforms, (
        f"{name}: conforms {conforms}, expected {expected_conforms}"
    )
    assert _results(report_graph, report, lookup) == _results(
        graph, expected, (graph, shapes, data)
    )
