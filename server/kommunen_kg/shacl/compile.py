"""SHACL core, compiled into set-based SPARQL queries that Oxigraph runs over the whole data.

pyshacl walks the data node by node in Python: for each focus node, for each constraint, it looks
up value nodes in an rdflib graph. On a million triples that takes most of an hour. Here each
shape becomes a handful of queries, each answering one question for *all* focus nodes at once
("which focus nodes have fewer than one ``schema:name``", "which value nodes are not an
``xsd:dateTime``"), and Oxigraph's query engine does the work in Rust.

The compilation follows the SHACL specification (https://www.w3.org/TR/shacl/):

* focus nodes: ``sh:targetNode``, ``sh:targetClass`` and implicit class targets
  (``rdf:type/rdfs:subClassOf*`` in the data graph), ``sh:targetSubjectsOf``,
  ``sh:targetObjectsOf``;
* value nodes: SHACL property paths become SPARQL property paths (predicate, inverse, sequence,
  alternative, zero-or-more, one-or-more, zero-or-one), as a set; a path that can be empty also
  yields focus nodes that are not in the data;
* constraints on single value nodes (``sh:class``, ``sh:datatype``, ``sh:nodeKind``, the four
  ranges, ``sh:minLength``/``sh:maxLength``, ``sh:pattern``, ``sh:languageIn``, ``sh:in``,
  ``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``, ``sh:xone``) become one boolean expression each,
  evaluated in one query per shape; conformance to a nested shape is itself such an expression
  (with ``EXISTS`` for its property shapes), so nesting costs no extra round trips;
* counting constraints (``sh:minCount``, ``sh:maxCount``, ``sh:qualifiedMinCount``/
  ``sh:qualifiedMaxCount`` with ``sh:qualifiedValueShapesDisjoint``), ``sh:uniqueLang``,
  ``sh:hasValue``, the property pairs (``sh:equals``, ``sh:disjoint``, ``sh:lessThan``,
  ``sh:lessThanOrEquals``) and ``sh:closed`` become one grouped query each;
* SHACL-SPARQL constraints (``sh:sparql`` with ``sh:select``) run once over all focus nodes when
  ``$this`` is only used where a join gives the same answer as pre-binding, and once per focus
  node (with Oxigraph's pre-binding, ``substitutions``) otherwise;
* ``sh:deactivated``, ``sh:severity`` and ``sh:message`` (every language; ``{?var}`` and
  ``{$this}`` filled in for SPARQL constraints) are honoured.

Literal values are compared with SPARQL's operators (so XSD value semantics hold), language tags
with ``langMatches``, terms in ``sh:in``/``sh:hasValue`` with ``sameTerm``. Literals the store
would rewrite carry a stand-in datatype (see ``rdf/lexical_forms.py``); the queries see through it.

What this compiler does not cover (custom constraint components, SPARQL-based targets, a SPARQL
constraint inside a nested shape, recursive shapes, blank nodes as ``sh:in`` members, counts
above a small bound inside nested shapes, ...) makes ``Compiler.unsupported`` (``support.py``)
name a reason, and the caller validates that shape with pyshacl instead, so the result is always
complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pyoxigraph as ox

from kommunen_kg.rdf.lexical_forms import LiteralCodec
from kommunen_kg.shacl.expressions import Expressions
from kommunen_kg.shacl.shapes import (
    CLASS_PATH,
    COMPONENTS,
    RDF_TYPE,
    RDFS_CLASS,
    RDFS_SUBCLASSOF,
    SH,
    TARGETS,
    Query,
    RawResult,
    ShapesGraph,
    Unsupported,
    integer_value,
    is_true,
    sparql_term,
)
from kommunen_kg.shacl.support import SupportCheck


class Compiler(Expressions):
    """Translates the shapes of one shapes graph into queries over one data store."""

    def __init__(self, shapes: ShapesGraph, codec: LiteralCodec, select: Callable[[str], Iterator]):
        super().__init__(shapes, codec)
        self.select = select  # runs a query over the data (for per-focus SPARQL constraints)
        self.shapes = self._shape_nodes()
        self.support = SupportCheck(self)

    # --- which nodes are shapes, which have targets ------------------------------------------
    def _shape_nodes(self) -> set:
        g = self.g
        found = set(g.subjects(RDF_TYPE, ox.NamedNode(SH + "NodeShape")))
        found |= set(g.subjects(RDF_TYPE, ox.NamedNode(SH + "PropertyShape")))
        for name in (*TARGETS, "property", "node"):
            found |= set(g.subjects_of(SH + name))
        for name in ("property", "node", "not", "qualifiedValueShape"):
            found |= set(g.objects_of(SH + name))
        for name in ("and", "or", "xone"):
            for lst in g.objects_of(SH + name):
                found |= set(g.items(lst) or [])
        return found

    def class_types(self) -> set:
        """rdfs:Class and its sub-classes in the shapes graph (for implicit class targets)."""
        classes = {ox.NamedNode(RDFS_CLASS)}
        pending = [ox.NamedNode(RDFS_CLASS)]
        while pending:
            for sub in self.g.subjects(RDFS_SUBCLASSOF, pending.pop()):
                if sub not in classes:
                    classes.add(sub)
                    pending.append(sub)
        return classes

    def targeted(self) -> list:
        """Shapes with targets, in a stable order."""
        classes = self.class_types()
        result = []
        for shape in self.shapes:
            has = any(self.g.objects(shape, SH + t) for t in TARGETS)
            implicit = any(t in classes for t in self.g.objects(shape, RDF_TYPE))
            if has or implicit:
                result.append(shape)
        return sorted(result, key=str)

    # --- support check -------------------------------------------------------------------------

    def unsupported(self, shape) -> str | None:
        """Why ``shape`` (with everything it refers to) cannot be compiled, or None."""
        return self.support.unsupported(shape)

    # --- top-level queries ----------------------------------------------------------------------

    def target_pattern(self, shape, var: str) -> str:
        """A group pattern binding ``var`` to the focus nodes of a shape with targets."""
        g, branches = self.g, []
        nodes = [sparql_term(n, self.codec) for n in g.objects(shape, SH + "targetNode")]
        if nodes:
            branches.append(f"VALUES {var} {{ {' '.join(nodes)} }}")
        classes = list(g.objects(shape, SH + "targetClass"))
        if any(t in self.class_types() for t in g.objects(shape, RDF_TYPE)):
            classes.append(shape)
        for cls in classes:
            classes_in = self.subclasses(cls)
            if classes_in is None:
                branches.append(f"{var} {CLASS_PATH} {sparql_term(cls, self.codec)} .")
            else:
                t = self.var("t")
                branches.append(f"VALUES {t} {{ {' '.join(classes_in)} }} {var} <{RDF_TYPE}> {t} .")
        for p in g.objects(shape, SH + "targetSubjectsOf"):
            branches.append(f"{var} {sparql_term(p, self.codec)} {self.var('t')} .")
        for p in g.objects(shape, SH + "targetObjectsOf"):
            branches.append(f"{self.var('t')} {sparql_term(p, self.codec)} {var} .")
        if not branches:
            return f"VALUES {var} {{ }}"
        union = " UNION ".join(f"{{ {b} }}" for b in branches)
        return f"{{ SELECT DISTINCT {var} WHERE {{ {union} }} }}"

    def queries(self, shape, focus: Callable[[str], tuple[str, list[str]]]) -> list[Query]:
        """Every query that validates ``shape`` on the focus nodes ``focus`` binds (recursively
        including its property shapes)."""
        if self.deactivated(shape):
            return []
        g = self.g
        found: list[Query] = []
        path = self.path_node(shape)
        severity = self.severity(shape)
        messages = self.messages(shape)

        def result(component: str, focus_node, value=None, path_value=path, **extra) -> RawResult:
            return RawResult(
                focus_node, value, path_value, SH + component, shape, severity, messages, **extra
            )

        this = "?this"
        # ``focus`` binds ?this; for a property shape under a property shape it also binds the
        # parent focus nodes (``ancestors``): SHACL validates the nested shape once per parent,
        # so a value node shared by two parents gives two results.
        head, ancestors = focus(this)
        keys = "".join(" " + a for a in ancestors)
        # 1. Value-node constraints, all in one query.
        conditions = self.value_conditions(shape)
        if conditions:
            oks = [f"?ok{i}" for i in range(len(conditions))]
            binds = " ".join(
                f"BIND({self.condition(shape, n, p, '?value')} AS {ok})"
                for (n, p), ok in zip(conditions, oks, strict=True)
            )
            text = (
                f"SELECT DISTINCT ?this{keys} ?value {' '.join(oks)} WHERE {{ {head} "
                f"{self.values(shape, this, '?value')} {binds} "
                f"FILTER({' || '.join(f'!{ok}' for ok in oks)}) }}"
            )

            def value_results(row, conditions=conditions, oks=oks):
                for (name, _parameter), ok in zip(conditions, oks, strict=True):
                    flag = row[ok[1:]]
                    if flag is None or flag.value != "true":
                        component = COMPONENTS[name]
                        # hasValue on a node shape reports no value (w3c/data-shapes#111)
                        value = None if name == "hasValue" else row["value"]
                        yield result(component, row["this"], value)

            found.append(Query(text, value_results))
        if path is not None:
            found += self._count_queries(shape, head, keys, result)
            found += self._pair_queries(shape, head, keys, result)
        else:
            for name in ("equals", "disjoint"):
                for other in g.objects(shape, SH + name):
                    o = f"<{other.value}>"
                    if name == "equals":  # the focus node must be its only value of o
                        texts = [
                            f"SELECT ?this{keys} (?this AS ?value) WHERE {{ {head} "
                            f"FILTER NOT EXISTS {{ ?this {o} ?this }} }}",
                            f"SELECT DISTINCT ?this{keys} ?value WHERE {{ {head} ?this {o} ?value "
                            f"FILTER(!sameTerm(?this, ?value)) }}",
                        ]
                    else:
                        texts = [
                            f"SELECT ?this{keys} (?this AS ?value) WHERE {{ {head} "
                            f"?this {o} ?this }}"
                        ]
                    for text in texts:
                        found.append(
                            Query(
                                text,
                                lambda row, c=COMPONENTS[name]: iter(
                                    [result(c, row["this"], row["value"])]
                                ),
                            )
                        )
        # Closed shapes: every predicate not allowed, with its objects.
        if any(is_true(c) for c in g.objects(shape, SH + "closed")):
            text = (
                f"SELECT DISTINCT ?this{keys} ?p ?o WHERE {{ {head} "
                f"{self.values(shape, this, '?value')} "
                f"?value ?p ?o FILTER({self._not_allowed(shape, '?p')}) }}"
            )
            found.append(
                Query(
                    text,
                    lambda row: iter(
                        [result("ClosedConstraintComponent", row["this"], row["o"], row["p"])]
                    ),
                )
            )
        # SHACL-SPARQL constraints.
        for constraint in g.objects(shape, SH + "sparql"):
            if self.deactivated(constraint):
                continue
            if ancestors:
                raise Unsupported("a SPARQL constraint in a property shape of a property shape")
            found += self._sparql_queries(shape, constraint, head, focus, result)
        # Property shapes: on the focus nodes of a node shape, on the value nodes of a property
        # shape.
        if path is None:
            child_focus = focus
        else:

            def child_focus(var: str, focus=focus, shape=shape) -> tuple[str, list[str]]:
                parent = self.var("f")
                pattern, above = focus(parent)
                names = " ".join([*above, parent, var])
                return (
                    f"{{ SELECT DISTINCT {names} WHERE {{ {pattern} "
                    f"{self.values(shape, parent, var)} }} }}",
                    [*above, parent],
                )

        for prop in sorted(g.objects(shape, SH + "property"), key=str):
            found += self.queries(prop, child_focus)
        return found

    def _count_queries(self, shape, head: str, keys: str, result) -> list[Query]:
        g = self.g
        found = []
        values = self.values(shape, "?this", "?value")
        mins = [integer_value(v) for v in g.objects(shape, SH + "minCount")]
        maxs = [integer_value(v) for v in g.objects(shape, SH + "maxCount")]
        for n in mins:
            if n <= 0:
                continue
            if n == 1:
                text = f"SELECT ?this{keys} WHERE {{ {head} FILTER NOT EXISTS {{ {values} }} }}"
            else:
                text = (
                    f"SELECT ?this{keys} WHERE {{ {head} OPTIONAL {{ {values} }} }} "
                    f"GROUP BY ?this{keys} HAVING (COUNT(DISTINCT ?value) < {n})"
                )
            found.append(
                Query(text, lambda row: iter([result("MinCountConstraintComponent", row["this"])]))
            )
        for n in maxs:
            text = (
                f"SELECT ?this{keys} WHERE {{ {head} {values} }} "
                f"GROUP BY ?this{keys} HAVING (COUNT(DISTINCT ?value) > {n})"
            )
            found.append(
                Query(text, lambda row: iter([result("MaxCountConstraintComponent", row["this"])]))
            )
        for value in g.objects(shape, SH + "hasValue"):
            term = sparql_term(value, self.codec)
            text = (
                f"SELECT ?this{keys} WHERE {{ {head} FILTER NOT EXISTS {{ {values} "
                f"FILTER(sameTerm(?value, {term})) }} }}"
            )
            found.append(
                Query(text, lambda row: iter([result("HasValueConstraintComponent", row["this"])]))
            )
        if any(is_true(u) for u in g.objects(shape, SH + "uniqueLang")):
            # one result per focus node and language tag used by two or more value nodes
            text = (
                f"SELECT ?this{keys} ?lang WHERE {{ {head} {values} "
                f'FILTER(isLiteral(?value) && LANG(?value) != "") '
                f"BIND(LCASE(LANG(?value)) AS ?lang) }} "
                f"GROUP BY ?this{keys} ?lang HAVING (COUNT(DISTINCT ?value) > 1)"
            )
            found.append(
                Query(
                    text, lambda row: iter([result("UniqueLangConstraintComponent", row["this"])])
                )
            )
        qualified = g.value(shape, SH + "qualifiedValueShape")
        if qualified is not None:
            test = self._qualified_test(shape, qualified)("?value")
            for name, op in (("qualifiedMinCount", "<"), ("qualifiedMaxCount", ">")):
                for value in g.objects(shape, SH + name):
                    n = integer_value(value)
                    if name == "qualifiedMinCount" and n <= 0:
                        continue
                    if name == "qualifiedMinCount" and n == 1:
                        text = (
                            f"SELECT ?this{keys} WHERE {{ {head} FILTER NOT EXISTS {{ {values} "
                            f"FILTER({test}) }} }}"
                        )
                    else:
                        text = (
                            f"SELECT ?this{keys} WHERE {{ {head} "
                            f"OPTIONAL {{ {values} FILTER({test}) }} }} "
                            f"GROUP BY ?this{keys} HAVING (COUNT(DISTINCT ?value) {op} {n})"
                        )
                    component = COMPONENTS[name]
                    found.append(
                        Query(text, lambda row, c=component: iter([result(c, row["this"])]))
                    )
        return found

    def _pair_queries(self, shape, head: str, keys: str, result) -> list[Query]:
        g = self.g
        found = []
        values = self.values(shape, "?this", "?value")
        for name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            for other in g.objects(shape, SH + name):
                o = f"<{other.value}>"
                component = COMPONENTS[name]
                if name == "equals":
                    texts = [
                        f"SELECT DISTINCT ?this{keys} ?value WHERE {{ {head} {values} "
                        f"FILTER NOT EXISTS {{ ?this {o} ?value }} }}",
                        f"SELECT DISTINCT ?this{keys} ?value WHERE {{ {head} ?this {o} ?value . "
                        f"FILTER NOT EXISTS {{ {self.values(shape, '?this', '?w')} "
                        f"FILTER(sameTerm(?w, ?value)) }} }}",
                    ]
                elif name == "disjoint":
                    texts = [
                        f"SELECT DISTINCT ?this{keys} ?value WHERE {{ {head} {values} "
                        f"?this {o} ?value . }}"
                    ]
                else:
                    op = "<" if name == "lessThan" else "<="
                    texts = [
                        f"SELECT DISTINCT ?this{keys} ?value ?other WHERE {{ {head} {values} "
                        f"?this {o} ?other . FILTER(!COALESCE({self.numeric('?value')} {op} "
                        f"{self.numeric('?other')}, false)) }}"
                    ]
                for text in texts:
                    found.append(
                        Query(
                            text,
                            lambda row, c=component: iter([result(c, row["this"], row["value"])]),
                        )
                    )
        return found

    def _sparql_queries(self, shape, constraint, head: str, focus, result) -> list[Query]:
        g = self.g
        text = g.value(constraint, SH + "select").value
        path = self.path_node(shape)
        if path is not None:
            text = re.sub(r"(?<=[\s{}()])\$PATH\b", lambda _m: self.path(path), text)
        prefixes = []
        for declaration_of in g.objects(constraint, SH + "prefixes"):
            for declaration in g.objects(declaration_of, SH + "declare"):
                prefix = g.value(declaration, SH + "prefix")
                namespace = g.value(declaration, SH + "namespace")
                if isinstance(prefix, ox.Literal) and namespace is not None:
                    prefixes.append(f"PREFIX {prefix.value}: <{namespace.value}>")
        messages = self.messages(constraint)

        def rows_to_results(row, focus_node=None):
            bound = {name: row[name] for name in row.names}
            this = bound.get("this") or focus_node
            p = bound.get("path") or path
            value = bound.get("value")
            if value is None and path is None:
                value = this
            if "failure" in bound and bound["failure"] is not None:
                value, p = (this if path is None else None), path
            r = result(
                "SPARQLConstraintComponent",
                this,
                value,
                p,
                constraint=constraint,
                bindings={k: w for k, w in bound.items() if w is not None},
            )
            r.messages = messages or self.messages(shape)
            yield r

        full = "\n".join(prefixes) + "\n" + text
        injected = _inject_focus(full, head)
        if injected is not None:
            return [Query(injected, rows_to_results)]
        # Pre-binding, once per focus node (SEP-0007 substitution, as SHACL defines it).
        focus_pattern = focus("?this")[0]
        nodes = [row["this"] for row in self.select(f"SELECT ?this WHERE {{ {focus_pattern} }}")]
        return [
            Query(
                full, lambda row, node=node: rows_to_results(row, node), [ox.Variable("this"), node]
            )
            for node in nodes
        ]


_KEYWORD = re.compile(r"\b(SELECT|WHERE|OPTIONAL|MINUS|SERVICE|GRAPH|VALUES|UNION|EXISTS)\b", re.I)


def _inject_focus(query: str, focus_pattern: str) -> str | None:
    """The query with the focus pattern joined at the start of its WHERE group, when that gives
    the same solutions as pre-binding ``$this``: a single SELECT whose ``$this`` occurs only in
    its outermost group or inside FILTER (NOT) EXISTS blocks, and no VALUES, MINUS, SERVICE,
    GRAPH or sub-group in which ``$this`` could be evaluated before the join. Otherwise None."""
    code = _strip_strings(query)
    keywords = [m.group(1).upper() for m in _KEYWORD.finditer(code)]
    if keywords.count("SELECT") != 1 or {"MINUS", "SERVICE", "GRAPH", "VALUES"} & set(keywords):
        return None
    projection = re.match(
        r"\s*(PREFIX[^\n]*\n\s*|BASE[^\n]*\n\s*)*SELECT\s+([^{]*?)\s*(WHERE\s*)?\{",
        code,
        re.I | re.S,
    )
    if projection is None or not re.search(
        r"^(DISTINCT\s+|REDUCED\s+)?\*$|[?$]this\b", projection.group(2).strip(), re.I
    ):
        return None  # $this is not among the results: only pre-binding knows the focus node
    if re.search(r"\b(COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\(", code, re.I):
        return None
    start = code.find("{")
    if start < 0:
        return None
    depth, groups = 0, []  # for each open brace: does it open an EXISTS block?
    for i in range(start, len(code)):
        char = code[i]
        if char == "{":
            before = code[start:i].rstrip()
            groups.append(before.upper().endswith("EXISTS"))
            depth += 1
        elif char == "}":
            depth -= 1
            groups.pop()
            if depth == 0:
                end = i
                break
        elif depth > 1 and not all(groups[1:]):
            return None  # a sub-group that is not an EXISTS block
    else:
        return None
    if code[end + 1 :].strip():
        return None  # GROUP BY, LIMIT, ...: they would work across focus nodes
    return query[: start + 1] + " " + focus_pattern + " " + query[start + 1 :]


def _strip_strings(query: str) -> str:
    """The query with the contents of strings, IRIs and comments blanked out (same length)."""
    out = list(query)
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c == "#":
            j = query.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif c == "<" and re.match(r"<[^\s<>\"{}|^`\\]*>", query[i:]):
            j = i + re.match(r"<[^\s<>\"{}|^`\\]*>", query[i:]).end()
            out[i + 1 : j - 1] = " " * (j - i - 2)
            i = j
        elif c in "\"'":
            quote = query[i : i + 3] if query[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not query.startswith(quote, j):
                j += 2 if query[j] == "\\" else 1
            j = min(n, j + len(quote))
            out[i + len(quote) : j - len(quote)] = " " * max(0, j - i - 2 * len(quote))
            i = j
        else:
            i += 1
    return "".join(out)
