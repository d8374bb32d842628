"""What the data of a release looks like to a cost bound: counts and degrees per predicate.

WHY: a client's query may run in the server process only if its cost is bounded before it runs
(``sparql/bounds.py``): pyoxigraph cannot stop a query, has no memory limit and aborts the
whole process on a panic. A bound needs to know the data: how many statements a predicate has,
how many objects one subject has at most for it (and subjects one object), and which kinds of
object it takes (an ``ORDER BY`` over literals of mixed kinds makes pyoxigraph panic). A
release never changes, so these figures are computed once: by ``build``, into a file beside
the dumps (:data:`STATISTICS_FILE`), or from the store when a release has no such file.

Every figure counts quads over all graphs, the default graph included, so it bounds a pattern
evaluated in any dataset a query may ask for (the union default graph, ``FROM``, ``GRAPH``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyoxigraph as ox

STATISTICS_FILE = "query-statistics.json"
FORMAT = 1  # the layout of the file; a server ignores a file of another layout

# Every statement, in the default graph and in each named graph.
_ALL = "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
_QUERIES = {
    "count": f"SELECT ?p (COUNT(*) AS ?n) WHERE {_ALL} GROUP BY ?p",
    "out": "SELECT ?p (MAX(?c) AS ?n) WHERE { { SELECT ?p ?s (COUNT(*) AS ?c) WHERE "
    + _ALL
    + " GROUP BY ?p ?s } } GROUP BY ?p",
    "in": "SELECT ?p (MAX(?c) AS ?n) WHERE { { SELECT ?p ?o (COUNT(*) AS ?c) WHERE "
    + _ALL
    + " GROUP BY ?p ?o } } GROUP BY ?p",
    "kinds": "SELECT DISTINCT ?p ?n WHERE { "
    + _ALL
    + ' BIND (IF(isIRI(?o), "iri", IF(isBlank(?o), "blank", IF(isLiteral(?o), '
    + 'STR(DATATYPE(?o)), "triple"))) AS ?n) }',
}
_GLOBAL = {
    "max_out": "SELECT (MAX(?c) AS ?n) WHERE { { SELECT ?s (COUNT(*) AS ?c) WHERE "
    + _ALL
    + " GROUP BY ?s } }",
    "max_in": "SELECT (MAX(?c) AS ?n) WHERE { { SELECT ?o (COUNT(*) AS ?c) WHERE "
    + _ALL
    + " GROUP BY ?o } }",
    "blank_subjects": f"SELECT (COUNT(*) AS ?n) WHERE {{ {_ALL} FILTER (isBlank(?s)) }}",
}


@dataclass(frozen=True)
class PredicateFigures:
    """One predicate: its statements, the most objects of one subject and the most subjects
    of one object, and the kinds of its objects (``iri``, ``blank``, or a datatype IRI)."""

    count: int
    max_out: int
    max_in: int
    kinds: frozenset[str]


@dataclass(frozen=True)
class Statistics:
    """The figures of one store (see the module docstring)."""

    total: int = 0
    max_out: int = 0  # the most statements of one subject
    max_in: int = 0  # the most statements with one object
    blank_subjects: int = 0  # statements whose subject is a blank node (DESCRIBE follows them)
    predicates: dict[str, PredicateFigures] = field(default_factory=dict)

    @property
    def largest_predicate(self) -> int:
        return max((p.count for p in self.predicates.values()), default=0)

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of object of every predicate together."""
        return frozenset().union(*(p.kinds for p in self.predicates.values()))

    @classmethod
    def of_store(cls, store: ox.Store) -> Statistics:
        """Counts a store (about 0.5 s per 10^5 statements): each figure is one query."""

        def rows(query: str) -> list[tuple[str, ox.Literal]]:
            return [
                (row[0].value, row[1])
                for row in store.query(query)  # type: ignore[union-attr]
                if row[0] is not None and row[1] is not None
            ]

        figures: dict[str, dict] = {}
        for name, query in _QUERIES.items():
            for predicate, value in rows(query):
                entry = figures.setdefault(predicate, {"kinds": set()})
                if name == "kinds":
                    entry["kinds"].add(value.value)
                else:
                    entry[name] = int(value.value)
        overall = {}
        for name, query in _GLOBAL.items():
            found = [row[0] for row in store.query(query)]  # type: ignore[union-attr]
            overall[name] = int(found[0].value) if found and found[0] is not None else 0
        predicates = {
            iri: PredicateFigures(
                entry.get("count", 0),
                entry.get("out", 0),
                entry.get("in", 0),
                frozenset(entry["kinds"]),
            )
            for iri, entry in figures.items()
        }
        return cls(
            total=sum(p.count for p in predicates.values()),
            max_out=overall["max_out"],
            max_in=overall["max_in"],
            blank_subjects=overall["blank_subjects"],
            predicates=predicates,
        )

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "total": self.total,
                "max_out": self.max_out,
                "max_in": self.max_in,
                "blank_subjects": self.blank_subjects,
                "predicates": {
                    iri: [p.count, p.max_out, p.max_in, sorted(p.kinds)]
                    for iri, p in sorted(self.predicates.items())
                },
            },
            indent=0,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Statistics | None:
        """The figures of a file, or None when it is not one this version reads."""
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                return None
            return cls(
                total=int(raw["total"]),
                max_out=int(raw["max_out"]),
                max_in=int(raw["max_in"]),
                blank_subjects=int(raw["blank_subjects"]),
                predicates={
                    iri: PredicateFigures(int(c), int(o), int(i), frozenset(k))
                    for iri, (c, o, i, k) in raw["predicates"].items()
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
