"""What the server says about one resource: its description, and whether it still exists.

A description (what ``/data/...`` returns and what a page is made from) holds

* every triple about the resource, and about the hash resources it links to
  (``{dataset}#temporal``, ``{distribution}#sha256``), which share its document;
* every triple that links to it (incoming links: the talks that present a project);
* the labels of every resource it names, so that a client can show a link by its name
  without dereferencing it.

The two documents ``{base}def`` and ``{base}shapes`` are described by their whole named graph
(the vocabulary, the shapes), as a vocabulary published with hash IRIs is one document.

Whether a resource exists, moved or was removed is also data: ``data/redirects.ttl`` states
``dcterms:isReplacedBy`` for a moved IRI and ``prov:invalidatedAtTime`` for a removed one.
Such an IRI carries no ``rdf:type`` (it no longer names a thing of ours), which keeps the rule
from misreading a live resource that merely links to a successor.

Every question goes through ``publication.trusted``, so a remote SPARQL store can stand in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import DCTERMS, FOAF, PROV, RDF_TYPE, RDFS, SCHEMA, SKOS
from kommunen_kg.sparql.engine import TrustedEngine

LABEL_PROPERTIES: tuple[str, ...] = (
    SCHEMA + "name",
    SKOS + "prefLabel",
    RDFS + "label",
    DCTERMS + "title",
    FOAF + "name",
)


def iri_term(iri: str) -> str:
    """An IRI written for a SPARQL query; pyoxigraph refuses IRIs that could break out."""
    return str(ox.NamedNode(iri))


def string_term(text: str) -> str:
    """A string literal written for a SPARQL query, escaped by pyoxigraph."""
    return str(ox.Literal(text))


@dataclass(frozen=True)
class Status:
    """What an IRI is now: ``present``, ``moved`` (to ``replaced_by``), ``gone`` or
    ``unknown``."""

    state: str
    replaced_by: str | None = None
    invalidated: str | None = None
    comments: dict[str, str] = field(default_factory=dict)


def status(engine: TrustedEngine, iri: str) -> Status:
    """What ``iri`` is now, in at most three questions, the usual case (a typed resource) in one.

    Only ASK and plain bindings: a query that binds an existence test to a variable gets
    ``"true"`` from Oxigraph and ``"1"^^xsd:integer`` from Virtuoso, so its answer meant
    "absent" on Virtuoso and every resource view answered 404 there (issue 15)."""
    node = iri_term(iri)
    if engine.ask(f"ASK {{ {node} <{RDF_TYPE}> ?type }}"):
        return Status("present")
    rows = engine.select(
        f"""SELECT ?new ?when ?why WHERE {{
          OPTIONAL {{ {node} <{DCTERMS}isReplacedBy> ?new }}
          OPTIONAL {{ {node} <{PROV}invalidatedAtTime> ?when }}
          OPTIONAL {{ {node} <{RDFS}comment> ?why }}
        }}"""
    )
    comments = {}
    for row in rows:
        why = row.get("why")
        if isinstance(why, ox.Literal):
            comments.setdefault(why.language or "", why.value)
    new = next((r["new"] for r in rows if isinstance(r.get("new"), ox.NamedNode)), None)
    if new is not None:
        return Status("moved", replaced_by=new.value, comments=comments)
    when = next((r["when"] for r in rows if r.get("when") is not None), None)
    if when is not None:
        return Status("gone", invalidated=when.value, comments=comments)
    return Status("present" if engine.ask(f"ASK {{ {node} ?p ?o }}") else "unknown")


def document_exists(engine: TrustedEngine, graph: str) -> bool:
    return engine.ask(f"ASK {{ GRAPH {iri_term(graph)} {{ ?s ?p ?o }} }}")


@dataclass
class Description:
    """The triples of one description, split by role; ``triples`` is what ``/data`` serves."""

    iri: str
    about: list[ox.Triple]  # the resource's own triples and those of its hash resources
    incoming: list[ox.Triple]
    labels: list[ox.Triple]

    @property
    def triples(self) -> list[ox.Triple]:
        return list(dict.fromkeys([*self.about, *self.incoming, *self.labels]))


def _named(triples: Iterable[ox.Triple]) -> set[str]:
    names: set[str] = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                names.add(term.value)
    return names


def labels_of(engine: TrustedEngine, iris: Iterable[str]) -> list[ox.Triple]:
    """The label triples (name, prefLabel, label, title) of the given resources."""
    values = " ".join(iri_term(i) for i in sorted(set(iris)))
    if not values:
        return []
    # The properties as a FILTER, not a second VALUES: Oxigraph joins two VALUES blocks with
    # the pattern by scanning every ``?n ?lp ?l`` of the store (50 ms at 1e5 triples), but
    # looks each bound ``?n`` up in its index when only one is given (0.2 ms).
    properties = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    return engine.construct(
        f"""CONSTRUCT {{ ?n ?lp ?l }} WHERE {{
          VALUES ?n {{ {values} }}
          ?n ?lp ?l FILTER(?lp IN ({properties}) && isLiteral(?l))
        }}"""
    )


def describe(engine: TrustedEngine, iri: str, graph: str | None = None) -> Description:
    """The description of ``iri``; with ``graph``, the whole named graph is its document."""
    node = iri_term(iri)
    if graph is not None:
        about = engine.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri_term(graph)} {{ ?s ?p ?o }} }}"
        )
    else:
        # The resource's own triples, then those of its hash resources (``iri#...``) that it
        # links to, found among its own objects here rather than by a UNION with a string
        # filter in one query: Virtuoso 7.2 planned that UNION as a scan of the store when the
        # dataset came as protocol parameters (as ``serve --store`` sends it): 2 s per page at
        # 1e5 triples, the 10 s limit at 1e6, against milliseconds for these two look-ups.
        own = engine.construct(f"CONSTRUCT {{ {node} ?p ?o }} WHERE {{ {node} ?p ?o }}")
        hashed = sorted(
            {
                t.object.value
                for t in own
                if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(iri + "#")
            }
        )
        about = own
        if hashed:
            values = " ".join(iri_term(h) for h in hashed)
            about = own + engine.construct(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}"
            )
    # Links from blank nodes (a shape's sh:hasValue) mean nothing without their context; they
    # are left out here, not by ``FILTER(isIRI(?s))`` in the query: Virtuoso 7.2 took 190-280
    # ms for that filter at 1e6 triples against 2-3 ms without it (every page and /data).
    incoming = engine.construct(f"CONSTRUCT {{ ?s ?p {node} }} WHERE {{ ?s ?p {node} }}")
    about_set = set(about)
    incoming = [t for t in incoming if isinstance(t.subject, ox.NamedNode) and t not in about_set]
    names = _named([*about, *incoming])
    have = set(about) | set(incoming)
    labels = [t for t in labels_of(engine, names) if t not in have]
    return Description(iri, about, incoming, labels)


def types_of(engine: TrustedEngine, iris: Iterable[str]) -> dict[str, set[str]]:
    """The ``rdf:type`` of each given resource (for naming linked resources on pages)."""
    values = " ".join(iri_term(i) for i in sorted(set(iris)))
    if not values:
        return {}
    found: dict[str, set[str]] = {}
    for row in engine.select(
        f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s <{RDF_TYPE}> ?t FILTER(isIRI(?t)) }}"
    ):
        found.setdefault(row["s"].value, set()).add(row["t"].value)
    return found
