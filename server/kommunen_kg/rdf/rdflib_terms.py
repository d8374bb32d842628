"""One bridge between pyoxigraph and rdflib terms, for the places that need rdflib.

pyshacl validates rdflib graphs, and rdflib compacts JSON-LD; everything else works on
pyoxigraph. Blank-node labels are kept across the bridge where Oxigraph allows them, because
validation reports and the shapes refer to them; ``xsd:string`` literals become plain ones,
as rdflib parses them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import pyoxigraph as ox
import rdflib

from kommunen_kg.rdf.lexical_forms import XSD_STRING


def _not_a_conversion_failure(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Failed to convert Literal lexical form")


# rdflib logs a traceback for every literal outside its datatype's lexical space (a 31
# November) as it makes the term. Such literals are ours to report, in one line with file and
# line (build/validate.py, literal_rules); the traceback would only bury that line.
logging.getLogger("rdflib.term").addFilter(_not_a_conversion_failure)


def to_rdflib_term(term, bnodes: dict | None = None):
    """An Oxigraph term as rdflib's (xsd:string literals untagged, as rdflib parses them)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        if bnodes is not None and term in bnodes:
            return bnodes[term]
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(datatype))
    raise TypeError(f"unsupported term {term!r}")


_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


def to_ox_term(term, bnodes: dict):
    """An rdflib term as Oxigraph's; blank nodes keep their label where Oxigraph allows it."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        if term not in bnodes:
            label = str(term)
            bnodes[term] = ox.BlankNode(label) if _LABEL.fullmatch(label) else ox.BlankNode()
        return bnodes[term]
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is None:
            return ox.Literal(str(term))
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    raise TypeError(f"unsupported term {term!r}")


def graph_to_ox(graph: rdflib.Graph, bnodes: dict, back: dict | None = None) -> list[ox.Triple]:
    """The triples of an rdflib graph; ``back`` collects each Oxigraph term's rdflib original."""
    triples = []
    for triple in graph:
        terms = [to_ox_term(t, bnodes) for t in triple]
        if back is not None:
            for original, term in zip(triple, terms, strict=True):
                back.setdefault(term, original)
        triples.append(ox.Triple(*terms))
    return triples


def triples_to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """Oxigraph triples as an rdflib graph, blank-node labels kept (the report refers to them)."""
    graph = rdflib.Graph()
    for t in triples:
        graph.add(tuple(to_rdflib_term(x) for x in (t.subject, t.predicate, t.object)))
    return graph
