"""Writing out what the vocabulary implies, so that plain queries find it.

A consumer that knows schema.org but not our vocabulary asks for ``schema:performer``, not
``ki:speaker``; one that walks the SKOS tree downwards asks for ``skos:narrower``. Rather than
ask every consumer to reason, the build adds these triples to the release: the super-classes
of every type, the super-properties of every property (transitively, as RDFS entails them),
and the inverse of every property the vocabulary declares an ``owl:inverseOf`` for.
Only what the vocabulary states is used, so the result is predictable and small.

The build applies the rules inside the Oxigraph store (:meth:`Entailments.apply_in_store`): the
vocabulary is small, so every predicate's reachable super-properties and inverses are worked
out here in Python, and each step of the closure becomes one SPARQL Update over the whole graph.
:meth:`Entailments.apply` keeps the same rules for triples held in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import OWL_INVERSEOF, RDF_TYPE, RDFS_SUBCLASSOF, RDFS_SUBPROPERTYOF

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

    def _states(self, predicate: str, literal: bool) -> set[tuple[str, bool]]:
        """Every (predicate, flipped) a triple with ``predicate`` leads to, itself excluded.

        ``flipped`` means the derived triple runs from the original object to the original
        subject (an inverse was taken an odd number of times). A literal object never flips.
        """
        seen: set[tuple[str, bool]] = set()
        stack = [(predicate, False)]
        while stack:
            current, flipped = stack.pop()
            steps = [(sup, flipped) for sup in self.superproperties.get(current, ())]
            if not literal:
                steps += [(inv, not flipped) for inv in self.inverses.get(current, ())]
            for step in steps:
                if step not in seen:
                    seen.add(step)
                    stack.append(step)
        seen.discard((predicate, False))
        return seen

    def _store_rules_apply(self) -> bool:
        """Whether the set-based rules are exact: they are unless rdf:type itself has
        super-properties or inverses, which would mix the type rule into the property rules."""
        involved = set(self.superproperties) | set(self.inverses)
        involved |= {q for sups in self.superproperties.values() for q in sups}
        involved |= {q for invs in self.inverses.values() for q in invs}
        return RDF_TYPE not in involved

    def apply_in_store(self, store: ox.Store, graph: ox.NamedNode) -> None:
        """Adds to ``graph`` of ``store`` everything its triples entail, as :meth:`apply` does."""
        if not self._store_rules_apply():
            triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
            store.extend(
                ox.Quad(t.subject, t.predicate, t.object, graph) for t in self.apply(triples)
            )
            return
        predicates = set(self.superproperties) | set(self.inverses)
        literal_rows, forward_rows, flipped_rows = [], [], []
        for p in sorted(predicates):
            for q, _ in sorted(self._states(p, literal=True)):
                literal_rows.append(f"(<{p}> <{q}>)")
            for q, flipped in sorted(self._states(p, literal=False)):
                (flipped_rows if flipped else forward_rows).append(f"(<{p}> <{q}>)")
        g = f"<{graph.value}>"
        updates = []
        if literal_rows:
            updates.append(
                f"INSERT {{ GRAPH {g} {{ ?s ?q ?o }} }} WHERE {{ VALUES (?p ?q) "
                f"{{ {' '.join(literal_rows)} }} GRAPH {g} {{ ?s ?p ?o }} FILTER(isLiteral(?o)) }}"
            )
        if forward_rows:
            updates.append(
                f"INSERT {{ GRAPH {g} {{ ?s ?q ?o }} }} WHERE {{ VALUES (?p ?q) "
                f"{{ {' '.join(forward_rows)} }} GRAPH {g} {{ ?s ?p ?o }} FILTER(!isLiteral(?o)) }}"
            )
        if flipped_rows:
            updates.append(
                f"INSERT {{ GRAPH {g} {{ ?o ?q ?s }} }} WHERE {{ VALUES (?p ?q) "
                f"{{ {' '.join(flipped_rows)} }} GRAPH {g} {{ ?s ?p ?o }} FILTER(!isLiteral(?o)) }}"
            )
        type_rows = [
            f"(<{c}> <{sup}>)"
            for c in sorted(self.superclasses)
            for sup in sorted(self.superclasses[c])
        ]
        if type_rows:
            # After the property rules, which never produce rdf:type triples (checked above).
            updates.append(
                f"INSERT {{ GRAPH {g} {{ ?s <{RDF_TYPE}> ?sup }} }} WHERE {{ VALUES (?c ?sup) "
                f"{{ {' '.join(type_rows)} }} GRAPH {g} {{ ?s <{RDF_TYPE}> ?c }} }}"
            )
        for update in updates:
            store.update(update)

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
