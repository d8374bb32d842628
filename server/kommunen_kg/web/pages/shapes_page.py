"""The SHACL shapes ``/shapes`` as a page: the rules the data is checked against, in words.

A data editor who meets a validation error, or a consumer who wants to know what the data
promises, reads here, per class, which properties a resource must or may have and in what
form, with the message the build shows. Each shape's section is anchored at its local name,
so the hash IRI ``{base}shapes#EventShape`` lands on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import RDF, RDF_TYPE, RDFS, SH
from kommunen_kg.web.pages.resource_view import Shown
from kommunen_kg.web.pages.vocabulary_page import compact
from kommunen_kg.web.terms import local_name

WORDS = {
    "minCount": ("mindestens {n}", "at least {n}"),
    "maxCount": ("höchstens {n}", "at most {n}"),
    "qualifiedMinCount": ("mindestens {n} davon", "at least {n} of them"),
    "datatype": ("Datentyp", "datatype"),
    "class": ("ist ein(e)", "is a"),
    "node": ("erfüllt", "conforms to"),
    "in": ("einer dieser Werte:", "one of:"),
    "pattern": ("passt zum Muster", "matches the pattern"),
    "hasValue": ("hat den Wert", "has the value"),
    "uniqueLang": ("höchstens ein Wert je Sprache", "at most one value per language"),
    "languageIn": ("in der Sprache", "in the language"),
    "lessThanOrEquals": ("nicht später als", "not after"),
    "nodeKind": ("ist eine", "is an"),
    "or": ("eine dieser Formen:", "one of these forms:"),
    "severity": ("Schwere", "severity"),
    "qualified": ("Werte, die", "values that"),
}
SEVERITY = {
    SH + "Violation": ("Fehler (stoppt den Build)", "error (stops the build)"),
    SH + "Warning": ("Warnung", "warning"),
    SH + "Info": ("Hinweis", "note"),
}


@dataclass
class Rule:
    text: str
    values: list[Shown] = field(default_factory=list)
    code: str | None = None  # shown as code (patterns, literals)


@dataclass
class PropertyView:
    anchor: str | None  # the element id: only where this is the shape's one place on the page
    name: str | None
    path: list[Shown]
    path_text: str
    rules: list[Rule]
    message: str | None


@dataclass
class ShapeView:
    anchor: str
    compact: str
    kind: str  # "node" or "property"
    targets: list[Shown]
    rules: list[Rule]
    message: str | None
    comment: str | None
    properties: list[PropertyView]
    sparql: list[tuple[str | None, str | None, str]]  # (anchor, message, query)


@dataclass
class ShapesView:
    titles: dict[str, str]
    node_shapes: list[ShapeView]
    reusable: list[ShapeView]


class _Graph:
    def __init__(self, triples: list[ox.Triple]):
        self.index: dict[object, list[ox.Triple]] = {}
        for t in triples:
            self.index.setdefault(t.subject, []).append(t)

    def values(self, subject: object, prop: str) -> list:
        """The objects, in a fixed order (a store lists them in its own): IRIs and literals
        by their text; blank nodes, whose labels differ by store, last, as the store gave them
        (their callers order what they make of them)."""
        found = [t.object for t in self.index.get(subject, []) if t.predicate.value == prop]
        return sorted(
            found,
            key=lambda v: (
                isinstance(v, ox.BlankNode),
                0 if isinstance(v, ox.BlankNode) else str(v),
            ),
        )

    def value(self, subject: object, prop: str):
        found = self.values(subject, prop)
        return found[0] if found else None

    def items(self, head: object) -> list:
        """The members of an RDF list."""
        out, seen = [], set()
        while head is not None and head != ox.NamedNode(RDF + "nil") and head not in seen:
            seen.add(head)
            first = self.value(head, RDF + "first")
            if first is not None:
                out.append(first)
            head = self.value(head, RDF + "rest")
        return out


def build_shapes(
    triples: list[ox.Triple],
    document: str,
    prefixes: dict[str, str],
    lang: str,
    page_of: Callable[[str], str | None],
) -> ShapesView:
    """``page_of`` gives the link to our page about an IRI (None for others' IRIs)."""
    g = _Graph(triples)
    i = 0 if lang == "de" else 1
    namespace = document + "#"

    def ref(term) -> Shown:
        if isinstance(term, ox.NamedNode):
            iri = term.value
            if iri.startswith(namespace):
                return Shown(compact(iri, prefixes), "#" + local_name(iri))
            ours = page_of(iri)
            if ours is not None:
                return Shown(compact(iri, prefixes), ours)
            href = iri.replace("http://schema.org/", "https://schema.org/")
            return Shown(compact(iri, prefixes), href, external=True)
        if isinstance(term, ox.Literal):
            return Shown(f'"{term.value}"')
        return Shown("[…]")

    def text(subject, prop: str) -> str | None:
        literals = [v for v in g.values(subject, prop) if isinstance(v, ox.Literal)]
        for want in (lang, "", "de", "en"):
            for literal in literals:
                if (literal.language or "") == want:
                    return literal.value
        return None

    def path_of(node) -> tuple[list[Shown], str]:
        if isinstance(node, ox.NamedNode):
            shown = ref(node)
            return [shown], shown.text
        alternatives = g.value(node, SH + "alternativePath")
        if alternatives is not None:
            shown = [ref(v) for v in g.items(alternatives)]
            return shown, " | ".join(s.text for s in shown)
        inverse = g.value(node, SH + "inversePath")
        if inverse is not None:
            shown = [ref(inverse)]
            return shown, "^" + shown[0].text
        return [Shown("[…]")], "[…]"

    def rules_of(node) -> list[Rule]:
        rules: list[Rule] = []
        for key in ("minCount", "maxCount", "qualifiedMinCount"):
            value = g.value(node, SH + key)
            if value is not None:
                rules.append(Rule(WORDS[key][i].format(n=value.value)))
        for key in ("datatype", "class", "node", "hasValue", "lessThanOrEquals", "nodeKind"):
            for value in g.values(node, SH + key):
                rules.append(Rule(WORDS[key][i], [ref(value)]))
        pattern = g.value(node, SH + "pattern")
        if pattern is not None:
            rules.append(Rule(WORDS["pattern"][i], code=pattern.value))
        if g.value(node, SH + "uniqueLang") is not None:
            rules.append(Rule(WORDS["uniqueLang"][i]))
        choices = g.value(node, SH + "in")
        if choices is not None:
            rules.append(Rule(WORDS["in"][i], [ref(v) for v in g.items(choices)]))
        languages = g.value(node, SH + "languageIn")
        if languages is not None:
            rules.append(
                Rule(
                    WORDS["languageIn"][i],
                    code=", ".join(
                        v.value for v in g.items(languages) if isinstance(v, ox.Literal)
                    ),
                )
            )
        qualified = g.value(node, SH + "qualifiedValueShape")
        if qualified is not None:
            inner = "; ".join(
                r.text + (" " + r.code if r.code else "") + "".join(" " + v.text for v in r.values)
                for r in rules_of(qualified)
            )
            rules.append(Rule(f"{WORDS['qualified'][i]}: {inner}"))
        alternatives = g.value(node, SH + "or")
        if alternatives is not None:
            forms = []
            for option in g.items(alternatives):
                forms.append(
                    " + ".join(
                        r.text
                        + (" " + r.code if r.code else "")
                        + "".join(" " + v.text for v in r.values)
                        for r in rules_of(option)
                    )
                )
            rules.append(Rule(WORDS["or"][i], [Shown(f) for f in forms]))
        severity = g.value(node, SH + "severity")
        if severity is not None and severity.value in SEVERITY:
            rules.append(Rule(f"{WORDS['severity'][i]}: {SEVERITY[severity.value][i]}"))
        return rules

    def property_view(node) -> PropertyView:
        path = g.value(node, SH + "path")
        shown, path_text = path_of(path) if path is not None else ([], "")
        name = local_name(node.value) if isinstance(node, ox.NamedNode) else None
        anchor = name if name and uses.get(node, 0) == 1 else None
        return PropertyView(
            anchor, name, shown, path_text, rules_of(node), text(node, SH + "message")
        )

    def shape_view(subject: ox.NamedNode, kind: str) -> ShapeView:
        properties = [property_view(p) for p in g.values(subject, SH + "property")]
        properties.sort(key=lambda p: p.path_text)
        sparql = [
            (
                local_name(c.value) if isinstance(c, ox.NamedNode) else None,
                text(c, SH + "message"),
                (g.value(c, SH + "select") or ox.Literal("")).value.strip(),
            )
            for c in g.values(subject, SH + "sparql")
        ]
        rules = rules_of(subject)
        if kind == "property":
            own = property_view(subject)
            return ShapeView(
                local_name(subject.value),
                compact(subject.value, prefixes),
                kind,
                own.path,
                own.rules,
                own.message,
                text(subject, RDFS + "comment"),
                [],
                sparql,
            )
        return ShapeView(
            anchor=local_name(subject.value),
            compact=compact(subject.value, prefixes),
            kind=kind,
            targets=[ref(v) for v in g.values(subject, SH + "targetClass")],
            rules=rules,
            message=text(subject, SH + "message"),
            comment=text(subject, RDFS + "comment"),
            properties=properties,
            sparql=sparql,
        )

    uses: dict[object, int] = {}
    for t in triples:
        if t.predicate.value == SH + "property":
            uses[t.object] = uses.get(t.object, 0) + 1

    node_shapes, reusable = [], []
    for subject in sorted(
        (s for s in g.index if isinstance(s, ox.NamedNode) and s.value.startswith(namespace)),
        key=lambda s: s.value,
    ):
        types = {v.value for v in g.values(subject, RDF_TYPE)}
        if SH + "NodeShape" in types:
            view = shape_view(subject, "node")
            (node_shapes if view.targets else reusable).append(view)
        elif SH + "PropertyShape" in types and uses.get(subject, 0) != 1:
            reusable.append(shape_view(subject, "property"))
        elif SH + "SPARQLConstraint" in types:
            continue  # shown with the shape that uses it
    titles = {
        (v.language or ""): v.value
        for v in g.values(ox.NamedNode(document), RDFS + "label")
        if isinstance(v, ox.Literal)
    }
    return ShapesView(titles, node_shapes, reusable)
