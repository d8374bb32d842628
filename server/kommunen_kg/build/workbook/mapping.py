"""The workbook's layout, generated from the shapes, the vocabulary and the data.

A mapping language was considered and not used: RML engines (morph-kgc and others) map tables
to RDF in one direction and report problems per mapping, not per cell, and CSVW describes CSV
files, not workbooks with several sheets. What the documentation team needs is both
directions (the current data out, their edits back in) and every problem at its cell; a
mapping derived from what the build already knows gives that without a second description of
the model to keep in step.

One sheet per kind of resource (the ``{kind}`` of ``{base}id/{kind}/{slug}``), one row per
resource, the slug as its key. The columns of a kind are the properties its resources use in
the data and the properties the shapes expect of its classes (through the vocabulary's
sub-class axioms, so a shape on ``schema:Event`` reaches talks). How a column holds its values
follows from the values in the data and from the shapes' ``sh:datatype``, ``sh:in``,
``sh:class``, ``sh:maxCount`` and language constraints; its headers and help come from the
vocabulary's labels and comments and from the shapes' messages, in German and English.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCTERMS, RDF, RDF_TYPE, RDFS, SH, SKOS, XSD
from kommunen_kg.rdf.sources import RDF_SUFFIXES, SourceFile
from kommunen_kg.rdf.term_labels import KIND_NAMES, term_labels

LANG_STRING = RDF + "langString"
XSD_STRING = XSD + "string"
DCTERMS_SOURCE = DCTERMS + "source"
EDITORIAL_NOTE = SKOS + "editorialNote"

# The kinds the documentation team edits, in the order of their work: an event, its programme,
# who spoke, where they work, what they presented, and the themes. Resources of other kinds (the
# concept scheme, redirects, the release's own metadata) stay in Turtle.
WORKBOOK_KINDS: tuple[str, ...] = (
    "event",
    "talk",
    "session",
    "panel",
    "person",
    "organisation",
    "project",
    "theme",
    "funding",
    "publication",
)
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
LANGS = ("de", "en")
LANGUAGE_WORDS = {"de": ("deutsch", "German"), "en": ("englisch", "English")}


@dataclass(frozen=True)
class Column:
    """One column of a sheet: which property it holds and how.

    ``form`` is one of ``key`` (the slug), ``type`` (classes), ``lang`` (texts in one
    ``language``), ``text`` (texts without a language), ``typed`` (literals of ``datatypes``,
    written as their lexical form), ``ref`` (resources of ``kinds``, written as slugs),
    ``code`` (one of ``codes``, written as its name) or ``iri`` (a web address).
    """

    property: str
    form: str
    labels: tuple[str, str]
    help: tuple[str, str] = ("", "")
    language: str | None = None
    datatypes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    many: bool = True
    required: bool = False

    @property
    def key(self) -> str:
        """What the workbook's hidden third row holds, so that a moved column is still found."""
        if self.form == "key":
            return "@id"
        return f"{self.property}@{self.language}" if self.language else self.property


@dataclass
class Sheet:
    """One kind of resource: its sheet's names, its columns, its classes, where new ones go."""

    kind: str
    names: tuple[str, str]
    columns: list[Column]
    classes: tuple[str, ...]
    file: Path
    graph: str

    @property
    def title(self) -> str:
        """The sheet's name in the workbook (German: the team's language; at most 31 chars)."""
        return self.names[0][:31]


@dataclass
class Resource:
    """A resource as the sources describe it: its statements in the order of the file."""

    iri: str
    kind: str
    slug: str
    statements: dict[str, list[ox.NamedNode | ox.Literal]] = field(default_factory=dict)
    file: Path | None = None


@dataclass
class Layout:
    """Everything the export and the import share: the sheets, the resources of the sources
    that the workbook covers, and the names of terms."""

    base_iri: str
    sheets: list[Sheet]
    resources: dict[str, Resource]
    # every IRI the sources describe (references may point at any of them)
    known: set[str]
    labels: dict[str, tuple[str, str]]

    def sheet(self, kind: str) -> Sheet:
        return next(s for s in self.sheets if s.kind == kind)

    def kind_of(self, iri: str) -> tuple[str, str] | None:
        """(kind, slug) of ``{base}id/{kind}/{slug}``, else None."""
        prefix = self.base_iri + "id/"
        if not iri.startswith(prefix):
            return None
        kind, _, slug = iri[len(prefix) :].partition("/")
        return (kind, slug) if SLUG.fullmatch(slug) else None

    def iri(self, kind: str, slug: str) -> str:
        return f"{self.base_iri}id/{kind}/{slug}"


def fingerprint(resource: Resource) -> str:
    """What a resource says, as a short digest: the export records it per entry, so that the
    import can tell a row the team changed from one whose entry changed in Turtle since."""
    lines = sorted(f"{p} {t}" for p, terms in resource.statements.items() for t in terms)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:20]


def _value_form(term: ox.NamedNode | ox.Literal, layout_kind) -> tuple[str, str]:
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype == LANG_STRING:
            return "lang", term.language or ""
        if datatype == XSD_STRING:
            return "text", ""
        return "typed", datatype
    found = layout_kind(term.value)
    return ("ref", found[0]) if found else ("iri", "")


def _ordered(seq) -> list:
    return list(dict.fromkeys(seq))


class _Shapes:
    """What the shapes say of a property for a set of classes, read with SPARQL from the store
    that holds the vocabulary and the shapes."""

    def __init__(self, store: ox.Store):
        self.store = store

    def _select(self, query: str) -> list:
        return list(self.store.query(query, use_default_graph_as_union=True))

    def _items(self, head: ox.Term) -> list[ox.Term]:
        """The members of an RDF list, in order (a property path would not keep it)."""
        first, rest, nil = (ox.NamedNode(RDF + n) for n in ("first", "rest", "nil"))
        items: list[ox.Term] = []
        seen: set[ox.Term] = set()
        node = head
        while node != nil and node not in seen and len(items) < 10_000:
            seen.add(node)
            member = next(self.store.quads_for_pattern(node, first, None, None), None)
            following = next(self.store.quads_for_pattern(node, rest, None, None), None)
            if member is None or following is None:
                break
            items.append(member.object)
            node = following.object
        return items

    def superclasses(self, classes: Sequence[str]) -> list[str]:
        if not classes:
            return []
        values = " ".join(f"<{c}>" for c in classes)
        rows = self._select(
            f"SELECT DISTINCT ?super WHERE {{ VALUES ?c {{ {values} }} "
            f"?c <{RDFS}subClassOf>* ?super }}"
        )
        return _ordered([*classes, *(r["super"].value for r in rows)])

    def subclasses(self, classes: Sequence[str]) -> list[str]:
        if not classes:
            return []
        values = " ".join(f"<{c}>" for c in classes)
        rows = self._select(
            f"SELECT DISTINCT ?sub WHERE {{ VALUES ?c {{ {values} }} "
            f"?sub <{RDFS}subClassOf>+ ?c . FILTER(isIRI(?sub)) }}"
        )
        return [r["sub"].value for r in rows]

    def constraints(self, classes: Sequence[str]) -> dict[str, list[dict]]:
        """Path IRI -> the constraints of each property shape on it, for the property shapes of
        node shapes that target one of ``classes`` (an alternative path counts for each of
        its members). Asked in a few queries over all shapes at once: a blank node in a query
        is a variable, so a shape cannot be asked about by its blank node."""
        if not classes:
            return {}
        values = " ".join(f"<{c}>" for c in classes)
        head = f"""PREFIX sh: <{SH}> PREFIX rdf: <{RDF}>
            SELECT DISTINCT ?c ?path ?shape ?p ?o WHERE {{
              VALUES ?c {{ {values} }} ?node sh:targetClass ?c ; sh:property ?shape .
              {{ ?shape sh:path ?path FILTER(isIRI(?path)) }}
              UNION {{ ?shape sh:path/sh:alternativePath/rdf:rest*/rdf:first ?path }}"""
        facts: dict[tuple[str, ox.Term], dict] = {}

        def about(row) -> dict:
            key = (row["path"].value, row["shape"])
            if key not in facts:
                facts[key] = {
                    "datatypes": set(),
                    "classes": set(),
                    "codes": [],
                    "max": None,
                    "min": 0,
                    "languages": set(),
                    "messages": {},
                    "unique_lang": False,
                    "iri": False,
                    "targets": set(),
                    "advice": False,
                }
            facts[key]["targets"].add(row["c"].value)
            return facts[key]

        for row in self._select(head + " ?shape ?p ?o }"):
            fact, p, o = about(row), row["p"].value, row["o"]
            if p == SH + "datatype":
                fact["datatypes"].add(o.value)
            elif p == SH + "class":
                fact["classes"].add(o.value)
            elif p == SH + "maxCount":
                fact["max"] = int(o.value)
            elif p == SH + "minCount":
                fact["min"] = int(o.value)
            elif p == SH + "severity" and o.value != SH + "Violation":
                fact["advice"] = True  # a warning or note: the column is not required
            elif p == SH + "uniqueLang":
                fact["unique_lang"] = o.value == "true"
            elif p == SH + "nodeKind" and o.value == SH + "IRI":
                fact["iri"] = True
            elif p == SH + "message" and isinstance(o, ox.Literal):
                fact["messages"][o.language or ""] = o.value
        for row in self._select(head + " ?shape sh:in ?o BIND(sh:in AS ?p) }"):
            about(row)["codes"] = [code.value for code in self._items(row["o"])]
        # datatypes, classes and node kinds reached through sh:node and sh:or (two steps)
        for row in self._select(
            head
            + """ ?shape (sh:node|sh:or/rdf:rest*/rdf:first) ?n .
              ?n (sh:or/rdf:rest*/rdf:first)?/(sh:or/rdf:rest*/rdf:first)? ?m .
              ?m ?p ?o . FILTER(?p IN (sh:datatype, sh:class, sh:nodeKind)) }"""
        ):
            fact, p, o = about(row), row["p"].value, row["o"]
            if p == SH + "datatype":
                fact["datatypes"].add(o.value)
            elif p == SH + "class":
                fact["classes"].add(o.value)
            elif o.value == SH + "IRI":
                fact["iri"] = True
        for row in self._select(
            head
            + """ ?shape sh:qualifiedValueShape/sh:languageIn/rdf:rest*/rdf:first ?o ;
                     sh:qualifiedMinCount ?p FILTER(?p > 0) }"""
        ):
            about(row)["languages"].add(row["o"].value)
        result: dict[str, list[dict]] = defaultdict(list)
        for (path, _), fact in facts.items():
            result[path].append(fact)
        return result

    def ranges(self, prop: str) -> list[str]:
        """The classes the vocabulary gives as the property's values (rdfs:range,
        schema:rangeIncludes)."""
        rows = self._select(
            f"SELECT DISTINCT ?c WHERE {{ <{prop}> <{RDFS}range>|<http://schema.org/rangeIncludes>"
            " ?c FILTER(isIRI(?c)) }"
        )
        return [r["c"].value for r in rows]

    def comments(self, iri: str) -> dict[str, str]:
        rows = self._select(
            f"SELECT ?c WHERE {{ <{iri}> <{RDFS}comment> ?c FILTER(isLiteral(?c)) }}"
        )
        return {r["c"].language or "": r["c"].value for r in rows}

    def vocabulary_labels(self) -> dict[str, tuple[str, str]]:
        labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in self._select(
            f"SELECT ?t ?l WHERE {{ ?t <{RDFS}label>|<{SKOS}prefLabel> ?l "
            f"FILTER(isIRI(?t) && isLiteral(?l)) }}"
        ):
            labels[row["t"].value].setdefault(row["l"].language or "", row["l"].value)
        return {
            iri: (names.get("de") or names.get("en", ""), names.get("en") or names.get("de", ""))
            for iri, names in labels.items()
            if names.get("de") or names.get("en")
        }


def _sparql_term(term: ox.Term) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else f"<{term.value}>"


def read_resources(
    sources: Sequence[SourceFile], base_iri: str
) -> tuple[dict[str, Resource], set[str], dict[str, list[str]]]:
    """The workbook's resources as the files describe them, in the files' order; every IRI the
    files describe; and, per kind, the classes its resources have.

    Read here rather than from the build's store because the store sorts: the order of values
    in a cell should be the order of the file, so that an unchanged row writes back nothing.
    """
    resources: dict[str, Resource] = {}
    known: set[str] = set()
    prefix = base_iri + "id/"
    for source in sources:
        if source.graph not in ("data", "themes"):
            continue
        fmt = RDF_SUFFIXES[source.path.suffix]
        for triple in ox.parse(source.path.read_bytes(), format=fmt, base_iri=base_iri):
            subject = triple.subject
            if not isinstance(subject, ox.NamedNode):
                continue
            known.add(subject.value)
            if not subject.value.startswith(prefix):
                continue
            kind, _, slug = subject.value[len(prefix) :].partition("/")
            if kind not in WORKBOOK_KINDS or not SLUG.fullmatch(slug):
                continue
            resource = resources.get(subject.value)
            if resource is None:
                resource = resources[subject.value] = Resource(
                    subject.value, kind, slug, file=source.path
                )
            values = resource.statements.setdefault(triple.predicate.value, [])
            if triple.object not in values:
                values.append(triple.object)  # type: ignore[arg-type]
    classes: dict[str, list[str]] = defaultdict(list)
    for resource in resources.values():
        for cls in resource.statements.get(RDF_TYPE, []):
            if cls.value not in classes[resource.kind]:
                classes[resource.kind].append(cls.value)
    return resources, known, classes


def build_layout(
    sources: Sequence[SourceFile],
    base_iri: str,
    store: ox.Store,
    data_dir: Path,
) -> Layout:
    """The workbook's layout for the sources (``store`` holds the parsed vocabulary, shapes
    and data, as the build parses them)."""
    resources, known, classes_of = read_resources(sources, base_iri)
    shapes = _Shapes(store)
    labels = {**term_labels(), **shapes.vocabulary_labels()}
    layout = Layout(base_iri, [], resources, known, labels)

    # which kinds hold resources of a class (for references a shape names by class)
    kinds_of_class: dict[str, set[str]] = defaultdict(set)
    for kind, classes in classes_of.items():
        for cls in shapes.superclasses(classes):
            kinds_of_class[cls].add(kind)

    by_kind: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources.values():
        by_kind[resource.kind].append(resource)

    for kind in WORKBOOK_KINDS:
        members = by_kind.get(kind, [])
        if not members:
            continue
        classes = classes_of[kind]
        allowed_classes = _ordered([*classes, *shapes.subclasses(classes)])
        files = Counter(r.file for r in members)
        file = files.most_common(1)[0][0] or data_dir / f"{kind}s.ttl"
        graph = next(s.graph for s in sources if s.path == file)
        columns = [
            Column("", "key", ("Kennung", "key"), _KEY_HELP, many=False, required=True),
            Column(
                RDF_TYPE,
                "type",
                ("Art", "type"),
                _TYPE_HELP,
                codes=tuple(allowed_classes),
                required=True,
            ),
        ]
        columns += _property_columns(kind, members, classes, shapes, layout, kinds_of_class)
        names = KIND_NAMES.get(kind, ((kind, kind), (kind, kind)))[1]
        layout.sheets.append(Sheet(kind, names, columns, tuple(allowed_classes), file, graph))
    return layout


_KEY_HELP = (
    "Die Kennung des Eintrags: Kleinbuchstaben, Ziffern und Bindestriche, etwa "
    "„2020-11-11-kudequa“. Sie wird Teil der dauerhaften Adresse {base}id/{kind}/{kennung} und "
    "darf sich später nicht mehr ändern. Andere Blätter verweisen mit ihr auf diesen Eintrag.",
    "The entry's key: lower-case letters, digits and hyphens, such as “2020-11-11-kudequa”. It "
    "becomes part of the lasting address {base}id/{kind}/{key} and must not change later. "
    "Other sheets refer to this entry by it.",
)
_TYPE_HELP = (
    "Was der Eintrag ist (eine Art je Zeile der Zelle; die Liste bietet die möglichen an).",
    "What the entry is (one type per line of the cell; the list offers the possible ones).",
)
# Properties written last, in this order, after those of the data and the shapes.
_LAST = (EDITORIAL_NOTE, DCTERMS_SOURCE)


def _property_columns(
    kind: str,
    members: list[Resource],
    classes: list[str],
    shapes: _Shapes,
    layout: Layout,
    kinds_of_class: dict[str, set[str]],
) -> list[Column]:
    # properties in the order the data first uses them, then those only the shapes name
    used: dict[str, list[tuple[str, str]]] = {}
    for resource in members:
        for prop, values in resource.statements.items():
            if prop == RDF_TYPE:
                continue
            forms = used.setdefault(prop, [])
            for value in values:
                form = _value_form(value, layout.kind_of)
                if form not in forms:
                    forms.append(form)
    constraints = shapes.constraints(shapes.superclasses(classes))
    # a column is required only where a shape of a class every entry of the kind has says so
    # (a shape of ki:AccompanyingProject does not make a joint project's column required)
    common = set.intersection(
        *(
            set(shapes.superclasses([t.value for t in r.statements.get(RDF_TYPE, [])]))
            for r in members
        )
    )
    for facts in constraints.values():
        for fact in facts:
            fact["common"] = bool(fact["targets"] & common)
    order = [p for p in used if p not in _LAST]
    order += sorted(p for p in constraints if p not in used and p not in _LAST and p != RDF_TYPE)
    order += [p for p in _LAST if p in used or p in constraints]
    columns: list[Column] = []
    for prop in order:
        columns += _columns_for(
            kind,
            prop,
            used.get(prop, []),
            constraints.get(prop, []),
            shapes,
            layout,
            kinds_of_class,
        )
    return columns


def _columns_for(
    kind: str,
    prop: str,
    forms: list[tuple[str, str]],
    facts: list[dict],
    shapes: _Shapes,
    layout: Layout,
    kinds_of_class: dict[str, set[str]],
) -> Iterator[Column]:
    layout_kinds = {k for found in kinds_of_class.values() for k in found}
    datatypes = {d for f in facts for d in f["datatypes"]}
    classes = {c for f in facts for c in f["classes"]}
    codes = _ordered(c for f in facts for c in f["codes"])
    maxes = [f["max"] for f in facts if f["max"] is not None]
    single = bool(maxes) and min(maxes) <= 1
    required = any(f["min"] > 0 and f["common"] and not f["advice"] for f in facts)
    unique_lang = any(f["unique_lang"] for f in facts)
    required_langs = {
        lang for f in facts if f["common"] and not f["advice"] for lang in f["languages"]
    }
    names = {k for k, _ in forms}
    label = layout.labels.get(prop, (_local(prop), _local(prop)))
    messages = [f["messages"] for f in facts if f["messages"]]
    comment = shapes.comments(prop)
    help_de = " ".join(filter(None, [comment.get("de", ""), *(m.get("de", "") for m in messages)]))
    help_en = " ".join(filter(None, [comment.get("en", ""), *(m.get("en", "") for m in messages)]))
    help_text = (help_de, help_en)

    if "lang" in names or (not names and (LANG_STRING in datatypes or required_langs)):
        for lang in LANGS:
            de_word, en_word = LANGUAGE_WORDS[lang]
            yield Column(
                prop,
                "lang",
                (f"{label[0]} ({de_word})", f"{label[1]} ({en_word})"),
                help_text,
                language=lang,
                many=not (single or unique_lang),
                required=lang in required_langs or (required and lang == "de"),
            )
        return
    if "text" in names or (not names and datatypes == {XSD_STRING}):
        yield Column(prop, "text", label, help_text, many=not single, required=required)
        return
    if "typed" in names or (not names and datatypes and not classes):
        typed = _ordered([d for k, d in forms if k == "typed"] + sorted(datatypes - {LANG_STRING}))
        yield Column(
            prop,
            "typed",
            label,
            help_text,
            datatypes=tuple(typed),
            many=not single,
            required=required,
        )
        return
    if codes and "ref" not in names:
        yield Column(
            prop, "code", label, help_text, codes=tuple(codes), many=not single, required=required
        )
        return
    classes |= set(shapes.ranges(prop))
    if "ref" in names or (not names and classes):
        kinds = _ordered(k for f, k in forms if f == "ref")
        for cls in sorted(classes):
            kinds += sorted(kinds_of_class.get(cls, set()) - set(kinds))
        if not classes:
            # neither the shapes nor the vocabulary say what the values are: any entry
            kinds += [k for k in WORKBOOK_KINDS if k in layout_kinds and k not in kinds]
        yield Column(
            prop, "ref", label, help_text, kinds=tuple(kinds), many=not single, required=required
        )
        return
    yield Column(prop, "iri", label, help_text, many=not single, required=required)


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1]
