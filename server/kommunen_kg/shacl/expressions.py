"""SHACL constraints as SPARQL expressions: paths, value tests and conformance to a shape.

The compiler (``compile.py``) builds its queries from these pieces: a SHACL path as a SPARQL
property path, one boolean expression per constraint on a value node, and conformance to a
nested shape as one expression (with ``EXISTS`` for its property shapes), so nesting costs no
extra round trips.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pyoxigraph as ox

from kommunen_kg.rdf.lexical_forms import LEXICAL, LiteralCodec
from kommunen_kg.shacl.shapes import (
    CLASS_PATH,
    NODE_KINDS,
    RDF_FIRST,
    RDF_LANGSTRING,
    RDF_TYPE,
    RDFS_SUBCLASSOF,
    SH,
    VALUE_PARAMETERS,
    VIOLATION,
    XSD_STRING,
    ShapesGraph,
    Unsupported,
    integer_value,
    is_true,
    sparql_term,
    string_literal,
)


class Expressions:
    """The expressions of the shapes of one shapes graph, over one store's literal codec."""

    def __init__(self, shapes: ShapesGraph, codec: LiteralCodec):
        self.g = shapes
        self.codec = codec
        self._fresh = itertools.count()
        self._subclasses: dict[object, list[str] | None] = {}

    # --- what a shape says -------------------------------------------------------------------
    def deactivated(self, shape) -> bool:
        return any(is_true(v) for v in self.g.objects(shape, SH + "deactivated"))

    def path_node(self, shape):
        return self.g.value(shape, SH + "path")

    def severity(self, shape) -> str:
        value = self.g.value(shape, SH + "severity")
        return value.value if isinstance(value, ox.NamedNode) else VIOLATION

    def messages(self, node) -> list[ox.Literal]:
        return [m for m in self.g.objects(node, SH + "message") if isinstance(m, ox.Literal)]

    def referenced(self, shape) -> list:
        """Shapes whose conformance this shape's constraints test (not sh:property)."""
        g = self.g
        found = [*g.objects(shape, SH + "node"), *g.objects(shape, SH + "not")]
        found += g.objects(shape, SH + "qualifiedValueShape")
        for name in ("and", "or", "xone"):
            for lst in g.objects(shape, SH + name):
                found += g.items(lst) or []
        if self._disjoint(shape):
            found += self._siblings(shape)
        return found

    # --- paths --------------------------------------------------------------------------------

    def path(self, node) -> str:
        """The SPARQL property path of a SHACL path."""
        g = self.g
        if isinstance(node, ox.NamedNode):
            return f"<{node.value}>"
        if not isinstance(node, ox.BlankNode):
            raise Unsupported(f"not a path: {node}")
        if g.objects(node, RDF_FIRST):
            members = g.items(node)
            if not members or len(members) < 2:
                raise Unsupported("a sequence path needs two or more members")
            return "(" + "/".join(self.path(m) for m in members) + ")"
        kinds = [p for p in g.predicates(node) if p.startswith(SH) and p.endswith("Path")]
        if len(kinds) != 1 or len(g.objects(node, kinds[0])) != 1:
            raise Unsupported(f"not a SHACL path: {node}")
        kind, inner = kinds[0][len(SH) :], g.objects(node, kinds[0])[0]
        if kind == "inversePath":
            return f"^({self.path(inner)})"
        if kind == "alternativePath":
            members = g.items(inner)
            if not members or len(members) < 2:
                raise Unsupported("an alternative path needs two or more members")
            return "(" + "|".join(self.path(m) for m in members) + ")"
        suffix = {"zeroOrMorePath": "*", "oneOrMorePath": "+", "zeroOrOnePath": "?"}.get(kind)
        if suffix is None:
            raise Unsupported(f"unknown path kind sh:{kind}")
        return f"({self.path(inner)}){suffix}"

    def may_be_empty(self, node) -> bool:
        """Whether the path matches zero steps (then a focus node is its own value node)."""
        g = self.g
        if isinstance(node, ox.NamedNode):
            return False
        if g.objects(node, RDF_FIRST):
            return all(self.may_be_empty(m) for m in g.items(node) or [])
        if g.objects(node, SH + "zeroOrMorePath") or g.objects(node, SH + "zeroOrOnePath"):
            return True
        inner = g.value(node, SH + "inversePath")
        if inner is not None:
            return self.may_be_empty(inner)
        inner = g.value(node, SH + "oneOrMorePath")
        if inner is not None:
            return self.may_be_empty(inner)
        alternatives = g.value(node, SH + "alternativePath")
        if alternatives is not None:
            return any(self.may_be_empty(m) for m in g.items(alternatives) or [])
        return False

    def values(self, shape, focus: str, value: str) -> str:
        """Patterns binding ``value`` to each value node of ``focus`` (bound before them, in the
        same group: never wrap the result in braces, or ``focus`` is unbound inside)."""
        path = self.path_node(shape)
        if path is None:
            return f"BIND({focus} AS {value})"
        if not self.may_be_empty(path):
            return f"{focus} {self.path(path)} {value} ."
        # SPARQL's zero-length paths only reach nodes of the graph; SHACL's reach every focus
        # node. So: the focus node itself (branch 0) and the path's ends (branch 1).
        branch, end = self.var("z"), self.var("e")
        return (
            f"VALUES {branch} {{ 0 1 }} OPTIONAL {{ {focus} {self.path(path)} {end} "
            f"FILTER({branch} = 1) }} BIND(IF({branch} = 0, {focus}, {end}) AS {value}) "
            f"FILTER(BOUND({value}))"
        )

    # --- expressions ------------------------------------------------------------------------

    def var(self, stem: str = "v") -> str:
        return f"?{stem}{next(self._fresh)}"

    def numeric(self, v: str) -> str:
        """``v`` with a stand-in datatype turned back into its real one, for comparisons."""
        if not self.codec.wrapped_datatypes:
            return v
        prefix = string_literal(LEXICAL)
        return (
            f"IF(isLiteral({v}) && STRSTARTS(STR(DATATYPE({v})), {prefix}), "
            f"STRDT(STR({v}), IRI(STRAFTER(STR(DATATYPE({v})), {prefix}))), {v})"
        )

    def subclasses(self, cls) -> list[str] | None:
        """``cls`` and every class ``rdfs:subClassOf*`` it in the data graph, as query terms;
        None when one is a blank node (which a query cannot name).

        Asked once per class instead of walking ``rdf:type/rdfs:subClassOf*`` for every value
        node: the data graph does not change while it is validated.
        """
        if cls not in self._subclasses:
            found = []
            term = sparql_term(cls, self.codec) if not isinstance(cls, ox.BlankNode) else None
            if term is not None:
                query = f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS_SUBCLASSOF}>* {term} }}"
                for row in self.select(query):
                    c = row["c"]
                    if isinstance(c, ox.BlankNode):
                        found = None
                        break
                    found.append(sparql_term(c, self.codec))
            else:
                found = None
            self._subclasses[cls] = sorted(set(found)) if found is not None else None
        return self._subclasses[cls]

    def instance_test(self, v: str, cls) -> str:
        """Whether ``v`` is a SHACL instance of ``cls`` (rdf:type/rdfs:subClassOf*)."""
        classes_in = self.subclasses(cls)
        if classes_in is None:
            return f"EXISTS {{ {v} {CLASS_PATH} {sparql_term(cls, self.codec)} }}"
        t = self.var("t")
        return f"EXISTS {{ {v} <{RDF_TYPE}> {t} FILTER({t} IN ({', '.join(classes_in)})) }}"

    def datatype_test(self, v: str, datatype: str) -> str:
        if datatype == RDF_LANGSTRING:
            return f'(isLiteral({v}) && LANG({v}) != "")'
        if datatype == XSD_STRING:
            return f'(isLiteral({v}) && LANG({v}) = "" && DATATYPE({v}) = <{XSD_STRING}>)'
        # Ill-formed literals carry the stand-in datatype ILL_FORMED + datatype: no match.
        test = f"DATATYPE({v}) = <{datatype}>"
        if datatype in self.codec.wrapped_datatypes:
            test = f"({test} || DATATYPE({v}) = <{LEXICAL}{datatype}>)"
        return f"(isLiteral({v}) && {test})"

    def condition(self, shape, name: str, parameter, v: str) -> str:
        """A never-failing boolean expression: does value node ``v`` satisfy this constraint?"""
        g, codec = self.g, self.codec
        if name == "class":
            return self.instance_test(v, parameter)
        if name == "datatype":
            return f"COALESCE({self.datatype_test(v, parameter.value)}, false)"
        if name == "nodeKind":
            return NODE_KINDS[parameter.value].format(v=v)
        if name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
            op = {"minExclusive": ">", "minInclusive": ">=", "maxExclusive": "<"}.get(name, "<=")
            return f"COALESCE({self.numeric(v)} {op} {parameter!s}, false)"
        if name in ("minLength", "maxLength"):
            op = ">=" if name == "minLength" else "<="
            bound = integer_value(parameter)
            return f"COALESCE(!isBlank({v}) && STRLEN(STR({v})) {op} {bound}, false)"
        if name == "pattern":
            flags = g.value(shape, SH + "flags")
            flag_text = flags.value if isinstance(flags, ox.Literal) else ""
            return (
                f"COALESCE(!isBlank({v}) && REGEX(STR({v}), {string_literal(parameter.value)}, "
                f"{string_literal(flag_text)}), false)"
            )
        if name == "languageIn":
            ranges = [m.value for m in g.items(parameter) if isinstance(m, ox.Literal)]
            if not ranges:
                return "false"
            matches = " || ".join(f"langMatches(LANG({v}), {string_literal(r)})" for r in ranges)
            return f'COALESCE(isLiteral({v}) && LANG({v}) != "" && ({matches}), false)'
        if name == "in":
            members = g.items(parameter)
            if not members:
                return "false"
            return (
                "(" + " || ".join(f"sameTerm({v}, {sparql_term(m, codec)})" for m in members) + ")"
            )
        if name == "hasValue":
            return f"sameTerm({v}, {sparql_term(parameter, codec)})"
        if name == "node":
            return self.conforms(parameter, v)
        if name == "not":
            return f"!({self.conforms(parameter, v)})"
        if name == "and":
            members = g.items(parameter)
            return (
                "(" + " && ".join(self.conforms(m, v) for m in members) + ")" if members else "true"
            )
        if name == "or":
            members = g.items(parameter)
            return (
                "(" + " || ".join(self.conforms(m, v) for m in members) + ")"
                if members
                else "false"
            )
        if name == "xone":
            members = g.items(parameter)
            if not members:
                return "false"
            return "(" + " + ".join(f"IF({self.conforms(m, v)}, 1, 0)" for m in members) + ") = 1"
        raise Unsupported(f"sh:{name}")  # pragma: no cover - guarded by _check

    def value_conditions(self, shape) -> list[tuple[str, object]]:
        """The (parameter name, parameter value) pairs checked one value node at a time."""
        pairs = []
        for name in VALUE_PARAMETERS:
            for parameter in self.g.objects(shape, SH + name):
                pairs.append((name, parameter))
        if self.path_node(shape) is None:
            for parameter in self.g.objects(shape, SH + "hasValue"):
                pairs.append(("hasValue", parameter))
        return pairs

    def _distinct_values(self, focus: str, shape, count: int, extra: Callable[[str], str] | None):
        """A pattern with ``count`` pairwise different value nodes (each passing ``extra``)."""
        names = [self.var() for _ in range(count)]
        parts = [self.values(shape, focus, name) for name in names]
        tests = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        if extra is not None:
            tests += [extra(name) for name in names]
        return " ".join(parts) + (f" FILTER({' && '.join(tests)})" if tests else "")

    def conforms(self, shape, v: str) -> str:
        """A never-failing boolean expression: does node ``v`` conform to ``shape``?"""
        g = self.g
        if self.deactivated(shape):
            return "true"
        parts: list[str] = []
        path = self.path_node(shape)
        if path is None:
            parts += [self.condition(shape, n, p, v) for n, p in self.value_conditions(shape)]
            for prop in g.objects(shape, SH + "property"):
                parts.append(self.conforms(prop, v))
            if any(is_true(c) for c in g.objects(shape, SH + "closed")):
                other = self.var("o")
                p = self.var("p")
                parts.append(
                    f"NOT EXISTS {{ {v} {p} {other} FILTER({self._not_allowed(shape, p)}) }}"
                )
            for name in ("equals", "disjoint"):
                for other in g.objects(shape, SH + name):
                    test = f"EXISTS {{ {v} <{other.value}> {v} }}"
                    if name == "equals":
                        w = self.var()
                        parts.append(
                            f"({test} && NOT EXISTS {{ {v} <{other.value}> {w} "
                            f"FILTER(!sameTerm({w}, {v})) }})"
                        )
                    else:
                        parts.append(f"!{test}")
            return "(" + " && ".join(parts) + ")" if parts else "true"
        # A property shape: its constraints hold for the value nodes of v.
        w = self.var()
        tests = [self.condition(shape, n, p, w) for n, p in self.value_conditions(shape)]
        tests += [self.conforms(prop, w) for prop in g.objects(shape, SH + "property")]
        if any(is_true(c) for c in g.objects(shape, SH + "closed")):
            other, p = self.var("o"), self.var("p")
            tests.append(f"NOT EXISTS {{ {w} {p} {other} FILTER({self._not_allowed(shape, p)}) }}")
        if tests:
            parts.append(
                f"NOT EXISTS {{ {self.values(shape, v, w)} FILTER(!({' && '.join(tests)})) }}"
            )
        for value in g.objects(shape, SH + "minCount"):
            n = integer_value(value)
            if n > 0:
                parts.append(f"EXISTS {{ {self._distinct_values(v, shape, n, None)} }}")
        for value in g.objects(shape, SH + "maxCount"):
            n = integer_value(value)
            parts.append(f"NOT EXISTS {{ {self._distinct_values(v, shape, n + 1, None)} }}")
        for value in g.objects(shape, SH + "hasValue"):
            x = self.var()
            parts.append(
                f"EXISTS {{ {self.values(shape, v, x)} "
                f"FILTER(sameTerm({x}, {sparql_term(value, self.codec)})) }}"
            )
        if any(is_true(u) for u in g.objects(shape, SH + "uniqueLang")):
            a, b = self.var(), self.var()
            parts.append(
                f"NOT EXISTS {{ {self.values(shape, v, a)} {self.values(shape, v, b)} "
                f"FILTER({self._same_lang(a, b)}) }}"
            )
        for name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            for other in g.objects(shape, SH + name):
                a, b = self.var(), self.var()
                o = f"<{other.value}>"
                if name == "equals":
                    parts.append(
                        f"NOT EXISTS {{ {self.values(shape, v, a)} "
                        f"FILTER NOT EXISTS {{ {v} {o} {a} }} }}"
                    )
                    c = self.var()
                    parts.append(
                        f"NOT EXISTS {{ {v} {o} {b} FILTER NOT EXISTS {{ "
                        f"{self.values(shape, v, c)} FILTER(sameTerm({c}, {b})) }} }}"
                    )
                elif name == "disjoint":
                    parts.append(f"NOT EXISTS {{ {self.values(shape, v, a)} {v} {o} {a} . }}")
                else:
                    op = "<" if name == "lessThan" else "<="
                    parts.append(
                        f"NOT EXISTS {{ {self.values(shape, v, a)} {v} {o} {b} . "
                        f"FILTER(!COALESCE({self.numeric(a)} {op} {self.numeric(b)}, false)) }}"
                    )
        qualified = g.value(shape, SH + "qualifiedValueShape")
        if qualified is not None:
            test = self._qualified_test(shape, qualified)
            for value in g.objects(shape, SH + "qualifiedMinCount"):
                n = integer_value(value)
                if n > 0:
                    parts.append(f"EXISTS {{ {self._distinct_values(v, shape, n, test)} }}")
            for value in g.objects(shape, SH + "qualifiedMaxCount"):
                n = integer_value(value)
                parts.append(f"NOT EXISTS {{ {self._distinct_values(v, shape, n + 1, test)} }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    @staticmethod
    def _same_lang(a: str, b: str) -> str:
        return (
            f'COALESCE(!sameTerm({a}, {b}) && LANG({a}) != "" && '
            f"LCASE(LANG({a})) = LCASE(LANG({b})), false)"
        )

    def _not_allowed(self, shape, p: str) -> str:
        allowed = []
        for prop in self.g.objects(shape, SH + "property"):
            path = self.path_node(prop)
            if isinstance(path, ox.NamedNode):
                allowed.append(path)
        for lst in self.g.objects(shape, SH + "ignoredProperties"):
            allowed += [m for m in self.g.items(lst) or [] if isinstance(m, ox.NamedNode)]
        if not allowed:
            return "true"
        return f"{p} NOT IN ({', '.join(f'<{a.value}>' for a in allowed)})"

    def _disjoint(self, shape) -> bool:
        return any(is_true(v) for v in self.g.objects(shape, SH + "qualifiedValueShapesDisjoint"))

    def _siblings(self, shape) -> list:
        """The qualified value shapes of the sibling property shapes (SHACL 4.8.3)."""
        siblings = []
        for parent in self.g.subjects(SH + "property", shape):
            for other in self.g.objects(parent, SH + "property"):
                if other == shape:
                    continue
                siblings += self.g.objects(other, SH + "qualifiedValueShape")
        return siblings

    def _qualified_test(self, shape, qualified) -> Callable[[str], str]:
        siblings = self._siblings(shape) if self._disjoint(shape) else []

        def test(v: str) -> str:
            parts = [self.conforms(qualified, v)]
            parts += [f"!({self.conforms(s, v)})" for s in siblings if s != qualified]
            return " && ".join(parts)

        return test
