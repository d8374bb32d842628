"""A SKOS concept scheme as a tree a reader can walk, in the manner of Skosmos.

The top concepts are the roots, grouped by their class (the key messages apart from the
themes); each concept's narrower concepts hang below it. A concept with two broader concepts
appears under both, as in Skosmos, since a reader may look for it under either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import RDF_TYPE, SKOS
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web.describe import iri_term
from kommunen_kg.web.resource_index import fold, pick
from kommunen_kg.web.terms import Terms


@dataclass
class Node:
    iri: str
    label: str
    label_lang: str | None
    children: list[Node] = field(default_factory=list)


@dataclass
class Branch:
    """The top concepts of one class (key messages, themes)."""

    class_iri: str
    title: str
    roots: list[Node]


@dataclass
class Concept:
    iri: str
    labels: dict[str, str] = field(default_factory=dict)
    broader: set[str] = field(default_factory=set)
    top: bool = False
    types: set[str] = field(default_factory=set)


def concepts_of(engine: TrustedEngine, scheme: str, above: str | None = None) -> dict[str, Concept]:
    """The concepts of ``scheme`` with their labels, broader concepts and types.

    With ``above``, only that concept and those above it (``skos:broader*``): what a concept's
    breadcrumb needs, without reading the whole scheme for every concept page.
    """
    node = iri_term(scheme)
    lineage = f"{iri_term(above)} <{SKOS}broader>* ?c ." if above else ""
    properties = ", ".join(
        f"<{p}>" for p in (SKOS + "prefLabel", SKOS + "broader", SKOS + "topConceptOf", RDF_TYPE)
    )
    concepts: dict[str, Concept] = {}
    for row in engine.select(
        f"""SELECT ?c ?p ?v WHERE {{
          {lineage}
          ?c <{SKOS}inScheme> {node} .
          ?c ?p ?v FILTER(?p IN ({properties}))
        }}"""
    ):
        concept = concepts.setdefault(row["c"].value, Concept(row["c"].value))
        prop, value = row["p"].value, row["v"]
        if prop == SKOS + "prefLabel" and isinstance(value, ox.Literal):
            concept.labels[value.language or ""] = value.value
        elif prop == SKOS + "broader":
            concept.broader.add(value.value)
        elif prop == SKOS + "topConceptOf" and value.value == scheme:
            concept.top = True
        elif prop == RDF_TYPE:
            concept.types.add(value.value)
    return concepts


def tree(engine: TrustedEngine, scheme: str, terms: Terms, lang: str) -> list[Branch]:
    concepts = concepts_of(engine, scheme)
    children: dict[str, list[str]] = {}
    for concept in concepts.values():
        for broader in concept.broader:
            if broader in concepts:
                children.setdefault(broader, []).append(concept.iri)

    def label(iri: str) -> tuple[str, str | None]:
        labels = concepts[iri].labels
        text = pick(labels, lang) or iri.rsplit("/", 1)[-1]
        chosen = next((k for k, v in labels.items() if v == text), "")
        return text, (chosen if chosen and chosen != lang else None)

    def grow(iri: str, path: tuple[str, ...]) -> Node:
        text, text_lang = label(iri)
        node = Node(iri, text, text_lang)
        for child in children.get(iri, []):
            if child not in path:  # a cycle would be a data error; never loop on it
                node.children.append(grow(child, (*path, child)))
        node.children.sort(key=lambda n: fold(n.label))
        return node

    roots = [c for c in concepts.values() if c.top or not (c.broader & concepts.keys())]
    branches: dict[str, list[Node]] = {}
    for concept in roots:
        specific = terms.most_specific(concept.types) or [SKOS + "Concept"]
        branches.setdefault(specific[0], []).append(grow(concept.iri, (concept.iri,)))
    result = []
    for class_iri in sorted(branches, key=lambda c: terms.name(c, lang).casefold()):
        nodes = sorted(branches[class_iri], key=lambda n: fold(n.label))
        name = terms.name(class_iri, lang)
        result.append(Branch(class_iri, name[:1].upper() + name[1:], nodes))
    # Key messages first: the conference was organised along them.
    result.sort(key=lambda b: b.class_iri != terms.vocab + "KeyMessage")
    return result


def broader_paths(concepts: dict[str, Concept], iri: str) -> list[list[str]]:
    """Every path from a top concept down to ``iri`` (for a concept's breadcrumb)."""
    concept = concepts.get(iri)
    if concept is None:
        return []
    parents = [b for b in concept.broader if b in concepts]
    if not parents:
        return [[iri]]
    paths = []
    for parent in sorted(parents):
        for path in broader_paths(concepts, parent):
            if iri not in path:
                paths.append([*path, iri])
    return paths
