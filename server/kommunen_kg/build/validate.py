"""Validating the sources with the SHACL shapes, and reporting so that an editor can act.

The data graph is the content of ``data/`` and the theme scheme; the vocabulary is the
ontology graph: its RDFS/OWL axioms are mixed into the data graph (pyshacl's "inoculation"),
so that a shape on ``schema:Event`` also reaches our ``ki:Talk`` through ``rdfs:subClassOf``.

Two validators give the same report (``--validator``): ``fast`` (the default) compiles the
shapes into set-based SPARQL queries over the build's Oxigraph store (``shacl/compile.py``),
handing any shape it cannot compile to pyshacl; ``pyshacl`` validates everything with pyshacl,
the reference implementation. Around either, this module adds what a report for people needs:
the file and line that describe the resource, the message in the editor's language, and
prefixed names instead of long IRIs. A few rules that SHACL cannot state about a source file
(no blank nodes, every resource under the base IRI) are checked here as well.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from kommunen_kg.rdf.rdflib_terms import to_ox_term, triples_to_rdflib
from kommunen_kg.rdf.sources import ParsedSources, display_path
from kommunen_kg.shacl.run import VALIDATORS, Finding, report_graph, run_shacl

SEVERITIES = ("Violation", "Warning", "Info")
_LABELS = {
    "en": {"Violation": "ERROR", "Warning": "WARNING", "Info": "NOTE"},
    "de": {"Violation": "FEHLER", "Warning": "WARNUNG", "Info": "HINWEIS"},
}
_SOURCE_RULE = "urn:kommunen-kg:source-rule:"


@dataclass(frozen=True)
class Problem:
    """One result of the validation, with everything an editor needs to fix it."""

    severity: str
    focus: str
    path: str | None
    value: str | None
    messages: dict[str, str]
    shape: str | None = None
    component: str | None = None
    locations: list[str] = field(default_factory=list)

    def message(self, lang: str) -> str:
        return (
            self.messages.get(lang)
            or self.messages.get("en")
            or self.messages.get("")
            or next(iter(self.messages.values()), "")
        )


@dataclass
class ValidationReport:
    """All problems found; ``conforms`` is false as soon as one is a violation."""

    problems: list[Problem]
    report_graph: rdflib.Graph | None = None
    # shapes pyshacl validated because the fast validator cannot compile them, with the reason
    fallback: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not any(p.severity == "Violation" for p in self.problems)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "counts": {s.lower(): self.count(s) for s in SEVERITIES},
                "problems": [asdict(p) for p in self.problems],
            },
            ensure_ascii=False,
            indent=2,
        )

    def to_turtle(self) -> str:
        graph = self.report_graph if self.report_graph is not None else rdflib.Graph()
        graph.bind("sh", SH)
        return graph.serialize(format="turtle")

    def to_text(self, lang: str = "en", prefixes: dict[str, str] | None = None) -> str:
        labels = _LABELS.get(lang, _LABELS["en"])
        short = _shortener(prefixes or {})
        lines: list[str] = []
        for problem in self.problems:
            where = ", ".join(problem.locations) or "(no source line)"
            lines.append(f"{labels[problem.severity]}  {where}  {short(problem.focus)}")
            if problem.path:
                lines.append(
                    f"    {'Eigenschaft' if lang == 'de' else 'property'}: {short(problem.path)}"
                )
            if problem.value is not None:
                lines.append(
                    f"    {'Wert' if lang == 'de' else 'value'}:    {short(problem.value)}"
                )
            lines.append(f"    {problem.message(lang)}")
            lines.append("")
        counts = {s: self.count(s) for s in SEVERITIES}
        if lang == "de":
            summary = (
                f"{counts['Violation']} Fehler, {counts['Warning']} Warnungen, "
                f"{counts['Info']} Hinweise"
            )
        else:
            summary = (
                f"{counts['Violation']} errors, {counts['Warning']} warnings, "
                f"{counts['Info']} notes"
            )
        lines.append(summary)
        return "\n".join(lines)


def _shortener(prefixes: dict[str, str]):
    # Longest namespace first, so that id/person/ wins over the base IRI alone.
    ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def short(text: str) -> str:
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        for prefix, namespace in ordered:
            if text.startswith(namespace) and namespace:
                local = text[len(namespace) :]
                if local and all(c.isalnum() or c in "-_." for c in local):
                    return f"{prefix}:{local}"
        return text if text.startswith('"') else f"<{text}>" if "://" in text else text

    return short


def _term_text(term: rdflib.term.Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.Literal):
        return term.n3()
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return str(term)


def _path_text(report: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
    if path is None:
        return None
    if isinstance(path, rdflib.BNode):
        inverse = report.value(path, SH.inversePath)
        if inverse is not None:
            return f"^{inverse}"
        alternatives = report.value(path, SH.alternativePath)
        if alternatives is not None:
            items = list(rdflib.collection.Collection(report, alternatives))
            return "|".join(str(i) for i in items)
        return "(complex path)"
    return str(path)


def _report_order(problem: Problem) -> tuple:
    """Errors first, then by file and line number, so a report reads top to bottom."""
    where = problem.locations[0] if problem.locations else ""
    file, _, line = where.rpartition(":")
    position = (file, int(line)) if line.isdigit() else (where, 0)
    return (SEVERITIES.index(problem.severity), position, problem.focus, problem.path or "")


def source_rules(sources: ParsedSources, base_iri: str) -> list[Problem]:
    """Rules about the data files that SHACL cannot express: IRIs only, under the base."""
    problems = []
    for parsed in sources.files:
        if parsed.source.graph != "data":
            continue
        if parsed.has_blank_nodes:
            problems.append(
                Problem(
                    "Violation",
                    focus=str(parsed.source.path),
                    path=None,
                    value=None,
                    messages={
                        "de": "Die Daten enthalten einen leeren Knoten ([ ] oder _:x). "
                        "Jede Ressource braucht eine IRI, damit andere auf sie verweisen "
                        "können und Dumps reproduzierbar bleiben.",
                        "en": "The data contains a blank node ([ ] or _:x). Every "
                        "resource needs an IRI, so that others can link to it and the "
                        "dumps stay reproducible.",
                    },
                    component=_SOURCE_RULE + "NoBlankNodes",
                    locations=[display_path(parsed.source.path, sources.root)],
                )
            )
        outside = parsed.outside_subjects
        if base_iri != sources.base_iri:  # parsed against another base: look again
            outside = _outside_subjects(parsed.source.path, sources, base_iri)
        for subject in outside:
            if subject.startswith(base_iri):
                continue
            problems.append(
                Problem(
                    "Violation",
                    focus=subject,
                    path=None,
                    value=None,
                    messages={
                        "de": f"Die Daten beschreiben nur Ressourcen unter der Basis-IRI "
                        f"{base_iri}; für fremde Ressourcen genügt ein Verweis.",
                        "en": f"The data describes only resources under the base IRI "
                        f"{base_iri}; for others' resources a link is enough.",
                    },
                    component=_SOURCE_RULE + "SubjectUnderBase",
                    locations=sources.locations(subject)
                    or [display_path(parsed.source.path, sources.root)],
                )
            )
    return problems


def _outside_subjects(path, sources: ParsedSources, base_iri: str) -> list[str]:
    from kommunen_kg.rdf.sources import RDF_SUFFIXES

    seen: dict[str, None] = {}
    for quad in ox.parse(
        path=str(path), format=RDF_SUFFIXES[path.suffix], base_iri=sources.base_iri
    ):
        subject = quad.subject
        if isinstance(subject, ox.NamedNode) and not subject.value.startswith(base_iri):
            seen.setdefault(subject.value, None)
    return list(seen)


def _add_to_report(report: rdflib.Graph, problems: list[Problem]) -> None:
    """Adds the source-rule problems to pyshacl's sh:ValidationReport, so --format turtle
    shows everything the text report shows."""
    if not problems:
        return
    node = next(report.subjects(rdflib.RDF.type, SH.ValidationReport))
    report.set((node, SH.conforms, rdflib.Literal(False)))
    for problem in problems:
        result = rdflib.BNode()
        report.add((node, SH.result, result))
        report.add((result, rdflib.RDF.type, SH.ValidationResult))
        focus = problem.focus
        report.add(
            (
                result,
                SH.focusNode,
                rdflib.URIRef(focus) if "://" in focus else rdflib.Literal(focus),
            )
        )
        report.add((result, SH.resultSeverity, SH.Violation))
        report.add((result, SH.sourceConstraintComponent, rdflib.URIRef(problem.component or "")))
        for lang, text in problem.messages.items():
            report.add((result, SH.resultMessage, rdflib.Literal(text, lang=lang or None)))


AXIOMS = ox.NamedNode("urn:kommunen-kg:graph:axioms")
PYSHACL_OPTIONS = {
    "inference": "none",
    "allow_infos": True,
    "allow_warnings": True,
    "abort_on_first": False,
}


def _axioms(vocabulary: rdflib.Graph) -> rdflib.Graph:
    """The RDFS/OWL axioms of the vocabulary that pyshacl mixes into the data graph when it is
    given an ontology graph; computed by pyshacl's own function, so both validators see the
    same data graph."""
    from pyshacl.rdfutil.inoculate import inoculate

    mixed = rdflib.Graph()
    inoculate(mixed, vocabulary)
    return mixed


def _problem(finding: Finding, sources: ParsedSources) -> Problem:
    severity = str(finding.severity).rsplit("#", 1)[-1]
    focus = _term_text(finding.focus) or ""
    return Problem(
        severity=severity if severity in SEVERITIES else "Violation",
        focus=focus,
        path=_path_text(finding.graph, finding.path) if finding.graph is not None else None,
        value=_term_text(finding.value),
        messages=finding.messages,
        shape=_term_text(finding.shape),
        component=_term_text(finding.component),
        locations=sources.locations(focus),
    )


def validate_sources(
    sources: ParsedSources,
    base_iri: str,
    shapes: Iterable[ox.Triple] | None = None,
    validator: str = "fast",
) -> ValidationReport:
    """Validates data and themes of ``sources`` against the shapes (by default, their own).

    ``validator`` is ``fast`` (SPARQL over the sources' store, pyshacl for what it cannot
    compile) or ``pyshacl``; both give the same problems.
    """
    if validator not in VALIDATORS:
        raise ValueError(f"unknown validator {validator!r}; choose one of {VALIDATORS}")
    shape_triples = list(shapes) if shapes is not None else sources.triples("shapes")
    vocabulary = triples_to_rdflib(sources.triples("vocabulary"))
    store, codec = sources.store, sources.codec
    # The theme scheme (instances, not axioms) is validated as data, next to data/ itself.
    graphs = [sources.graph("data"), sources.graph("themes")]

    def data_for_pyshacl() -> rdflib.Graph:
        return triples_to_rdflib(sources.triples("data") + sources.triples("themes"))

    if validator == "fast":
        axioms = [ox.Triple(*t) for t in _rdflib_to_ox(_axioms(vocabulary))]
        codec.prepare(
            (t.object.value, t.object.datatype.value)
            for t in axioms
            if isinstance(t.object, ox.Literal) and not t.object.language
        )
        store.extend(
            ox.Quad(t.subject, t.predicate, codec.encode(t.object), AXIOMS) for t in axioms
        )
        graphs.append(AXIOMS)
    try:
        outcome = run_shacl(
            store,
            graphs,
            shape_triples,
            codec,
            data_for_pyshacl,
            ont_graph=vocabulary,
            validator=validator,
            pyshacl_options=PYSHACL_OPTIONS,
            shapes_graph=triples_to_rdflib(shape_triples),
        )
    finally:
        if validator == "fast":
            store.remove_graph(AXIOMS)
    problems = [_problem(f, sources) for f in outcome.findings]
    rules = source_rules(sources, base_iri)
    violations = any(p.severity == "Violation" for p in problems)
    report = report_graph(outcome.findings, conforms=not violations)
    _add_to_report(report, rules)
    problems += rules
    problems.sort(key=_report_order)
    return ValidationReport(problems, report, outcome.fallback, outcome.timings)


def _rdflib_to_ox(graph: rdflib.Graph):
    bnodes: dict = {}
    for triple in graph:
        yield tuple(to_ox_term(t, bnodes) for t in triple)
