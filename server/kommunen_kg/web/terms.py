"""What the pages know about the terms of the graph: names, hierarchy, inverses.

The build writes out every super-class, super-property and inverse (so that a plain query with
``schema:performer`` finds a ``ki:speaker``). A page for people must not list a speaker three
times (speaker, performer, and the talk's link back), so it needs the same hierarchy to show
only the most specific statement. This module reads it once per publication from the
vocabulary through ``publication.trusted`` (a release never changes while it is served).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.entailment import transitive_closure
from kommunen_kg.rdf.namespaces import (
    OWL_INVERSEOF,
    RDFS,
    RDFS_SUBCLASSOF,
    RDFS_SUBPROPERTYOF,
    ProjectIRIs,
)
from kommunen_kg.sparql.engine import TrustedEngine
from kommunen_kg.web import i18n


@dataclass
class Terms:
    """Labels, comments and hierarchy of the terms the vocabulary defines or aligns."""

    vocab: str  # namespace of our terms, {base}def#
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    comments: dict[str, dict[str, str]] = field(default_factory=dict)
    superclasses: dict[str, set[str]] = field(default_factory=dict)
    superproperties: dict[str, set[str]] = field(default_factory=dict)
    inverses: dict[str, set[str]] = field(default_factory=dict)

    def name(self, iri: str, lang: str) -> str:
        """A term's name for readers: the vocabulary's label, ours for well-known terms, or its
        local name."""
        own = self.labels.get(iri, {})
        if lang in own:
            return own[lang]
        known = i18n.term_name(iri, lang)
        if known:
            return known
        if own:
            return next(iter(own.values()))
        return local_name(iri)

    def comment(self, iri: str, lang: str) -> str | None:
        own = self.comments.get(iri, {})
        return own.get(lang) or next(iter(own.values()), None)

    def is_subproperty(self, sub: str, sup: str) -> bool:
        return sup in self.superproperties.get(sub, ())

    def is_subclass(self, sub: str, sup: str) -> bool:
        return sup in self.superclasses.get(sub, ())

    def most_specific(self, types: set[str]) -> list[str]:
        """The types that no other given type is a subclass of, ours first."""
        keep = [t for t in types if not any(self.is_subclass(o, t) for o in types if o != t)]
        return sorted(keep, key=lambda t: (not t.startswith(self.vocab), t))


def local_name(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri:
            tail = iri.rsplit(sep, 1)[1]
            if tail:
                return tail
    return iri


def load_terms(engine: TrustedEngine, iris: ProjectIRIs) -> Terms:
    terms = Terms(vocab=iris.vocab)
    rows = engine.select(
        f"""SELECT ?t ?p ?v WHERE {{
          VALUES ?p {{ <{RDFS}label> <{RDFS}comment> <{RDFS_SUBCLASSOF}> <{RDFS_SUBPROPERTYOF}>
                       <{OWL_INVERSEOF}> }}
          ?t ?p ?v FILTER(isIRI(?t))
          FILTER(?p IN (<{RDFS}label>, <{RDFS}comment>) || isIRI(?v))
        }}"""
    )
    subclass: list[tuple[str, str]] = []
    subproperty: list[tuple[str, str]] = []
    inverses: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        term, prop, value = row["t"].value, row["p"].value, row["v"]
        if prop in (RDFS + "label", RDFS + "comment") and isinstance(value, ox.Literal):
            target = terms.labels if prop == RDFS + "label" else terms.comments
            target.setdefault(term, {}).setdefault(value.language or "", value.value)
        elif prop == RDFS_SUBCLASSOF:
            subclass.append((term, value.value))
        elif prop == RDFS_SUBPROPERTYOF:
            subproperty.append((term, value.value))
        elif prop == OWL_INVERSEOF:
            inverses[term].add(value.value)
            inverses[value.value].add(term)
    terms.superclasses = transitive_closure(subclass)
    terms.superproperties = transitive_closure(subproperty)
    terms.inverses = dict(inverses)
    return terms
