"""The W3C SHACL core test suite, run against the validator the build uses (pyshacl).

The build stops a release on SHACL violations, so the validator must implement SHACL core as the
W3C defines it. Each test file holds data, shapes and the expected sh:ValidationReport; a test
passes when the report conforms the same way and has the same results, compared on focus node,
path, severity, constraint component, source shape and value (blank nodes compared by their
structure), as ../shared/conformance/README.md prescribes. Totals are printed at the end.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib import RDF, BNode, Namespace, URIRef
from rdflib.collection import Collection

from ..support import CONFORMANCE, count_outcome

SHACL_CORE = CONFORMANCE / "shacl-core" / "core"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SH = Namespace("http://www.w3.org/ns/shacl#")
RESULT_KEYS = (
    SH.focusNode,
    SH.resultPath,
    SH.resultSeverity,
    SH.sourceConstraintComponent,
    SH.sourceShape,
    SH.value,
)

SUITE = "W3C SHACL core (pyshacl)"


def _test_files() -> list[Path]:
    """Every test file the core manifest includes, in manifest order."""
    if not SHACL_CORE.is_dir():
        return []
    files = []
    top = rdflib.Graph().parse(SHACL_CORE / "manifest.ttl", format="turtle")
    for sub in sorted(top.objects(None, MF.include)):
        sub_path = Path(str(sub).removeprefix("file://"))
        manifest = rdflib.Graph().parse(sub_path, format="turtle")
        files += sorted(
            Path(str(f).removeprefix("file://")) for f in manifest.objects(None, MF.include)
        )
    return files


def _canon(graphs: tuple[rdflib.Graph, ...], node, depth: int = 0) -> str:
    """A blank node as the sorted description of its structure; other terms as themselves.

    The structure is read from the first graph that describes the node: a report's copy of a
    shape's path is described in the report, the shape itself in the shapes graph.
    """
    if not isinstance(node, BNode):
        return node.n3()
    if depth > 8:
        return "[...]"
    graph = next((g for g in graphs if (node, None, None) in g), graphs[0])
    parts = sorted(
        f"{p.n3()} {_canon(graphs, o, depth + 1)}"
        for p, o in graph.predicate_objects(node)
        if p not in (SH.message, SH.name, SH.description)
    )
    return "[" + "; ".join(parts) + "]"


def _results(report_graph: rdflib.Graph, report, lookup: tuple[rdflib.Graph, ...]) -> Counter:
    keys: Counter = Counter()
    for result in report_graph.objects(report, SH.result):
        key = tuple(
            _canon(lookup, report_graph.value(result, prop))
            if report_graph.value(result, prop) is not None
            else "-"
            for prop in RESULT_KEYS
        )
        keys[key] += 1
    return keys


def _load(path: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="turtle", publicID=path.resolve().as_uri())


def _cases() -> list[tuple[str, Path, URIRef]]:
    cases = []
    for path in _test_files():
        graph = _load(path)
        for manifest in graph.subjects(RDF.type, MF.Manifest):
            entries = graph.value(manifest, MF.entries)
            if entries is None:
                continue
            for entry in Collection(graph, entries):
                name = f"{path.parent.name}/{path.stem}"
                cases.append((name, path, entry))
    return cases


CASES = _cases()

# Tests pyshacl fails, each with the reason; they run and are reported (strict xfail: if pyshacl
# is fixed, the run says so and this entry must go).
KNOWN_DEVIATIONS = {
    "property/uniqueLang-002": (
        'pyshacl treats sh:uniqueLang "1"^^xsd:boolean as true; the spec activates the '
        "constraint only for true. Our shapes write `true`, so the build is not affected."
    ),
}


def _param(case: tuple[str, Path, URIRef]):
    reason = KNOWN_DEVIATIONS.get(case[0])
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(*case, id=case[0], marks=marks)


@pytest.mark.conformance
@pytest.mark.skipif(not CASES, reason=f"SHACL core suite not found at {SHACL_CORE}")
@pytest.mark.parametrize(("name", "path", "entry"), [_param(c) for c in CASES])
def test_w3c_shacl_core(name: str, path: Path, entry: URIRef) -> None:
    graph = _load(path)
    action = graph.value(entry, MF.action)
    data_iri = graph.value(action, SHT.dataGraph)
    shapes_iri = graph.value(action, SHT.shapesGraph)

    def graph_at(iri) -> rdflib.Graph:
        target = Path(str(iri).removeprefix("file://"))
        return graph if target == path.resolve() else _load(target)

    data = graph_at(data_iri)
    shapes = graph_at(shapes_iri)
    expected = graph.value(entry, MF.result)
    try:
        conforms, report_graph, _text = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=False, debug=False
        )
        report = next(report_graph.subjects(RDF.type, SH.ValidationReport))
        lookup = (report_graph, shapes, data)
        expected_conforms = graph.value(expected, SH.conforms).toPython()
        outcome = conforms == expected_conforms and _results(
            report_graph, report, lookup
        ) == _results(graph, expected, (graph, shapes, data))
    except Exception:
        count_outcome(SUITE, "failed")
        raise
    known = name in KNOWN_DEVIATIONS
    count_outcome(SUITE, "passed" if outcome else "failed (known deviation)" if known else "failed")
    assert conforms == expected_conforms, (
        f"{name}: conforms {conforms}, expected {expected_conforms}"
    )
    assert _results(report_graph, report, lookup) == _results(
        graph, expected, (graph, shapes, data)
    )
