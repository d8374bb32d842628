"""Serialising the release's graphs into reproducible files.

Building twice from the same sources must give byte-identical dumps, so that a checksum means
something and a mirror can tell that nothing changed. Hence: triples are sorted before they are
written, blank nodes (which only the shapes use) get canonical RDFC-1.0 labels, and gzip is
written without a file name or time stamp.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib


@dataclass(frozen=True)
class DumpFormat:
    """One kind of dump file: its name suffix, syntax, media type and EU file-type code."""

    suffix: str
    rdf_format: ox.RdfFormat
    media_type: str
    eu_file_type: str
    label: str
    gzip: bool = False
    quads: bool = False


TURTLE = DumpFormat(".ttl", ox.RdfFormat.TURTLE, "text/turtle", "RDF_TURTLE", "Turtle")
NTRIPLES_GZ = DumpFormat(
    ".nt.gz",
    ox.RdfFormat.N_TRIPLES,
    "application/n-triples",
    "RDF_N_TRIPLES",
    "N-Triples (gzip)",
    gzip=True,
)
JSONLD = DumpFormat(".jsonld", ox.RdfFormat.JSON_LD, "application/ld+json", "JSON_LD", "JSON-LD")
TRIG = DumpFormat(".trig", ox.RdfFormat.TRIG, "application/trig", "RDF_TRIG", "TriG", quads=True)
NQUADS_GZ = DumpFormat(
    ".nq.gz",
    ox.RdfFormat.N_QUADS,
    "application/n-quads",
    "RDF_N_QUADS",
    "N-Quads (gzip)",
    gzip=True,
    quads=True,
)

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


def _compress(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as f:
        f.write(data)
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
    graph = rdflib.Graph()
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data.decode("utf-8"), format="nt")
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
