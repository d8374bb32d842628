"""Running the compiled queries over a store: which shapes to plan, and the raw results."""

from __future__ import annotations

import pyoxigraph as ox

from kommunen_kg.rdf.lexical_forms import LiteralCodec
from kommunen_kg.shacl.compile import Compiler
from kommunen_kg.shacl.shapes import Query, RawResult, ShapesGraph, Unsupported


class Validator:
    """Runs the compiled queries of every supported shape with targets over one store."""

    def __init__(
        self,
        store: ox.Store,
        graphs: list[ox.NamedNode],
        shapes: list[ox.Triple],
        codec: LiteralCodec | None = None,
    ):
        self.store = store
        self.graphs = graphs
        self.codec = codec or LiteralCodec()
        self.compiler = Compiler(ShapesGraph(shapes), self.codec, self._select)
        self.timings: dict[str, float] = {}

    def _select(self, text: str, substitutions=None):
        kwargs = {"default_graph": self.graphs}
        if substitutions:
            kwargs["substitutions"] = {substitutions[0]: substitutions[1]}
        solutions = self.store.query(text, **kwargs)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            yield _Row(solution, names)

    def plan(self) -> tuple[list[tuple[object, list[Query]]], dict[object, str]]:
        """The queries of each supported shape with targets, and why the others are not."""
        planned, unsupported = [], {}
        compiler = self.compiler
        for shape in compiler.targeted():
            if compiler.deactivated(shape):
                continue
            reason = compiler.unsupported(shape)
            if reason is not None:
                unsupported[shape] = reason
                continue
            try:
                planned.append(
                    (
                        shape,
                        compiler.queries(
                            shape, lambda v, s=shape: (compiler.target_pattern(s, v), [])
                        ),
                    )
                )
            except Unsupported as exc:
                unsupported[shape] = str(exc)
        return planned, unsupported

    def run(self, planned) -> list[RawResult]:
        import time

        results: list[RawResult] = []
        decode = self.codec.decode
        for shape, queries in planned:
            started = time.perf_counter()
            for query in queries:
                for row in self._select(query.text, query.substitutions):
                    for r in query.results(row):
                        r.focus = decode(r.focus)
                        r.value = decode(r.value) if r.value is not None else None
                        if r.bindings:
                            r.bindings = {k: decode(w) for k, w in r.bindings.items()}
                        results.append(r)
            self.timings[str(shape)] = self.timings.get(str(shape), 0.0) + (
                time.perf_counter() - started
            )
        return results


class _Row:
    """A query solution that also knows its variables (for SPARQL constraint bindings)."""

    __slots__ = ("_solution", "names")

    def __init__(self, solution, names: list[str]):
        self._solution = solution
        self.names = names

    def __getitem__(self, name: str):
        return self._solution[name]
