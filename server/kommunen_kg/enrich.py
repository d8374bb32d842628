"""Writing out what the vocabulary implies, so that plain queries find it.

A consumer that knows schema.org but not our vocabulary asks for ``schema:performer``, not
``ki:speaker``; one that walks the SKOS tree downwards asks for ``skos:narrower``. Rather than
ask every consumer to reason, the build adds these triples to the release: the super-classes
of every type, the super-properties of every property (transitively, as RDFS entails them),
and the inverse of every property the vocabulary declares an ``owl:inverseOf`` for.
Only what the vocabulary states is used, so the result is predictable and small.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from .namespaces import OWL_INVERSEOF, RDF_TYPE, RDFS_SUBCLASSOF, RDFS_SUBPROPERTYOF

_TYPE = ox.NamedNode(RDF_TYPE)


def transitive_closure(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Transitive closure of a sub→super relation: every term to all of its supers."""
    direct: dict[str, set[str]] = defaultdict(set)
    for sub, sup in pairs:
        if sub != sup:
            direct[sub].add(sup)
    closed: dict[str, set[str]] = {}
    for term in list(direct):
        seen: set[str] = set()
        stack = list(direct[term])
        while stack:
            current = stack.pop()
            if current in seen or current == term:
                continue
            seen.add(current)
            stack.extend(direct.get(current, ()))
        closed[term] = seen
    return closed


class Entailments:
    """What a vocabulary entails about types and properties, ready to apply to data."""

    def __init__(self, vocabulary: Iterable[ox.Triple]):
        subclass, subproperty, inverse = [], [], []
        for t in vocabulary:
            if not (isinstance(t.subject, ox.NamedNode) and isinstance(t.object, ox.NamedNode)):
                continue
            pair = (t.subject.value, t.object.value)
            if t.predicate.value == RDFS_SUBCLASSOF:
                subclass.append(pair)
            elif t.predicate.value == RDFS_SUBPROPERTYOF:
                subproperty.append(pair)
            elif t.predicate.value == OWL_INVERSEOF:
                inverse.append(pair)
        self.superclasses = transitive_closure(subclass)
        self.superproperties = transitive_closure(subproperty)
        self.inverses: dict[str, set[str]] = defaultdict(set)
        for a, b in inverse:
            self.inverses[a].add(b)
            self.inverses[b].add(a)

    def apply(self, triples: Iterable[ox.Triple]) -> set[ox.Triple]:
        """The triples plus everything they entail under the vocabulary."""
        result = set(triples)
        pending = list(result)
        while pending:
            t = pending.pop()
            for new in self._entailed(t):
                if new not in result:
                    result.add(new)
                    pending.append(new)
        return result

    def _entailed(self, t: ox.Triple) -> Iterable[ox.Triple]:
        predicate = t.predicate.value
        if predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            for sup in self.superclasses.get(t.object.value, ()):
                yield ox.Triple(t.subject, _TYPE, ox.NamedNode(sup))
            return
        for sup in self.superproperties.get(predicate, ()):
            yield ox.Triple(t.subject, ox.NamedNode(sup), t.object)
        if not isinstance(t.object, ox.Literal):
            for inv in self.inverses.get(predicate, ()):
                yield ox.Triple(t.object, ox.NamedNode(inv), t.subject)
