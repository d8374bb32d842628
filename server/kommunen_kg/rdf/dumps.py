"""Serialising the release's graphs into reproducible files.

Building twice from the same sources must give byte-identical dumps, so that a checksum means
something and a mirror can tell that nothing changed. Hence: triples are sorted before they are
written, blank nodes (which only the shapes use) get canonical RDFC-1.0 labels, and gzip is
written without a file name or time stamp.

The build writes from its Oxigraph store (:func:`graph_lines` and the ``*_from_lines``
functions): each graph is dumped as N-Triples in Rust and sorted as lines of bytes, which is the
same order as sorting triples by the N-Triples form of subject, predicate and object (a term is
never a prefix of another term followed by a character below the space that separates them).
The functions over Python triples (``sorted_triples``, ``canonical_quads``, ``compact_jsonld``)
stay for small graphs, such as one resource's description.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib

from kommunen_kg.rdf import formats
from kommunen_kg.rdf.formats import Syntax
from kommunen_kg.rdf.lexical_forms import LiteralCodec
from kommunen_kg.rdf.rdflib_terms import triples_to_rdflib


@dataclass(frozen=True)
class DumpFormat:
    """One kind of dump file: a syntax of rdf/formats.py, gzipped or not."""

    syntax: Syntax
    gzip: bool = False

    @property
    def suffix(self) -> str:
        return f".{self.syntax.extension}" + (".gz" if self.gzip else "")

    @property
    def rdf_format(self) -> ox.RdfFormat:
        return self.syntax.rdf_format  # type: ignore[return-value]

    @property
    def media_type(self) -> str:
        return self.syntax.media_type

    @property
    def eu_file_type(self) -> str:
        return self.syntax.eu_file_type

    @property
    def label(self) -> str:
        return self.syntax.label + (" (gzip)" if self.gzip else "")

    @property
    def quads(self) -> bool:
        return self.syntax.quads


TURTLE = DumpFormat(formats.TURTLE)
NTRIPLES_GZ = DumpFormat(formats.NTRIPLES, gzip=True)
JSONLD = DumpFormat(formats.JSONLD)
TRIG = DumpFormat(formats.TRIG)
NQUADS_GZ = DumpFormat(formats.NQUADS, gzip=True)

GRAPH_DUMPS: tuple[DumpFormat, ...] = (TURTLE, NTRIPLES_GZ, JSONLD)
DATASET_DUMPS: tuple[DumpFormat, ...] = (TRIG, NQUADS_GZ)


def _term_key(term: object) -> str:
    return str(term)


def sorted_triples(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Triples in a stable order: by subject, predicate, object in N-Triples form."""
    return sorted(
        set(triples),
        key=lambda t: (_term_key(t.subject), _term_key(t.predicate), _term_key(t.object)),
    )


def canonical_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Quads with canonical blank-node labels, in a stable order."""
    dataset = ox.Dataset(quads)
    if any(
        isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode) for q in dataset
    ):
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(
        dataset,
        key=lambda q: (
            _term_key(q.graph_name),
            _term_key(q.subject),
            _term_key(q.predicate),
            _term_key(q.object),
        ),
    )


def _compress(data: bytes | list[bytes]) -> bytes:
    """gzip without name or time stamp; a list of chunks gives the same bytes as their join
    (zlib's output does not depend on how its input is cut)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        for chunk in [data] if isinstance(data, bytes) else data:
            f.write(chunk)
    return buffer.getvalue()


def _sorted_json(value: object, ordered: bool = False) -> object:
    """Sorts the arrays of a JSON-LD document by content, recursively; @list keeps its order."""
    if isinstance(value, dict):
        return {k: _sorted_json(v, ordered=k == "@list") for k, v in value.items()}
    if isinstance(value, list) and ordered:
        return [_sorted_json(v) for v in value]
    if isinstance(value, list):
        items = [_sorted_json(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
    return value


def compact_jsonld(triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> bytes:
    """JSON-LD compacted with our prefixes as @context, in a reproducible order.

    pyoxigraph writes expanded JSON-LD only; rdflib compacts against a context but orders nodes
    by hash, so the document is re-sorted to make equal graphs give equal bytes.
    """
    graph = triples_to_rdflib(triples)
    doc = json.loads(graph.serialize(format="json-ld", context=prefixes, auto_compact=True))
    text = json.dumps(_sorted_json(doc), sort_keys=True, ensure_ascii=False, indent=1)
    return (text + "\n").encode("utf-8")


def serialise(
    statements: Iterable[ox.Triple] | Iterable[ox.Quad],
    fmt: DumpFormat,
    prefixes: dict[str, str],
) -> bytes:
    """Bytes of one dump file; ``statements`` must already be in a stable order."""
    if fmt is JSONLD:
        return compact_jsonld(statements, prefixes)  # type: ignore[arg-type]
    data = ox.serialize(
        statements,
        format=fmt.rdf_format,
        prefixes=prefixes if fmt.rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None,
    )
    return _compress(data) if fmt.gzip else data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- dumps from the build's store -------------------------------------------------------------


def _blank_node_graphs(store: ox.Store, graphs: list[ox.NamedNode]) -> list[ox.NamedNode]:
    return [
        g
        for g in graphs
        if store.query(
            f"ASK {{ GRAPH <{g.value}> {{ ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }} }}"
        )
    ]


def graph_lines(store: ox.Store, graphs: list[ox.NamedNode]) -> dict[ox.NamedNode, list[bytes]]:
    """Each graph's triples as sorted N-Triples lines (without their newline).

    Literals are written as the sources wrote them (see :mod:`.lexical_forms`); graphs with blank
    nodes get canonical RDFC-1.0 labels, computed over all of them together as
    :func:`canonical_quads` would over the whole dataset. A graph of the store holds each
    triple once, so its lines are unique.
    """
    result: dict[ox.NamedNode, list[bytes]] = {}
    with_blank = _blank_node_graphs(store, graphs)
    if with_blank:
        decode = LiteralCodec.decode
        dataset = ox.Dataset(
            ox.Quad(q.subject, q.predicate, decode(q.object), q.graph_name)
            for g in with_blank
            for q in store.quads_for_pattern(None, None, None, g)
        )
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        for g in with_blank:
            triples = [q.triple for q in dataset.quads_for_graph_name(g)]
            result[g] = _sorted_lines(
                ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) if triples else b""
            )
    for g in graphs:
        if g not in result:
            result[g] = _sorted_lines(
                LiteralCodec.unwrap_bytes(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g))
            )
    return result


def _sorted_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    del data
    lines.pop()  # after the last newline (or the only, empty, item)
    lines.sort()
    return lines


def merge_lines(*sorted_lists: list[bytes]) -> list[bytes]:
    """The union of sorted line lists, sorted, each line once."""
    merged: list[bytes] = []
    for line in heapq.merge(*sorted_lists):
        if not merged or merged[-1] != line:
            merged.append(line)
    return merged


def lines_text(lines: list[bytes]) -> bytes:
    """N-Triples text of sorted lines."""
    return b"\n".join(lines) + b"\n" if lines else b""


CHUNK_LINES = 100_000  # lines per chunk of a large text: big enough, small to copy


def chunked_text(lines: list[bytes], suffix: bytes | None = None) -> list[bytes]:
    """N-Triples text of sorted lines in chunks of :data:`CHUNK_LINES` lines (one text of a
    million lines would be one more copy of all of them); with ``suffix`` (`` <g>``) as N-Quads."""
    chunks = []
    for start in range(0, len(lines), CHUNK_LINES):
        chunk = lines_text(lines[start : start + CHUNK_LINES])
        if suffix is not None:
            # " .\n" ends every line and occurs nowhere else: N-Triples escapes newlines.
            chunk = chunk.replace(b" .\n", suffix + b" .\n")
        chunks.append(chunk)
    return chunks


def quad_chunks(lines: dict[ox.NamedNode, list[bytes]]) -> list[bytes]:
    """N-Quads text of the graphs, ordered by graph, subject, predicate, object, in chunks."""
    chunks = []
    for graph in sorted(lines, key=str):
        chunks += chunked_text(lines[graph], f" <{graph.value}>".encode())
    return chunks


def chunk_lines(chunks: list[bytes]) -> Iterator[bytes]:
    """The lines (with their newline) of a text in chunks."""
    for chunk in chunks:
        yield from io.BytesIO(chunk)


class ChunkReader(io.RawIOBase):
    """A binary file over a list of byte chunks, for parsers that read from files."""

    def __init__(self, chunks: list[bytes]):
        super().__init__()
        self._chunks = chunks
        self._index = 0
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while self._index < len(self._chunks):
            chunk = self._chunks[self._index]
            if self._offset < len(chunk):
                n = min(len(buffer), len(chunk) - self._offset)
                buffer[:n] = chunk[self._offset : self._offset + n]
                self._offset += n
                return n
            self._index += 1
            self._offset = 0
        return 0


def _reader(chunks: list[bytes]):
    return io.BufferedReader(ChunkReader(chunks), buffer_size=1 << 20)


def serialise_chunks(chunks: list[bytes], fmt: DumpFormat, prefixes: dict[str, str]) -> bytes:
    """One dump file from sorted N-Triples (or, for dataset formats, N-Quads) text in chunks."""
    if fmt.rdf_format in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return _compress(chunks) if fmt.gzip else b"".join(chunks)
    if fmt is JSONLD:
        return jsonld_from_lines(chunks, prefixes)
    source = ox.RdfFormat.N_QUADS if fmt.quads else ox.RdfFormat.N_TRIPLES
    # The parser goes to the serialiser as it is (quads of the default graph serialise as
    # triples): no Python code runs per statement.
    out = ox.serialize(
        ox.parse(_reader(chunks), format=source),
        format=fmt.rdf_format,
        prefixes=prefixes if fmt.rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None,
    )
    return _compress([out]) if fmt.gzip else out


# --- compact JSON-LD without an rdflib graph --------------------------------------------------

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_NATIVE = {
    "http://www.w3.org/2001/XMLSchema#boolean",
    "http://www.w3.org/2001/XMLSchema#integer",
    "http://www.w3.org/2001/XMLSchema#double",
}


class _NeedsRdflib(Exception):
    """The graph has something the direct writer does not reproduce; rdflib writes it."""


def jsonld_from_lines(data: list[bytes], prefixes: dict[str, str]) -> bytes:
    """The same bytes as :func:`compact_jsonld` over the triples of sorted N-Triples text
    (in chunks),
    written node by node instead of through an rdflib graph (a million triples in rdflib take
    over a gigabyte). rdflib's own JSON-LD context does the compaction of every IRI, so the
    terms come out exactly as rdflib writes them; a graph with blank nodes, lists, ill-typed
    native literals or IRIs equal to a namespace goes through :func:`compact_jsonld`."""
    try:
        return _jsonld_direct(data, prefixes)
    except _NeedsRdflib:
        return compact_jsonld(
            (q.triple for q in ox.parse(_reader(data), format=ox.RdfFormat.N_TRIPLES)), prefixes
        )


def _jsonld_direct(data: list[bytes], prefixes: dict[str, str]) -> bytes:
    from rdflib.plugins.shared.jsonld.context import Context

    context = Context(prefixes)
    symbols: dict[str, str] = {}
    shrunk: dict[str, str] = {}

    def symbol(iri: str) -> str:
        if iri not in symbols:
            if context.find_term(iri) is not None:
                raise _NeedsRdflib(f"an IRI equal to a context term: {iri}")
            symbols[iri] = context.to_symbol(iri)
        return symbols[iri]

    def shrink(iri: str) -> str:
        if iri not in shrunk:
            shrunk[iri] = context.shrink_iri(iri)
        return shrunk[iri]

    def value(obj) -> object:
        if isinstance(obj, ox.NamedNode):
            if obj.value == _RDF_NIL:
                raise _NeedsRdflib("rdf:nil (an empty list)")
            return {"@id": shrink(obj.value)}
        if isinstance(obj, ox.Literal):
            if obj.language:
                return {"@language": obj.language, "@value": obj.value}
            datatype = obj.datatype.value
            if datatype == _XSD_STRING:
                return obj.value
            if datatype in _NATIVE:
                native = rdflib.Literal(obj.value, datatype=rdflib.URIRef(datatype)).toPython()
                if isinstance(native, rdflib.Literal) or (
                    datatype.endswith("boolean") and obj.value not in ("true", "false", "1", "0")
                ):
                    raise _NeedsRdflib(f"an ill-typed literal {obj}")
                return native
            return {"@type": symbol(datatype), "@value": obj.value}
        raise _NeedsRdflib(f"a blank node or other term: {obj}")

    nodes: list[tuple[bytes, bytes]] = []  # (sort key, text), UTF-8: half the size of str
    node: dict | None = None
    current = None

    def finish() -> None:
        if node is not None:
            tidy = _sorted_node(node)
            key = json.dumps(tidy, sort_keys=True, ensure_ascii=False).encode("utf-8")
            # UTF-8 orders byte strings as their characters: the order of the str keys.
            nodes.append((key, ("  " + _indented(tidy, 2)).encode("utf-8")))

    for quad in ox.parse(_reader(data), format=ox.RdfFormat.N_TRIPLES):
        subject, predicate, obj = quad.subject, quad.predicate.value, quad.object
        if not isinstance(subject, ox.NamedNode):
            raise _NeedsRdflib("a blank node subject")
        if subject != current:
            finish()
            current = subject
            node = {"@id": shrink(subject.value)}
        if predicate == _RDF_TYPE:
            symbol(predicate)  # checks that rdf:type is no context term
            key = "@type"
            item = symbol(obj.value) if isinstance(obj, ox.NamedNode) else value(obj)
        else:
            key = symbol(predicate)
            item = value(obj)
        if key in node:
            existing = node[key]
            if isinstance(existing, list):
                existing.append(item)
            else:
                node[key] = [existing, item]
        else:
            node[key] = item
    finish()
    if len(nodes) <= 1:
        # rdflib writes a lone node as the document itself; small, so build it as rdflib does.
        doc = json.loads(nodes[0][1].decode("utf-8")) if nodes else {"@graph": []}
        doc["@context"] = prefixes
        text = json.dumps(_sorted_json(doc), sort_keys=True, ensure_ascii=False, indent=1)
        return (text + "\n").encode("utf-8")
    nodes.sort(key=lambda kv: kv[0])
    head = json.dumps({"@context": prefixes}, sort_keys=True, ensure_ascii=False, indent=1)
    parts = [(head[: -len("\n}")] + ',\n "@graph": [\n').encode("utf-8")]
    for i, (_key, text) in enumerate(nodes):
        if i:
            parts.append(b",\n")
        parts.append(text)
    parts.append(b"\n ]\n}\n")
    return b"".join(parts)


_encode_other = json.JSONEncoder(ensure_ascii=False).encode
_encode_string = json.encoder.encode_basestring  # json's own C function (ensure_ascii=False)


def _scalar(value) -> str:
    return _encode_string(value) if type(value) is str else _encode_other(value)


def _sorted_node(node: dict) -> dict:
    """:func:`_sorted_json` for the nodes the direct writer builds: their values are scalars,
    flat objects or lists of those, so only the lists need sorting."""
    for value in node.values():
        if type(value) is list:
            value.sort(key=_sort_key)
    return node


def _sort_key(value) -> str:
    if type(value) is str:
        return _encode_string(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _indented(value, level: int) -> str:
    """``json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)`` as it would appear
    nested ``level`` deep, written here because ``indent`` makes json fall back from its C
    encoder to a Python one that is several times slower."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = "\n" + " " * (level + 1)
        items = [
            f"{inner}{_encode_string(k)}: {_indented(value[k], level + 1)}" for k in sorted(value)
        ]
        return "{" + ",".join(items) + "\n" + " " * level + "}"
    if kind is list:
        if not value:
            return "[]"
        inner = "\n" + " " * (level + 1)
        items = [inner + _indented(v, level + 1) for v in value]
        return "[" + ",".join(items) + "\n" + " " * level + "]"
    return _encode_other(value)
