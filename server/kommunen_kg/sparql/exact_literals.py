"""The views' answers with the literals exactly as the release writes them (issue 12).

WHY: Oxigraph keeps values, not lexical forms or derived datatypes: a distribution's
``dcat:byteSize "40040"^^xsd:nonNegativeInteger`` (what DCAT-AP requires, what the dumps say)
comes back from the store as ``"40040"^^xsd:integer``, so ``/data`` and the pages of the
release's own metadata disagreed with the dumps. Client queries keep the engine's values
(SPARQL compares values; the README says so); the views' CONSTRUCT answers are mapped back.

Which literals: those of the release's metadata graph (``metadata.trig``, small at any scale),
where the build writes the integer-derived datatypes DCAT-AP and VoID ask for. For each
(subject, property) with one literal whose stored form differs from the file's, the stored form
is mapped back to the file's. The sources' own literals keep their forms in the store already
(they are written in canonical forms, and the build's codec checks them).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from kommunen_kg.sparql.engine import TrustedEngine

Key = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.Literal]


def restorations(trig: Path, graph: str) -> dict[Key, ox.Literal]:
    """(subject, property, stored literal) -> the literal as ``graph`` of ``trig`` writes it."""
    named = ox.NamedNode(graph)
    written = [
        q
        for q in ox.parse(path=str(trig), format=ox.RdfFormat.TRIG)
        if q.graph_name == named and isinstance(q.object, ox.Literal) and q.object.language is None
    ]
    store = ox.Store()
    store.extend(written)
    mapped: dict[Key, ox.Literal] = {}
    for quad in written:
        stored = list(store.quads_for_pattern(quad.subject, quad.predicate, None, named))
        if len(stored) != 1:
            continue  # several values of one property: which is which cannot be told
        kept = stored[0].object
        if isinstance(kept, ox.Literal) and kept != quad.object:
            mapped[(quad.subject, quad.predicate, kept)] = quad.object
    return mapped


class ExactLiterals:
    """A :class:`TrustedEngine` whose CONSTRUCT answers carry the release's exact literals."""

    def __init__(self, inner: TrustedEngine, mapped: dict[Key, ox.Literal]):
        self.inner = inner
        self.mapped = mapped

    def construct(self, query: str) -> list[ox.Triple]:
        triples = self.inner.construct(query)
        if not self.mapped:
            return triples
        get = self.mapped.get
        return [
            ox.Triple(t.subject, t.predicate, get((t.subject, t.predicate, t.object), t.object))
            if isinstance(t.object, ox.Literal)
            else t
            for t in triples
        ]

    def select(self, query: str) -> list[dict]:
        return self.inner.select(query)

    def ask(self, query: str) -> bool:
        return self.inner.ask(query)

    def close(self) -> None:
        self.inner.close()
