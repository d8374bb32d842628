"""Validating the sources with the SHACL shapes, and reporting so that an editor can act.

pyshacl does the validation. The data graph is the content of ``data/``; the vocabulary and
the theme scheme are passed as the ontology graph, so that a shape on ``schema:Event`` also
reaches our ``ki:Talk`` (its ``rdfs:subClassOf`` is then visible) and themes can be checked
for membership of the scheme. Around pyshacl this module adds what a report for people
needs: the file and line that describe the resource, the message in the editor's language,
and prefixed names instead of long IRIs. A few rules that SHACL cannot state about a source
file (no blank nodes, every resource under the base IRI) are checked here as well.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import SH

from .sources import ParsedSources, display_path

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


def to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """Copies pyoxigraph triples into an rdflib graph (pyshacl works on rdflib)."""
    graph = rdflib.Graph()
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


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


def _fits(text: str, template: str) -> bool:
    """Whether ``text`` is ``template`` with its {?var} / {$this} slots filled in."""
    pattern = re.escape(template)
    pattern = re.sub(r"\\\{\\?[?$]\w+\\\}", ".*", pattern)
    return re.fullmatch(pattern, text, re.S) is not None


def _messages(report: rdflib.Graph, result, shapes: rdflib.Graph) -> dict[str, str]:
    """The result's messages by language.

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
    for text in untagged:
        fitting = [t for t in templates if _fits(text, str(t))]
        if templates and not fitting:
            continue  # pyshacl adds the enclosing node shape's messages too; not this problem's
        lang = next((t.language for t in fitting if getattr(t, "language", None)), "")
        messages.setdefault(lang or "", text)
    return messages


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
        seen: set[str] = set()
        for triple in parsed.triples:
            for term in (triple.subject, triple.object):
                if isinstance(term, ox.BlankNode) and "bnode" not in seen:
                    seen.add("bnode")
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
            subject = triple.subject
            if (
                isinstance(subject, ox.NamedNode)
                and not subject.value.startswith(base_iri)
                and subject.value not in seen
            ):
                seen.add(subject.value)
                problems.append(
                    Problem(
                        "Violation",
                        focus=subject.value,
                        path=None,
                        value=None,
                        messages={
                            "de": f"Die Daten beschreiben nur Ressourcen unter der Basis-IRI "
                            f"{base_iri}; für fremde Ressourcen genügt ein Verweis.",
                            "en": f"The data describes only resources under the base IRI "
                            f"{base_iri}; for others' resources a link is enough.",
                        },
                        component=_SOURCE_RULE + "SubjectUnderBase",
                        locations=sources.locations(subject.value)
                        or [display_path(parsed.source.path, sources.root)],
                    )
                )
    return problems


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


def validate_sources(
    sources: ParsedSources, base_iri: str, shapes: Iterable[ox.Triple] | None = None
) -> ValidationReport:
    """Validates data and themes of ``sources`` against the shapes (by default, their own)."""
    # pyshacl copies only the RDFS/OWL axioms of the ontology graph into the data graph, so the
    # theme scheme (instances, not axioms) is validated as data, next to data/ itself.
    data_graph = to_rdflib(sources.triples("data") + sources.triples("themes"))
    shapes_graph = to_rdflib(shapes if shapes is not None else sources.triples("shapes"))
    ontology = to_rdflib(sources.triples("vocabulary"))
    _conforms, report, _text = shacl_validate(
        data_graph,
        shacl_graph=shapes_graph,
        ont_graph=ontology,
        inference="none",
        allow_infos=True,
        allow_warnings=True,
        abort_on_first=False,
    )
    problems: list[Problem] = []
    # Only the top-level results: nested sh:detail results repeat what their parent says.
    for result in report.objects(None, SH.result):
        severity = str(report.value(result, SH.resultSeverity)).rsplit("#", 1)[-1]
        focus = _term_text(report.value(result, SH.focusNode)) or ""
        messages = _messages(report, result, shapes_graph)
        problems.append(
            Problem(
                severity=severity if severity in SEVERITIES else "Violation",
                focus=focus,
                path=_path_text(report, report.value(result, SH.resultPath)),
                value=_term_text(report.value(result, SH.value)),
                messages=messages,
                shape=_term_text(report.value(result, SH.sourceShape)),
                component=_term_text(report.value(result, SH.sourceConstraintComponent)),
                locations=sources.locations(focus),
            )
        )
    rules = source_rules(sources, base_iri)
    _add_to_report(report, rules)
    problems += rules
    problems.sort(key=_report_order)
    return ValidationReport(problems, report)
