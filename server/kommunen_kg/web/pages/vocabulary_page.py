"""The vocabulary document ``/def`` as a page, in the manner of pyLODE.

pyLODE renders an OWL ontology as one HTML document: its metadata, a table of contents, and a
section per class and property with its IRI, labels, definition and place in the hierarchy.
This page does the same from the vocabulary graph of the release, with each term's section
anchored at its local name, so that the hash IRI ``{base}def#Talk``, dereferenced by a
browser, lands on the section about ``Talk``. Both languages of every label and comment are
shown; the words around them follow the reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from kommunen_kg.rdf.namespaces import (
    DCTERMS,
    OWL,
    OWL_INVERSEOF,
    RDF_TYPE,
    RDFS,
    RDFS_SUBCLASSOF,
    RDFS_SUBPROPERTYOF,
    SCHEMA,
    VANN,
)
from kommunen_kg.web.addresses import Addresses
from kommunen_kg.web.pages.resource_view import Namer, Shown
from kommunen_kg.web.terms import Terms, local_name


def compact(iri: str, prefixes: dict[str, str]) -> str:
    """``schema:Event`` for ``http://schema.org/Event``; the IRI when no prefix fits."""
    best = ""
    name = iri
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(best) and len(iri) > len(namespace):
            best, name = namespace, f"{prefix}:{iri[len(namespace) :]}"
    return name


@dataclass
class TermView:
    iri: str
    anchor: str
    compact: str
    types: list[str]
    labels: dict[str, str]
    comments: dict[str, str]
    supers: list[Shown] = field(default_factory=list)
    subs: list[Shown] = field(default_factory=list)
    domain: list[Shown] = field(default_factory=list)
    range: list[Shown] = field(default_factory=list)
    inverse: list[Shown] = field(default_factory=list)


@dataclass
class VocabularyView:
    iri: str
    namespace: str
    prefix: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    metadata: list[tuple[str, list[Shown]]]
    classes: list[TermView]
    properties: list[TermView]
    alignments: list[tuple[Shown, str, Shown]]


def build_vocabulary(
    triples: list[ox.Triple],
    document: str,
    terms: Terms,
    namer: Namer,
    addresses: Addresses,
    prefixes: dict[str, str],
    lang: str,
) -> VocabularyView:
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            by_subject.setdefault(t.subject.value, []).append(t)
    vocab = terms.vocab

    def ref(iri: str) -> Shown:
        if iri.startswith(vocab):
            return Shown(compact(iri, prefixes), "#" + local_name(iri))
        page = addresses.page_url(iri)
        if page is not None:
            shown = namer.value(ox.NamedNode(iri))
            return Shown(shown.text, shown.href, shown.lang)
        href = iri.replace("http://schema.org/", "https://schema.org/")
        return Shown(compact(iri, prefixes), href, external=True)

    def texts(subject: str, prop: str) -> dict[str, str]:
        return {
            (t.object.language or ""): t.object.value
            for t in by_subject.get(subject, [])
            if t.predicate.value == prop and isinstance(t.object, ox.Literal)
        }

    def objects(subject: str, prop: str) -> list[str]:
        return sorted(
            t.object.value
            for t in by_subject.get(subject, [])
            if t.predicate.value == prop and isinstance(t.object, ox.NamedNode)
        )

    ours = sorted(s for s in by_subject if s.startswith(vocab) and len(s) > len(vocab))
    subs_of: dict[str, list[str]] = {}
    for term in ours:
        for prop in (RDFS_SUBCLASSOF, RDFS_SUBPROPERTYOF):
            for sup in objects(term, prop):
                subs_of.setdefault(sup, []).append(term)

    classes, properties = [], []
    for term in ours:
        types = objects(term, RDF_TYPE)
        view = TermView(
            iri=term,
            anchor=local_name(term),
            compact=compact(term, prefixes),
            types=[terms.name(t, lang) for t in types],
            labels=texts(term, RDFS + "label"),
            comments=texts(term, RDFS + "comment"),
            supers=[
                ref(s) for s in objects(term, RDFS_SUBCLASSOF) + objects(term, RDFS_SUBPROPERTYOF)
            ],
            subs=[ref(s) for s in sorted(subs_of.get(term, []))],
            domain=[ref(s) for s in objects(term, SCHEMA + "domainIncludes")],
            range=[ref(s) for s in objects(term, SCHEMA + "rangeIncludes")],
            inverse=[ref(s) for s in objects(term, OWL_INVERSEOF)],
        )
        if OWL + "Class" in types or RDFS + "Class" in types:
            classes.append(view)
        else:
            properties.append(view)

    # In a fixed order: the store's order is its own (Virtuoso lists them otherwise).
    alignments = [
        (ref(t.subject.value), terms.name(t.predicate.value, lang), ref(t.object.value))
        for t in sorted(triples, key=lambda t: (t.subject.value, t.object.value))
        if t.predicate.value == OWL_INVERSEOF
        and not t.subject.value.startswith(vocab)
        and isinstance(t.object, ox.NamedNode)
    ]

    metadata: list[tuple[str, list[Shown]]] = []
    for prop in (
        OWL + "versionInfo",
        OWL + "versionIRI",
        DCTERMS + "license",
        DCTERMS + "rights",
        DCTERMS + "creator",
        DCTERMS + "publisher",
        DCTERMS + "created",
        DCTERMS + "modified",
        RDFS + "seeAlso",
    ):
        values = [t.object for t in by_subject.get(document, []) if t.predicate.value == prop]
        literals = [v for v in values if isinstance(v, ox.Literal)]
        tagged = [v for v in literals if v.language == lang]
        if tagged:
            values = tagged
        shown = [
            ref(v.value)
            if isinstance(v, ox.NamedNode) and v.value.startswith(addresses.base)
            else namer.value(v)
            for v in values
        ]
        if shown:
            metadata.append((terms.name(prop, lang), shown))
    prefix_values = texts(document, VANN + "preferredNamespacePrefix")
    return VocabularyView(
        iri=document,
        namespace=vocab,
        prefix=next(iter(prefix_values.values()), "ki"),
        titles=texts(document, DCTERMS + "title"),
        descriptions=texts(document, DCTERMS + "description"),
        metadata=metadata,
        classes=sorted(classes, key=lambda v: v.anchor.casefold()),
        properties=sorted(properties, key=lambda v: v.anchor.casefold()),
        alignments=alignments,
    )
