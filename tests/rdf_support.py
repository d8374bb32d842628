"""Parsing RDF the ways clients do: rdflib, Debian's rapper (raptor2) and pyld."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic

RAPPER = shutil.which("rapper") or "/usr/bin/rapper"

# rapper's names for the syntaxes it reads (it has no JSON-LD parser).
RAPPER_SYNTAX = {
    "turtle": "turtle",
    "nt": "ntriples",
    "xml": "rdfxml",
    "trig": "trig",
    "nquads": "nquads",
}


def need_rapper() -> None:
    if not Path(RAPPER).is_file():
        pytest.skip("rapper is missing: apt-get install raptor2-utils (CI installs it)")


def rapper_quads(data: bytes, syntax: str, base: str = "http://example.org/") -> Dataset:
    """What raptor2 reads from ``data``, written out as N-Quads and read back by rdflib.

    N-Quads is the simplest syntax both tools share, so a difference in the result is a
    difference in how the two parsers read the original syntax.
    """
    need_rapper()
    done = subprocess.run(
        [RAPPER, "-q", "-i", RAPPER_SYNTAX[syntax], "-o", "nquads", "-", base],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    dataset = Dataset()
    dataset.parse(data=done.stdout, format="nquads")
    return dataset


def rapper_graph(data: bytes, syntax: str) -> Graph:
    return union(rapper_quads(data, syntax))


def pyld_graph(data: bytes) -> Graph:
    """The JSON-LD document turned into RDF by pyld (the JSON-LD reference algorithms)."""
    from pyld import jsonld

    nquads = jsonld.to_rdf(json.loads(data), {"format": "application/n-quads"})
    return union(Dataset().parse(data=nquads, format="nquads"))


def union(dataset: Dataset) -> Graph:
    graph = Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def graphs_by_name(dataset: Dataset) -> dict[str, Graph]:
    """Named graphs of a dataset as separate graphs (the default graph left out when empty)."""
    found: dict[str, Graph] = {}
    for s, p, o, g in dataset.quads((None, None, None, None)):
        name = str(g.identifier if hasattr(g, "identifier") else g)
        found.setdefault(name, Graph()).add((s, p, o))
    return found


def same_datasets(a: Dataset, b: Dataset) -> bool:
    left, right = graphs_by_name(a), graphs_by_name(b)
    return left.keys() == right.keys() and all(isomorphic(left[k], right[k]) for k in left)
