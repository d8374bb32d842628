"""The shapes graph as the compiler reads it: SHACL's terms, the components it knows, the
shapes' triples indexed, SPARQL terms, and what a query and a result are."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.lexical_forms import XSD, LiteralCodec
from kommunen_kg.rdf.namespaces import RDF, RDF_TYPE, RDFS, RDFS_SUBCLASSOF, SH

RDF_FIRST = RDF + "first"
RDF_REST = RDF + "rest"
RDF_NIL = RDF + "nil"
RDF_LANGSTRING = RDF + "langString"
RDFS_CLASS = RDFS + "Class"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
VIOLATION = SH + "Violation"
TRUE = ox.Literal("true", datatype=ox.NamedNode(XSD_BOOLEAN))

TARGETS = ("targetNode", "targetClass", "targetSubjectsOf", "targetObjectsOf")
# Parameters whose values are checked one value node at a time.
VALUE_PARAMETERS = (
    "class",
    "datatype",
    "nodeKind",
    "minExclusive",
    "minInclusive",
    "maxExclusive",
    "maxInclusive",
    "minLength",
    "maxLength",
    "pattern",
    "languageIn",
    "in",
    "node",
    "not",
    "and",
    "or",
    "xone",
)
# Every parameter of SHACL core this compiler knows, with its constraint component.
COMPONENTS = {
    "class": "ClassConstraintComponent",
    "datatype": "DatatypeConstraintComponent",
    "nodeKind": "NodeKindConstraintComponent",
    "minCount": "MinCountConstraintComponent",
    "maxCount": "MaxCountConstraintComponent",
    "minExclusive": "MinExclusiveConstraintComponent",
    "minInclusive": "MinInclusiveConstraintComponent",
    "maxExclusive": "MaxExclusiveConstraintComponent",
    "maxInclusive": "MaxInclusiveConstraintComponent",
    "minLength": "MinLengthConstraintComponent",
    "maxLength": "MaxLengthConstraintComponent",
    "pattern": "PatternConstraintComponent",
    "languageIn": "LanguageInConstraintComponent",
    "uniqueLang": "UniqueLangConstraintComponent",
    "equals": "EqualsConstraintComponent",
    "disjoint": "DisjointConstraintComponent",
    "lessThan": "LessThanConstraintComponent",
    "lessThanOrEquals": "LessThanOrEqualsConstraintComponent",
    "not": "NotConstraintComponent",
    "and": "AndConstraintComponent",
    "or": "OrConstraintComponent",
    "xone": "XoneConstraintComponent",
    "node": "NodeConstraintComponent",
    "qualifiedMinCount": "QualifiedMinCountConstraintComponent",
    "qualifiedMaxCount": "QualifiedMaxCountConstraintComponent",
    "closed": "ClosedConstraintComponent",
    "hasValue": "HasValueConstraintComponent",
    "in": "InConstraintComponent",
    "sparql": "SPARQLConstraintComponent",
}
# Parameters that belong to another one, or say nothing on their own.
AUXILIARY = {
    "flags",
    "ignoredProperties",
    "qualifiedValueShape",
    "qualifiedValueShapesDisjoint",
    "property",
    "path",
    "severity",
    "message",
    "deactivated",
    "name",
    "description",
    "order",
    "group",
    "defaultValue",
    "declare",
    "prefixes",
    *TARGETS,
}
# Parameters that only make sense with a path (property shapes).
PROPERTY_ONLY = {
    "minCount",
    "maxCount",
    "uniqueLang",
    "lessThan",
    "lessThanOrEquals",
    "qualifiedMinCount",
    "qualifiedMaxCount",
}
NODE_KINDS = {
    SH + "IRI": "isIRI({v})",
    SH + "BlankNode": "isBlank({v})",
    SH + "Literal": "isLiteral({v})",
    SH + "BlankNodeOrIRI": "(isIRI({v}) || isBlank({v}))",
    SH + "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    SH + "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
MAX_NESTED_COUNT = 3  # counts inside nested shapes are unrolled into this many distinct values
CLASS_PATH = f"<{RDF_TYPE}>/<{RDFS_SUBCLASSOF}>*"


class Unsupported(Exception):
    """A shape uses something this compiler does not translate; pyshacl validates it."""


@dataclass
class RawResult:
    """One validation result, in the terms of the data and the shapes graph."""

    focus: object
    value: object | None
    path: object | None  # the sh:path node of the shape, or a predicate (closed, SPARQL ?path)
    component: str
    shape: object
    severity: str
    messages: list[ox.Literal] = field(default_factory=list)
    constraint: object | None = None  # the sh:sparql node, for SPARQL constraints
    bindings: dict[str, object] | None = None  # SPARQL constraints: for message templates


class ShapesGraph:
    """The shapes graph, indexed for the handful of lookups the compiler makes."""

    def __init__(self, triples):
        self.out: dict[object, dict[str, list]] = {}
        self.inc: dict[tuple[str, object], list] = {}
        for t in triples:
            self.out.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
            self.inc.setdefault((t.predicate.value, t.object), []).append(t.subject)
        self.triples = list(triples)

    def objects(self, node, predicate: str) -> list:
        return self.out.get(node, {}).get(predicate, [])

    def value(self, node, predicate: str):
        values = self.objects(node, predicate)
        return values[0] if values else None

    def subjects(self, predicate: str, obj) -> list:
        return self.inc.get((predicate, obj), [])

    def subjects_of(self, predicate: str) -> list:
        return [s for (p, _o), subjects in self.inc.items() if p == predicate for s in subjects]

    def objects_of(self, predicate: str) -> list:
        return [o for (p, o) in self.inc if p == predicate]

    def predicates(self, node) -> list[str]:
        return list(self.out.get(node, {}))

    def items(self, node) -> list | None:
        """The members of an RDF list, or None when ``node`` is not a well-formed list."""
        members, seen = [], set()
        while node != ox.NamedNode(RDF_NIL):
            if node in seen:
                return None
            seen.add(node)
            first, rest = self.objects(node, RDF_FIRST), self.objects(node, RDF_REST)
            if len(first) != 1 or len(rest) != 1:
                return None
            members.append(first[0])
            node = rest[0]
        return members


def sparql_term(term, codec: LiteralCodec) -> str:
    """A constant in query text; the stored form for literals, so that ``sameTerm`` holds."""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return str(codec.encode(term))
    raise Unsupported(f"a blank node ({term}) cannot be named in a query")


def is_true(term) -> bool:
    return isinstance(term, ox.Literal) and term == TRUE


def integer_value(term) -> int:
    if isinstance(term, ox.Literal) and re.fullmatch(r"[+-]?[0-9]+", term.value):
        return int(term.value)
    raise Unsupported(f"not an integer: {term}")


@dataclass
class Query:
    """A query over the data and how to turn its solutions into results."""

    text: str
    results: Callable[[ox.QuerySolution], Iterator[RawResult]]
    substitutions: list | None = None  # per-focus pre-binding, for SPARQL constraints


def string_literal(text: str) -> str:
    return str(ox.Literal(text))
