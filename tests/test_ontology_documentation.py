"""The ontology documents itself in both languages and says what each of its terms refines.

Every term of our vocabulary has an ``rdfs:label`` and an ``rdfs:comment`` in German and in
English (the /def page and the resource pages show them), and refines a well-known term, so that
a client that knows only schema.org, SKOS, DCTERMS or FOAF still understands our facts. Every
shape, also one nested in ``sh:or`` or used as ``sh:qualifiedValueShape``, has its message in
both languages, so that a report can always be given in the editor's language.
"""

from __future__ import annotations

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, URIRef
from rdflib.collection import Collection
from rdflib.namespace import SH

from .support import ROOT

BASE = "https://w3id.org/kommunen-innovativ/"
OURS = BASE + "def#"
REFINES = (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty)

# Terms that refine no well-known term, each with the reason why none fits. Empty: every term
# of the vocabulary is aligned.
NOT_ALIGNED: dict[str, str] = {}


def parse(name: str) -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology" / name, format="turtle", publicID=BASE)


@pytest.fixture(scope="module")
def vocabulary() -> rdflib.Graph:
    return parse("vocabulary.ttl")


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return parse("shapes.ttl")


def terms(vocabulary: rdflib.Graph) -> set[URIRef]:
    return {s for s in vocabulary.subjects() if isinstance(s, URIRef) and s.startswith(OURS)}


def languages(graph: rdflib.Graph, subject, predicate) -> set[str | None]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, rdflib.Literal)}


def well_known_terms_refined(vocabulary: rdflib.Graph, term: URIRef) -> set[URIRef]:
    """The terms outside our namespace that ``term`` refines, directly or through our own."""
    found, seen, todo = set(), set(), [term]
    while todo:
        current = todo.pop()
        seen.add(current)
        for predicate in REFINES:
            for broader in vocabulary.objects(current, predicate):
                if not isinstance(broader, URIRef):
                    continue
                if not broader.startswith(OURS):
                    found.add(broader)
                elif broader not in seen:
                    todo.append(broader)
    return found


def test_the_vocabulary_has_terms(vocabulary):
    assert len(terms(vocabulary)) >= 30


def test_the_sources_use_no_term_of_our_namespace_that_the_vocabulary_does_not_define(
    vocabulary,
):
    defined = terms(vocabulary)
    used = set()
    for graph in (
        parse("themes.ttl"),
        *(
            rdflib.Graph().parse(p, format="turtle", publicID=BASE)
            for p in sorted((ROOT / "data").glob("*.ttl"))
        ),
    ):
        used |= {t for triple in graph for t in triple if isinstance(t, URIRef)}
    assert {t for t in used if t.startswith(OURS)} - defined == set()


def test_every_vocabulary_term_has_a_german_and_an_english_label(vocabulary):
    missing = {
        str(t)
        for t in terms(vocabulary)
        if not {"de", "en"} <= languages(vocabulary, t, RDFS.label)
    }
    assert missing == set()


def test_every_vocabulary_term_has_a_german_and_an_english_comment(vocabulary):
    missing = {
        str(t)
        for t in terms(vocabulary)
        if not {"de", "en"} <= languages(vocabulary, t, RDFS.comment)
    }
    assert missing == set()


def test_every_vocabulary_term_refines_a_well_known_term_or_says_why_not(vocabulary):
    unaligned = {
        str(t)
        for t in terms(vocabulary)
        if not well_known_terms_refined(vocabulary, t) and str(t) not in NOT_ALIGNED
    }
    assert unaligned == set()


def test_every_vocabulary_term_is_a_declared_class_or_property(vocabulary):
    kinds = {OWL.Class, RDFS.Class, OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property}
    undeclared = {
        str(t) for t in terms(vocabulary) if not set(vocabulary.objects(t, RDF.type)) & kinds
    }
    assert undeclared == set()


def every_shape(shapes: rdflib.Graph) -> set:
    """Named shapes and the shapes written inside others: property shapes, the members of
    sh:or / sh:and / sh:xone, sh:not, sh:node, sh:qualifiedValueShape, SPARQL constraints."""
    found = {
        s
        for kind in (SH.NodeShape, SH.PropertyShape, SH.SPARQLConstraint)
        for s in shapes.subjects(RDF.type, kind)
    }
    for predicate in (SH.property, SH.node, SH.qualifiedValueShape, SH["not"], SH.sparql):
        found |= set(shapes.objects(None, predicate))
    for predicate in (SH["or"], SH["and"], SH.xone):
        for members in shapes.objects(None, predicate):
            found |= set(Collection(shapes, members))
    return found


def test_shapes_nest_shapes_in_sh_or_and_qualified_value_shapes(shapes):
    nested = {
        s
        for predicate in (SH["or"], SH.qualifiedValueShape)
        for s in shapes.objects(None, predicate)
    }
    assert nested, "the message test below would not see a nested shape"


def messages_reported(shapes: rdflib.Graph, shape) -> set[str | None]:
    """The languages of the messages a shape's results carry: its own, or for a SPARQL
    constraint without any, those of the shapes it belongs to (SHACL reports a shape's
    messages for all its results; Jena 4.5 reads at most one sh:message on a constraint)."""
    own = languages(shapes, shape, SH.message)
    if own or (None, SH.sparql, shape) not in shapes:
        return own
    owners = [languages(shapes, s, SH.message) for s in shapes.subjects(SH.sparql, shape)]
    return set.intersection(*owners)


def test_every_shape_has_a_german_and_an_english_message_also_when_nested(shapes):
    missing = []
    for shape in every_shape(shapes):
        if not {"de", "en"} <= messages_reported(shapes, shape):
            described = (
                shape if isinstance(shape, URIRef) else list(shapes.predicate_objects(shape))
            )
            missing.append(str(described))
    assert missing == []
