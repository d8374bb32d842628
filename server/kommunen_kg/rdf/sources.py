"""Finding and parsing the curated sources: ``ontology/`` and ``data/``.

Parsing uses pyoxigraph, which is fast and names the line and column of a syntax error, so
that a data editor sees ``data/talks.ttl:42:7: ...`` rather than a stack trace. Each source file
belongs to one named graph of the release, and the triples go straight into an Oxigraph store
(see :class:`ParsedSources`); the parser also remembers on which line each resource is
described, so that a validation report can point at the right place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kommunen_kg.rdf.lexical_forms import RDF_LANGSTRING, XSD_STRING, LiteralCodec
from kommunen_kg.rdf.namespaces import ProjectIRIs

RDF_SUFFIXES: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".n3": ox.RdfFormat.N3,
}


class SourceError(Exception):
    """A source file cannot be read or parsed; the message names the file and the position."""

    def __init__(
        self,
        path: Path,
        message: str,
        line: int | None = None,
        column: int | None = None,
        root: Path | None = None,
    ):
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        shown = display_path(path, root)
        where = shown if line is None else f"{shown}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


@dataclass
class SourceFile:
    """One file of the sources and the part of the release (graph) it belongs to."""

    path: Path
    graph: str


@dataclass
class ParsedFile:
    """What the build needs to know about one parsed file besides its triples (which are in the
    store): where each resource is described, and what the source rules check."""

    source: SourceFile
    # subject IRI -> line where the file starts describing it
    subject_lines: dict[str, int] = field(default_factory=dict)
    triple_count: int = 0
    has_blank_nodes: bool = False
    # IRI subjects that are not under the base IRI the file was parsed with, in order of appearance
    outside_subjects: list[str] = field(default_factory=list)
    # every property and class (object of rdf:type) the file uses -> (a subject that uses it,
    # whether as a class), for the closed-vocabulary check (build/terms.py)
    terms: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # the prefixes the file declares (name -> namespace, resolved against the base IRI)
    prefixes: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedSources:
    """All sources, parsed into one in-memory Oxigraph store, one named graph per part.

    The triples never live as Python objects: a graph of a million triples takes a few hundred
    megabytes in the store and would take several times that as a Python set. Each part
    (vocabulary, themes, shapes, data) is the named graph ``{base}graph/{part}``, the name it has
    in the release; literals are stored through :class:`LiteralCodec`, so that their lexical
    forms survive.
    """

    files: list[ParsedFile]
    root: Path | None = None  # paths in reports are shown relative to this folder
    store: ox.Store = field(default_factory=ox.Store)
    codec: LiteralCodec = field(default_factory=LiteralCodec)
    base_iri: str = ""

    def graph(self, part: str) -> ox.NamedNode:
        """The store's named graph that holds one part of the sources."""
        return ox.NamedNode(ProjectIRIs(self.base_iri).graph(part))

    def count(self, part: str) -> int:
        return sum(f.triple_count for f in self.files if f.source.graph == part)

    def prefixes(self) -> dict[str, str]:
        """The prefixes the files declare (name -> namespace; a later file's name for a
        namespace wins), which reports write IRIs with, as the editors read them in the files.
        A name that two files declare for different namespaces is left out: in one of them it
        would read as the other namespace."""
        meanings: dict[str, set[str]] = {}
        for f in self.files:
            for name, namespace in f.prefixes.items():
                meanings.setdefault(name, set()).add(namespace)
        names = {
            namespace: name
            for f in self.files
            for name, namespace in f.prefixes.items()
            if len(meanings[name]) == 1
        }
        return {name: namespace for namespace, name in names.items()}

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one part, as the sources wrote them (for small parts and tests)."""
        decode = self.codec.decode
        return [
            ox.Triple(q.subject, q.predicate, decode(q.object))
            for q in self.store.quads_for_pattern(None, None, None, self.graph(graph))
        ]

    def locations(self, subject: str) -> list[str]:
        """``file:line`` of every place that describes ``subject`` (may be empty)."""
        return [
            f"{display_path(f.source.path, self.root)}:{f.subject_lines[subject]}"
            for f in self.files
            if subject in f.subject_lines
        ]


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as an editor would type it: relative to the project (or working) folder."""
    try:
        return str(Path(path).resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        return str(path)


def ontology_graph_for(path: Path) -> str:
    """Which graph an ontology file feeds: shapes*, themes*, everything else is vocabulary."""
    stem = path.name.split(".")[0]
    if stem.startswith("shapes"):
        return "shapes"
    if stem.startswith("themes"):
        return "themes"
    return "vocabulary"


def _rdf_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in RDF_SUFFIXES)


def discover(ontology_dir: Path, data_dir: Path) -> list[SourceFile]:
    """Every source file, in a stable order (the order never changes the result)."""
    found = [SourceFile(p, ontology_graph_for(p)) for p in _rdf_files(ontology_dir)]
    found += [SourceFile(p, "data") for p in _rdf_files(data_dir)]
    return found


def files_as_sources(paths: Iterable[Path], default_graph: str = "data") -> list[SourceFile]:
    """Explicitly named files or folders (``kommunen-kg validate FILES``) as sources."""
    result: list[SourceFile] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            result += [SourceFile(p, default_graph) for p in _rdf_files(path)]
        elif path.is_file():
            result.append(SourceFile(path, default_graph))
        else:
            raise SourceError(path, "no such file or folder")
    return result


_SUBJECT_AT_LINE_START = re.compile(r"^(<[^>\s]*>|[A-Za-z][\w.-]*:[^\s;,]*|:[^\s;,]*)")


def _subject_lines(text: str, prefixes: dict[str, str], base_iri: str) -> dict[str, int]:
    """Maps each subject written at the start of a line to that line, for Turtle-like files.

    This is a reading aid for reports, not a parser: it looks only at unindented lines, which
    is how every file in data/ is written.
    """
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SUBJECT_AT_LINE_START.match(line)
        if not match or line.startswith(("@prefix", "@base", "PREFIX", "BASE")):
            continue
        token = match.group(1)
        if token.startswith("<"):
            iri = token[1:-1]
            if "://" not in iri:
                iri = base_iri + iri
        else:
            prefix, _, local = token.partition(":")
            if prefix not in prefixes:
                continue
            iri = prefixes[prefix] + local
        lines.setdefault(iri, number)
    return lines


def _scan(parser, source: SourceFile, base_iri: str, root: Path | None):
    """One pass over a file's quads, in Python but without keeping them: the facts the source
    rules need, and the typed literals whose stored form the codec must decide."""
    blank, literal, default = ox.BlankNode, ox.Literal, ox.DefaultGraph
    plain = {XSD_STRING, RDF_LANGSTRING}
    typed: set[tuple[str, str]] = set()
    outside: dict[str, None] = {}
    # terms as pyoxigraph nodes (hashed without making a string per quad) -> a subject
    predicates: dict[ox.NamedNode, object] = {}
    classes: dict[ox.NamedNode, object] = {}
    has_blank = False
    count = 0
    try:
        for quad in parser:
            count += 1
            predicate = quad.predicate
            if predicate not in predicates:
                predicates[predicate] = quad.subject
            if predicate == _RDF_TYPE and type(quad.object) is ox.NamedNode:
                classes.setdefault(quad.object, quad.subject)
            if type(quad.graph_name) is not default:
                raise SourceError(
                    source.path,
                    "named graphs are not allowed in sources; the build assigns graphs",
                    root=root,
                )
            subject, obj = quad.subject, quad.object
            if type(subject) is blank:
                has_blank = True
            else:
                iri = subject.value
                if not iri.startswith(base_iri) and iri not in outside:
                    outside[iri] = None
            kind = type(obj)
            if kind is literal:
                datatype = obj.datatype.value
                if datatype not in plain:
                    typed.add((obj.value, datatype))
            elif kind is blank:
                has_blank = True
    except SyntaxError as exc:
        line, column = _position(exc)
        message = str(exc.msg if hasattr(exc, "msg") else exc)
        message = re.sub(r"^Parser error at line \d+ column \d+: ", "", message)
        raise SourceError(source.path, message, line, column, root=root) from exc
    terms = {p.value: (_iri_of(subject), False) for p, subject in predicates.items()}
    for cls, subject in classes.items():
        terms.setdefault(cls.value, (_iri_of(subject), True))
    return count, has_blank, list(outside), typed, terms


_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _iri_of(term: object) -> str:
    return term.value if type(term) is ox.NamedNode else ""  # type: ignore[attr-defined]


def parse_file(
    source: SourceFile,
    base_iri: str,
    root: Path | None = None,
    store: ox.Store | None = None,
    codec: LiteralCodec | None = None,
    graph: ox.NamedNode | None = None,
) -> ParsedFile:
    """Parses one file into ``graph`` of ``store``; relative IRIs (and relative prefixes)
    resolve against ``base_iri``.

    The file is read twice by Oxigraph's parser: once in a Python loop that looks at every
    quad without keeping it (source rules, literals), once straight into the store in Rust.
    Only a file with literals the store would rewrite is loaded quad by quad, through the codec.
    """
    fmt = RDF_SUFFIXES.get(source.path.suffix)
    if fmt is None:
        raise SourceError(
            source.path, f"unknown RDF syntax for suffix {source.path.suffix!r}", root=root
        )
    try:
        raw = source.path.read_bytes()
    except OSError as exc:
        raise SourceError(source.path, f"cannot read: {exc.strerror}", root=root) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(source.path, "not UTF-8 encoded", line, root=root) from exc
    store = store if store is not None else ox.Store()
    codec = codec if codec is not None else LiteralCodec()
    graph = graph if graph is not None else ox.NamedNode(ProjectIRIs(base_iri).graph(source.graph))
    parser = ox.parse(raw, format=fmt, base_iri=base_iri)
    count, has_blank, outside, typed, terms = _scan(parser, source, base_iri, root)
    if codec.prepare(typed):
        store.extend(
            codec.encode_quad(ox.Quad(q.subject, q.predicate, q.object, graph))
            for q in ox.parse(raw, format=fmt, base_iri=base_iri)
        )
    else:
        store.load(raw, format=fmt, base_iri=base_iri, to_graph=graph)
    prefixes = dict(parser.prefixes)
    lines = {}
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N3):
        lines = _subject_lines(text, prefixes, base_iri)
    return ParsedFile(source, lines, count, has_blank, outside, terms, prefixes)


def _position(exc: SyntaxError) -> tuple[int | None, int | None]:
    if exc.lineno is not None:
        return exc.lineno, exc.offset
    match = re.search(r"line (\d+) column (\d+)", str(exc))
    if match:
        return int(match.group(1)), int(match.group(2))
    return None, None


def parse_sources(
    sources: Sequence[SourceFile], base_iri: str, root: Path | None = None
) -> ParsedSources:
    """Parses every source into one store, stopping at the first file with a syntax error."""
    parsed = ParsedSources([], root, base_iri=base_iri)
    for source in sources:
        parsed.files.append(
            parse_file(
                source, base_iri, root, parsed.store, parsed.codec, parsed.graph(source.graph)
            )
        )
    return parsed
