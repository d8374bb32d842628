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

import calendar
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from kommunen_kg.build.terms import RDF_TYPE, unknown_terms
from kommunen_kg.rdf.lexical_forms import ILL_FORMED
from kommunen_kg.rdf.rdflib_terms import to_ox_term, to_rdflib_term, triples_to_rdflib
from kommunen_kg.rdf.sources import ParsedSources, display_path
from kommunen_kg.shacl.run import VALIDATORS, Finding, report_graph, run_shacl

SEVERITIES = ("Violation", "Warning", "Info")
# The summary line of a report: each severity's count with its word, singular for one.
SUMMARY_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "de": {
        "Violation": ("Fehler", "Fehler"),
        "Warning": ("Warnung", "Warnungen"),
        "Info": ("Hinweis", "Hinweise"),
    },
    "en": {
        "Violation": ("error", "errors"),
        "Warning": ("warning", "warnings"),
        "Info": ("note", "notes"),
    },
}
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
    """All problems found.

    Two verdicts, as the SHACL specification and an editor need them: ``conforms`` is SHACL's
    ``sh:conforms``, true only when there is no result at all (a note is a result: W3C test
    ``core/misc/severity-001``); ``passes`` is true when no result is a violation, which is
    what the build and the ``validate`` command's exit code go by (warnings and notes stay
    advice).
    """

    problems: list[Problem]
    report_graph: rdflib.Graph | None = None
    # shapes pyshacl validated because the fast validator cannot compile them, with the reason
    fallback: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # the prefixes the validated files declare (name -> namespace): the text report writes IRIs
    # with them where the project's own names differ (org: in data/, organisation: in dumps)
    source_prefixes: dict[str, str] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not self.problems

    @property
    def passes(self) -> bool:
        return not any(p.severity == "Violation" for p in self.problems)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    def to_json(self) -> str:
        return json.dumps(
            {
                "conforms": self.conforms,
                "passes": self.passes,
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
        short = _shortener(_with_source_names(prefixes or {}, self.source_prefixes))
        lines: list[str] = []
        for problem in self.problems:
            where = ", ".join(problem.locations) or "(no source line)"
            lines.append(f"{labels[problem.severity]}  {where}  {short(problem.focus)}")
            # the two labels padded to one width, so that the values line up in both languages
            path_label, value_label = (
                ("Eigenschaft:", "Wert:")
                if lang == "de"
                else (
                    "property:",
                    "value:",
                )
            )
            width = max(len(path_label), len(value_label)) + 1
            if problem.path:
                lines.append(f"    {path_label:<{width}}{short(problem.path)}")
            if problem.value is not None:
                lines.append(f"    {value_label:<{width}}{short(problem.value)}")
            lines.append(f"    {problem.message(lang)}")
            lines.append("")
        counts = {s: self.count(s) for s in SEVERITIES}
        words = SUMMARY_WORDS[lang if lang in SUMMARY_WORDS else "en"]
        lines.append(
            ", ".join(
                f"{counts[severity]} {one if counts[severity] == 1 else many}"
                for severity, (one, many) in words.items()
            )
        )
        return "\n".join(lines)


def _with_source_names(prefixes: dict[str, str], declared: dict[str, str]) -> dict[str, str]:
    """``prefixes`` with the files' own name for each namespace they declare: an editor looks
    for ``org:stadt-dortmund`` in data/, not for ``organisation:stadt-dortmund``."""
    named = set(declared.values())
    return {**{k: v for k, v in prefixes.items() if v not in named}, **declared}


def _shortener(prefixes: dict[str, str]):
    # Longest namespace first, so that id/person/ wins over the base IRI alone.
    ordered = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def short(text: str) -> str:
        typed = re.fullmatch(r'(".*")\^\^<([^<>]+)>', text, flags=re.S)
        if typed:  # a typed literal: its datatype as a prefixed name, like the sources write it
            datatype = short(typed.group(2))
            return f"{typed.group(1)}^^{datatype}"
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


def term_rules(sources: ParsedSources) -> list[Problem]:
    """Every term the data uses must be one the project knows (see ``build/terms.py``)."""
    problems = []
    for unknown in unknown_terms(sources):
        kind_de, kind_en = ("Klasse", "class") if unknown.as_class else ("Eigenschaft", "property")
        hint_de = f" Gemeint ist vielleicht {unknown.suggestion}." if unknown.suggestion else ""
        hint_en = f" Did you mean {unknown.suggestion}?" if unknown.suggestion else ""
        problems.append(
            Problem(
                "Violation",
                focus=unknown.subject,
                path=RDF_TYPE if unknown.as_class else unknown.term,
                value=unknown.term if unknown.as_class else None,
                messages={
                    "de": f"{unknown.written} ist keine {kind_de}, die das Vokabular oder die "
                    f"Shapes kennen; ein Tippfehler?{hint_de} Was diese Aussage sagen "
                    "sollte, fehlt sonst auf den Seiten und in den Abfragen.",
                    "en": f"{unknown.written} is no {kind_en} the vocabulary or the shapes "
                    f"know; a typo?{hint_en} Otherwise what this statement was to say is "
                    "missing from the pages and the queries.",
                },
                component=_SOURCE_RULE + "KnownTerm",
                locations=[unknown.location],
            )
        )
    return problems


def literal_rules(sources: ParsedSources) -> list[Problem]:
    """Literals outside their datatype's lexical space (a 31 November, a number with a
    letter): one problem each, at the line that writes it."""
    problems = []
    for part in ("data", "themes"):
        for quad in sources.store.quads_for_pattern(None, None, None, sources.graph(part)):
            term = quad.object
            if type(term) is not ox.Literal or term.language is not None:
                continue
            if not term.datatype.value.startswith(ILL_FORMED):
                continue
            literal = sources.codec.decode(term)
            datatype = literal.datatype.value
            short = datatype.replace("http://www.w3.org/2001/XMLSchema#", "xsd:")
            problems.append(
                Problem(
                    "Violation",
                    focus=_term_text(to_rdflib_term(quad.subject)) or "",
                    path=quad.predicate.value,
                    value=f'"{literal.value}"^^<{datatype}>',
                    messages={
                        "de": f"„{literal.value}“ ist kein gültiger Wert für {short}"
                        f"{_why_ill_formed(literal.value, datatype, 'de')}.",
                        "en": f'"{literal.value}" is no valid {short}'
                        f"{_why_ill_formed(literal.value, datatype, 'en')}.",
                    },
                    component=_SOURCE_RULE + "WellFormedLiteral",
                    locations=_literal_locations(sources, part, literal.value),
                )
            )
    return problems


def _why_ill_formed(lexical: str, datatype: str, lang: str) -> str:
    """Why a date is ill-formed when it names a day its month does not have (31 November)."""
    if not datatype.endswith(("#date", "#dateTime", "#dateTimeStamp")):
        return ""
    match = re.match(r"-?(\d{4,})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", lexical)
    if match is None:
        return ""
    year, month, day = (int(g) for g in match.groups())
    if day <= calendar.monthrange(year, month)[1]:
        return ""
    if lang == "de":
        return f": einen {day}.{month}.{year} gibt es nicht"
    return f": {calendar.month_name[month]} {year} has no day {day}"


def _literal_locations(sources: ParsedSources, part: str, lexical: str) -> list[str]:
    needle = f'"{lexical}"'
    for parsed in sources.files:
        if parsed.source.graph != part:
            continue
        try:
            text = parsed.source.path.read_text(encoding="utf-8")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if needle in line:
                return [f"{display_path(parsed.source.path, sources.root)}:{number}"]
    return []


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
    rules = source_rules(sources, base_iri) + term_rules(sources) + literal_rules(sources)
    report = report_graph(outcome.findings, conforms=not outcome.findings)
    _add_to_report(report, rules)
    problems += rules
    problems.sort(key=_report_order)
    return ValidationReport(
        problems, report, outcome.fallback, outcome.timings, source_prefixes=sources.prefixes()
    )


def _rdflib_to_ox(graph: rdflib.Graph):
    bnodes: dict = {}
    for triple in graph:
        yield tuple(to_ox_term(t, bnodes) for t in triple)
