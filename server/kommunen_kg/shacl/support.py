"""Which shapes the compiler can translate, and why not the others.

A shape the compiler cannot translate exactly is validated by pyshacl instead (``run.py``), so
that the report is always complete. The check walks a shape and everything it refers to (nested
shapes, property shapes) once, remembers each verdict, and names the first reason it finds:
one rule per kind of construct, in the order a reader would look.
"""

from __future__ import annotations

import re
from typing import Protocol

import pyoxigraph as ox

from kommunen_kg.rdf.lexical_forms import LiteralCodec
from kommunen_kg.shacl.shapes import (
    AUXILIARY,
    COMPONENTS,
    MAX_NESTED_COUNT,
    NODE_KINDS,
    PROPERTY_ONLY,
    RDF_TYPE,
    SH,
    ShapesGraph,
    Unsupported,
    integer_value,
    sparql_term,
    string_literal,
)


class Compiler(Protocol):
    """What the check asks of the compiler (``compile.py``): its shapes graph and codec, and
    how it reads paths and shapes, so that the check and the translation never disagree."""

    g: ShapesGraph
    codec: LiteralCodec

    def deactivated(self, shape) -> bool: ...

    def path_node(self, shape): ...

    def path(self, node) -> str: ...

    def referenced(self, shape) -> list: ...


NOT_CORE = ("rule", "condition", "expression", "js", "shapesGraph", "entailment")


class SupportCheck:
    """The support check of one compiler (it needs the compiler's paths and shape lookups)."""

    def __init__(self, compiler: Compiler):
        self.compiler = compiler
        self.g = compiler.g
        self._checked: dict[object, str | None] = {}

    def unsupported(self, shape) -> str | None:
        """Why ``shape`` (with everything it refers to) cannot be compiled, or None."""
        try:
            self._check(shape, ())
        except Unsupported as exc:
            return str(exc)
        return None

    def _check(self, shape, stack: tuple, nested: bool = False) -> None:
        key = (shape, nested)
        if key in self._checked:
            if self._checked[key] is not None:
                raise Unsupported(self._checked[key])
            return
        if shape in stack:
            raise Unsupported(f"recursive shape {shape}")
        try:
            self._check_uncached(shape, (*stack, shape), nested)
        except Unsupported as exc:
            self._checked[key] = str(exc)
            raise
        self._checked[key] = None

    def _check_uncached(self, shape, stack: tuple, nested: bool) -> None:
        if isinstance(shape, ox.Literal):
            raise Unsupported(f"a literal used as a shape: {shape}")
        if self.compiler.deactivated(shape):
            return
        path = self._path(shape)
        self._core_only(shape)
        self._property_only(shape, path)
        self._no_custom_components(shape)
        self._sparql_constraints(shape, nested)
        self._counts(shape, nested)
        self._lists_and_terms(shape)
        self._values(shape)
        for sub in self.compiler.referenced(shape):
            self._check(sub, stack, nested=True)
        for prop in self.g.objects(shape, SH + "property"):
            self._check(prop, stack, nested=nested)

    # --- the rules, one kind of construct each ----------------------------------------------

    def _path(self, shape):
        """One sh:path at most, and one the compiler can translate; no SPARQL-based target."""
        g = self.g
        path = self.compiler.path_node(shape)
        if len(g.objects(shape, SH + "path")) > 1:
            raise Unsupported("more than one sh:path")
        if path is not None:
            self.compiler.path(path)
        for target in g.objects(shape, SH + "target"):
            raise Unsupported(f"SPARQL-based target {target}")
        return path

    def _core_only(self, shape) -> None:
        """Nothing of SHACL beyond core (rules, functions, JavaScript, ...)."""
        for predicate in self.g.predicates(shape):
            if not predicate.startswith(SH):
                continue
            name = predicate[len(SH) :]
            if name in AUXILIARY or name in COMPONENTS:
                continue
            if name in NOT_CORE:
                raise Unsupported(f"sh:{name} (not SHACL core)")

    def _property_only(self, shape, path) -> None:
        """Components that only property shapes have."""
        g = self.g
        qualified_shape = g.objects(shape, SH + "qualifiedValueShape")
        for name in PROPERTY_ONLY:
            if name.startswith("qualified") and not qualified_shape:
                continue  # without sh:qualifiedValueShape they are no constraint
            if g.objects(shape, SH + name) and path is None:
                raise Unsupported(f"sh:{name} on a node shape")

    def _no_custom_components(self, shape) -> None:
        """Custom constraint components: any parameter declared by one in the shapes graph."""
        g = self.g
        for component in g.subjects(RDF_TYPE, ox.NamedNode(SH + "ConstraintComponent")):
            for parameter in g.objects(component, SH + "parameter"):
                p = g.value(parameter, SH + "path")
                if p is not None and g.objects(shape, p.value):
                    raise Unsupported(f"custom constraint component {component}")

    def _sparql_constraints(self, shape, nested: bool) -> None:
        g = self.g
        if not g.objects(shape, SH + "sparql"):
            return
        if nested:
            raise Unsupported("a SPARQL constraint inside a nested shape")
        if self.compiler.codec.active:
            raise Unsupported("a SPARQL constraint over literals with stand-in datatypes")
        for constraint in g.objects(shape, SH + "sparql"):
            self._sparql_constraint(constraint)

    def _sparql_constraint(self, constraint) -> None:
        g = self.g
        selects = g.objects(constraint, SH + "select")
        if len(selects) != 1 or not isinstance(selects[0], ox.Literal):
            raise Unsupported("a SPARQL constraint needs exactly one sh:select")
        text = selects[0].value
        if re.search(r"[?$](shapesGraph|currentShape)\b", text):
            raise Unsupported("$shapesGraph / $currentShape in a SPARQL constraint")
        if (
            re.search(r"\$PATH\b", text)
            and self.compiler.path_node(self._owner(constraint)) is None
        ):
            raise Unsupported("$PATH in a SPARQL constraint of a node shape")

    def _owner(self, constraint):
        owners = self.g.subjects(SH + "sparql", constraint)
        return owners[0] if owners else None

    def _counts(self, shape, nested: bool) -> None:
        """Counts inside nested shapes are unrolled, so only small ones compile."""
        g = self.g
        for name in ("minCount", "maxCount", "minLength", "maxLength"):
            for value in g.objects(shape, SH + name):
                count = integer_value(value)
                if nested and name.endswith("Count") and count > MAX_NESTED_COUNT:
                    raise Unsupported(f"sh:{name} {count} inside a nested shape")
        if len(g.objects(shape, SH + "qualifiedValueShape")) > 1:
            raise Unsupported("more than one sh:qualifiedValueShape")
        for name in ("qualifiedMinCount", "qualifiedMaxCount"):
            for value in g.objects(shape, SH + name):
                count = integer_value(value)
                if nested and count > MAX_NESTED_COUNT:
                    raise Unsupported(f"sh:{name} {count} inside a nested shape")

    def _lists_and_terms(self, shape) -> None:
        """Well-formed lists, and terms that can be written into a query."""
        g = self.g
        codec = self.compiler.codec
        for name in ("in", "languageIn", "ignoredProperties", "and", "or", "xone"):
            for lst in g.objects(shape, SH + name):
                if g.items(lst) is None:
                    raise Unsupported(f"sh:{name} is not a well-formed list")
        for lst in g.objects(shape, SH + "in"):
            for member in g.items(lst):
                sparql_term(member, codec)
        for value in g.objects(shape, SH + "hasValue"):
            sparql_term(value, codec)

    def _values(self, shape) -> None:
        """Parameters of the right kind: literals for ranges, IRIs for properties, classes and
        datatypes, a pattern Oxigraph can evaluate, a known node kind."""
        g = self.g
        for name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
            for value in g.objects(shape, SH + name):
                if not isinstance(value, ox.Literal):
                    raise Unsupported(f"sh:{name} {value} is not a literal")
        for pattern in g.objects(shape, SH + "pattern"):
            self._regex(pattern, g.value(shape, SH + "flags"))
        for name in ("equals", "disjoint", "lessThan", "lessThanOrEquals", "class", "datatype"):
            for value in g.objects(shape, SH + name):
                if not isinstance(value, ox.NamedNode):
                    raise Unsupported(f"sh:{name} {value} is not an IRI")
        for value in g.objects(shape, SH + "nodeKind"):
            if not isinstance(value, ox.NamedNode) or value.value not in NODE_KINDS:
                raise Unsupported(f"unknown sh:nodeKind {value}")

    def _regex(self, pattern, flags) -> None:
        if not isinstance(pattern, ox.Literal):
            raise Unsupported(f"sh:pattern {pattern} is not a literal")
        flag_text = flags.value if isinstance(flags, ox.Literal) else ""
        query = (
            f'SELECT (REGEX("", {string_literal(pattern.value)}, '
            f"{string_literal(flag_text)}) AS ?ok) {{}}"
        )
        solution = next(iter(ox.Store().query(query)))
        if solution["ok"] is None:
            raise Unsupported(f"Oxigraph cannot evaluate the pattern {pattern.value!r}")
