"""Running a SHACL validation: the SPARQL-compiled validator, pyshacl where it cannot, one report.

``shacl/compile.py`` validates every shape it can compile; each shape it cannot (it says why)
is validated by pyshacl, the reference implementation, on the same data: pyshacl gets the whole
shapes graph with the targets of all other shapes removed, so it validates exactly those shapes.
Both kinds of results become :class:`Finding` objects and one ``sh:ValidationReport``.

``validate_rdflib`` offers the same as ``pyshacl.validate`` for rdflib graphs (the W3C test
suite runs through it); the build calls :func:`run_shacl` on its Oxigraph store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from kommunen_kg.rdf.lexical_forms import LiteralCodec
from kommunen_kg.rdf.rdflib_terms import graph_to_ox, to_rdflib_term, triples_to_rdflib
from kommunen_kg.shacl.shapes import TARGETS, RawResult
from kommunen_kg.shacl.validator import Validator

VALIDATORS = ("fast", "pyshacl")


@dataclass
class Finding:
    """One validation result, ready for the report (rdflib terms)."""

    focus: rdflib.term.Node
    value: rdflib.term.Node | None
    path: rdflib.term.Node | None
    component: rdflib.URIRef
    shape: rdflib.term.Node
    severity: rdflib.URIRef
    messages: dict[str, str]  # language ("" for none) -> text
    constraint: rdflib.term.Node | None = None
    graph: rdflib.Graph | None = None  # where blank-node paths and shapes are described


@dataclass
class ShaclOutcome:
    findings: list[Finding]
    # shapes pyshacl validated instead, with the reason the fast validator gave
    fallback: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


# --- messages ---------------------------------------------------------------------------------


def _text(term) -> str:
    """A bound variable as pyshacl writes it into a message: the lexical form or the IRI."""
    return term.value if hasattr(term, "value") else str(term)


def fill(template: str, bindings: dict[str, object]) -> str:
    """A SHACL-SPARQL message template with its {?var} and {$var} slots filled in."""

    def slot(match: re.Match) -> str:
        name = match.group(1)
        return _text(bindings[name]) if name in bindings else match.group(0)

    return re.sub(r"\{[?$](\w+)\}", slot, template)


def messages_of(result: RawResult) -> dict[str, str]:
    """The messages of a result by language: the shape's (or SPARQL constraint's) sh:message
    values, templates filled in; a short generic text when the shape has none."""
    messages: dict[str, str] = {}
    for message in sorted(result.messages, key=lambda m: (m.language or "", m.value)):
        text = fill(message.value, result.bindings) if result.bindings else message.value
        messages.setdefault(message.language or "", text)
    if not messages:
        component = result.component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent")
        messages[""] = f"The value does not satisfy sh:{component[:1].lower()}{component[1:]}."
    return messages


def _fits(text: str, template: str) -> bool:
    """Whether ``text`` is ``template`` with its {?var} / {$this} slots filled in."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{\\?[?$]\w+\\\}", ".*", pattern)
    return re.fullmatch(pattern, text, re.S) is not None


def pyshacl_messages(report: rdflib.Graph, result, shapes: rdflib.Graph) -> dict[str, str]:
    """The messages of one of pyshacl's results, by language.

    pyshacl keeps the language tags of plain sh:message values, but the messages of SPARQL
    constraints come back untagged once their {?var} slots are filled in; their language is
    recovered from the tagged templates of the constraint they came from.
    """
    messages: dict[str, str] = {}
    untagged = []
    for message in report.objects(result, SH.resultMessage):
        lang = getattr(message, "language", None)
        if lang:
            messages.setdefault(lang, str(message))
        else:
            untagged.append(str(message))
    constraint = report.value(result, SH.sourceConstraint)
    templates = list(shapes.objects(constraint, SH.message)) if constraint is not None else []
    if constraint is not None and not templates:  # a constraint without messages: its shape's
        templates = list(shapes.objects(report.value(result, SH.sourceShape), SH.message))
    for text in untagged:
        fitting = [t for t in templates if _fits(text, str(t))]
        if templates and not fitting:
            continue  # pyshacl adds the enclosing node shape's messages too; not this problem's
        lang = next((t.language for t in fitting if getattr(t, "language", None)), "")
        messages.setdefault(lang or "", text)
    return messages


# --- running ----------------------------------------------------------------------------------


def _finding(result: RawResult, shapes_graph: rdflib.Graph, originals: dict | None) -> Finding:
    def data_term(term):
        if originals is not None and term in originals:
            return originals[term]
        return to_rdflib_term(term)

    return Finding(
        focus=data_term(result.focus),
        value=data_term(result.value) if result.value is not None else None,
        path=to_rdflib_term(result.path),
        component=rdflib.URIRef(result.component),
        shape=to_rdflib_term(result.shape),
        severity=rdflib.URIRef(result.severity),
        messages=messages_of(result),
        constraint=to_rdflib_term(result.constraint),
        graph=shapes_graph,
    )


def _without_targets(shapes: rdflib.Graph, keep: set, class_types: set) -> rdflib.Graph:
    """The shapes graph with the targets of every shape not in ``keep`` removed."""
    graph = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        graph.bind(prefix, namespace)
    target_predicates = {SH[t] for t in (*TARGETS, "target")}
    for s, p, o in shapes:
        if s not in keep and (
            p in target_predicates or (p == rdflib.RDF.type and o in class_types)
        ):
            continue
        graph.add((s, p, o))
    return graph


def _pyshacl(
    data: rdflib.Graph,
    shapes: rdflib.Graph,
    ont_graph: rdflib.Graph | None,
    pyshacl_options: dict,
) -> list[Finding]:
    from pyshacl import validate as shacl_validate

    _conforms, report, _text = shacl_validate(
        data, shacl_graph=shapes, ont_graph=ont_graph, **pyshacl_options
    )
    findings = []
    # Only the top-level results: nested sh:detail results repeat what their parent says.
    for result in report.objects(None, SH.result):
        findings.append(
            Finding(
                focus=report.value(result, SH.focusNode),
                value=report.value(result, SH.value),
                path=report.value(result, SH.resultPath),
                component=report.value(result, SH.sourceConstraintComponent),
                shape=report.value(result, SH.sourceShape),
                severity=report.value(result, SH.resultSeverity) or SH.Violation,
                messages=pyshacl_messages(report, result, shapes),
                constraint=report.value(result, SH.sourceConstraint),
                graph=report,
            )
        )
    return findings


def run_shacl(
    store: ox.Store,
    graphs: list[ox.NamedNode],
    shapes: list[ox.Triple],
    codec: LiteralCodec,
    data_for_pyshacl: Callable[[], rdflib.Graph],
    ont_graph: rdflib.Graph | None = None,
    validator: str = "fast",
    pyshacl_options: dict | None = None,
    shapes_graph: rdflib.Graph | None = None,
    originals: dict | None = None,
) -> ShaclOutcome:
    """Validates the union of ``graphs`` in ``store`` against ``shapes``.

    ``data_for_pyshacl`` gives the same data as an rdflib graph; it is only called when
    pyshacl has to validate something (``validator="pyshacl"`` or an unsupported shape).
    ``ont_graph`` is what pyshacl gets as its ontology graph (the store's ``graphs`` must
    already hold the axioms it would mix in). ``originals`` maps the store's terms back to the
    caller's rdflib terms, when the data came from rdflib.
    """
    if validator not in VALIDATORS:
        raise ValueError(f"unknown validator {validator!r}; choose one of {VALIDATORS}")
    options = pyshacl_options or {}
    shapes_graph = shapes_graph if shapes_graph is not None else triples_to_rdflib(shapes)
    if validator == "pyshacl":
        started = time.perf_counter()
        findings = _pyshacl(data_for_pyshacl(), shapes_graph, ont_graph, options)
        return ShaclOutcome(findings, timings={"pyshacl": time.perf_counter() - started})
    started = time.perf_counter()
    engine = Validator(store, graphs, shapes, codec)
    planned, unsupported = engine.plan()
    timings = {"compile": time.perf_counter() - started}
    started = time.perf_counter()
    results = engine.run(planned)
    timings["queries"] = time.perf_counter() - started
    findings = [_finding(r, shapes_graph, originals) for r in results]
    fallback = {str(shape): reason for shape, reason in unsupported.items()}
    if unsupported:
        started = time.perf_counter()
        keep = {to_rdflib_term(shape) for shape in unsupported}
        class_types = {to_rdflib_term(t) for t in engine.compiler.class_types()}
        subset = _without_targets(shapes_graph, keep, class_types)
        findings += _pyshacl(data_for_pyshacl(), subset, ont_graph, options)
        timings["pyshacl"] = time.perf_counter() - started
    return ShaclOutcome(findings, fallback, timings)


# --- the report graph -------------------------------------------------------------------------


def _copy(source: rdflib.Graph | None, node, target: rdflib.Graph, depth: int = 0):
    """Copies a blank node's description (a path, a shape) into the report, as pyshacl does:
    a list as a list (nothing else said about its nodes), anything else with all it says."""
    if source is None or not isinstance(node, rdflib.BNode) or depth > 10:
        return node
    if (node, None, None) in target:
        return node
    if (node, rdflib.RDF.first, None) in source:
        current = node
        while isinstance(current, rdflib.BNode) and (current, rdflib.RDF.first, None) in source:
            first = source.value(current, rdflib.RDF.first)
            rest = source.value(current, rdflib.RDF.rest)
            target.add((current, rdflib.RDF.first, _copy(source, first, target, depth + 1)))
            target.add((current, rdflib.RDF.rest, rest))
            current = rest
        return node
    for p, o in source.predicate_objects(node):
        target.add((node, p, _copy(source, o, target, depth + 1)))
    return node


def report_graph(findings: list[Finding], conforms: bool) -> rdflib.Graph:
    """The findings as a sh:ValidationReport (sh:conforms as given)."""
    graph = rdflib.Graph()
    graph.bind("sh", SH)
    report = rdflib.BNode()
    graph.add((report, rdflib.RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, rdflib.Literal(conforms)))
    for finding in findings:
        node = rdflib.BNode()
        graph.add((report, SH.result, node))
        graph.add((node, rdflib.RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, finding.focus))
        graph.add((node, SH.resultSeverity, finding.severity))
        graph.add((node, SH.sourceConstraintComponent, finding.component))
        if finding.shape is not None:
            graph.add((node, SH.sourceShape, _copy(finding.graph, finding.shape, graph)))
        if finding.path is not None:
            graph.add((node, SH.resultPath, _copy(finding.graph, finding.path, graph)))
        if finding.value is not None:
            graph.add((node, SH.value, finding.value))
        if finding.constraint is not None:
            graph.add((node, SH.sourceConstraint, _copy(finding.graph, finding.constraint, graph)))
        for lang, text in finding.messages.items():
            graph.add((node, SH.resultMessage, rdflib.Literal(text, lang=lang or None)))
    return graph


def validate_rdflib(
    data: rdflib.Graph, shapes: rdflib.Graph, validator: str = "fast", **pyshacl_options
) -> tuple[bool, rdflib.Graph, ShaclOutcome]:
    """``pyshacl.validate`` for rdflib graphs, through the fast validator: conforms (no results
    of any severity, as SHACL defines it), the report graph, and the outcome."""
    bnodes: dict = {}
    originals: dict = {}
    codec = LiteralCodec()
    store = ox.Store()
    graph = ox.NamedNode("urn:kommunen-kg:validate:data")
    data_triples = graph_to_ox(data, bnodes, originals)
    shape_triples = graph_to_ox(shapes, bnodes)
    typed = {
        (t.object.value, t.object.datatype.value)
        for t in data_triples + shape_triples
        if isinstance(t.object, ox.Literal) and not t.object.language
    }
    codec.prepare(typed)
    store.extend(
        ox.Quad(t.subject, t.predicate, codec.encode(t.object), graph) for t in data_triples
    )
    outcome = run_shacl(
        store,
        [graph],
        shape_triples,
        codec,
        data_for_pyshacl=lambda: data,
        validator=validator,
        pyshacl_options={"inference": "none", "advanced": False, **pyshacl_options},
        shapes_graph=shapes,
        originals=originals,
    )
    conforms = not outcome.findings
    return conforms, report_graph(outcome.findings, conforms), outcome
