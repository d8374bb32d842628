"""The fast validator and the store-based build, piece by piece.

The W3C suite (tests/conformance/test_shacl_core_fast.py) and the differential tests
(test_shacl_fast_differential.py) check the validator as a whole; these tests pin down the parts
that neither reaches: the hand-over to pyshacl, SPARQL constraints that need pre-binding,
literals that the Oxigraph store would rewrite, and the store-based enrichment, statistics and
JSON-LD, each against the implementation it replaces.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from click.testing import CliRunner

from kommunen_kg.build.metadata import LINK_TARGETS, RETIRING, Statistics
from kommunen_kg.build.pipeline import KNOWLEDGE_GRAPH, load_sources, store_statistics
from kommunen_kg.cli import main
from kommunen_kg.config import load_config
from kommunen_kg.rdf.dumps import compact_jsonld, graph_lines, jsonld_from_lines, lines_text
from kommunen_kg.rdf.entailment import Entailments
from kommunen_kg.rdf.lexical_forms import XSD, LiteralCodec, is_well_formed
from kommunen_kg.rdf.namespaces import OWL, RDF_TYPE, ProjectIRIs
from kommunen_kg.rdf.sources import SourceFile, parse_sources
from kommunen_kg.shacl.run import validate_rdflib

from .support import ROOT

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
PREFIXES = """
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def graph(text: str) -> rdflib.Graph:
    previous = rdflib.NORMALIZE_LITERALS
    rdflib.NORMALIZE_LITERALS = False
    try:
        return rdflib.Graph().parse(data=PREFIXES + text, format="turtle")
    finally:
        rdflib.NORMALIZE_LITERALS = previous


def result_keys(report: rdflib.Graph) -> Counter:
    keys: Counter = Counter()
    for result in report.objects(None, SH.result):
        keys[
            tuple(
                str(report.value(result, p))
                for p in (SH.focusNode, SH.value, SH.sourceConstraintComponent)
            )
        ] += 1
    return keys


def pyshacl_keys(data: rdflib.Graph, shapes: rdflib.Graph) -> Counter:
    _conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    return result_keys(report)


DATA = graph("""
ex:alice a ex:Person ; ex:knows ex:bob ; ex:name "Alice" .
ex:bob a ex:Person ; ex:knows ex:carol .
ex:carol a ex:Person ; ex:name "Carol" ; ex:name "Caroline" .
""")


def test_a_recursive_shape_is_left_to_pyshacl_and_the_others_stay_fast():
    shapes = graph("""
    ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
        sh:property [ sh:path ex:knows ; sh:node ex:PersonShape ] ,
                    [ sh:path ex:name ; sh:minCount 1 ] .
    ex:NameShape a sh:NodeShape ; sh:targetClass ex:Person ;
        sh:property [ sh:path ex:name ; sh:maxCount 1 ] .
    """)
    conforms, report, outcome = validate_rdflib(DATA, shapes)
    assert set(outcome.fallback) == {"<http://example.org/PersonShape>"}
    assert "recursive" in outcome.fallback["<http://example.org/PersonShape>"]
    assert not conforms
    assert result_keys(report) == pyshacl_keys(DATA, shapes)
    components = {k[2].rsplit("#", 1)[1] for k in result_keys(report)}
    assert components == {
        "MinCountConstraintComponent",
        "MaxCountConstraintComponent",
        "NodeConstraintComponent",
    }


def test_a_sparql_constraint_that_needs_pre_binding_runs_per_focus_node():
    """With $this inside OPTIONAL, joining the focus nodes in first could change the answer;
    the constraint then runs once per focus node, with $this pre-bound."""
    shapes = graph("""
    ex:S a sh:NodeShape ; sh:targetClass ex:Person ;
        sh:sparql [
            sh:message "{$this} has no name, only {?other}"@en ;
            sh:select \"\"\"SELECT $this ?other WHERE {
                OPTIONAL { $this <http://example.org/name> ?n }
                FILTER (!BOUND(?n))
                $this <http://example.org/knows> ?other
            }\"\"\" ] .
    """)
    _conforms, report, outcome = validate_rdflib(DATA, shapes)
    assert outcome.fallback == {}
    assert result_keys(report) == pyshacl_keys(DATA, shapes)
    messages = [str(m) for m in report.objects(None, SH.resultMessage)]
    assert messages == ["http://example.org/bob has no name, only http://example.org/carol"]


def test_a_sparql_constraint_runs_over_all_focus_nodes_at_once_when_it_can():
    from kommunen_kg.shacl.compile import _inject_focus

    query = "SELECT $this ?v WHERE { $this <http://example.org/p> ?v FILTER(?v > 1) }"
    assert _inject_focus(query, "{ FOCUS }") is not None
    for blocking in (
        "SELECT $this WHERE { { $this <http://example.org/p> ?v } }",
        "SELECT $this WHERE { $this <http://example.org/p> ?v } LIMIT 1",
        "SELECT ?v WHERE { $this <http://example.org/p> ?v }",
        "SELECT $this (COUNT(?v) AS ?n) WHERE { $this <http://example.org/p> ?v } GROUP BY $this",
    ):
        assert _inject_focus(blocking, "{ FOCUS }") is None, blocking


@pytest.mark.parametrize(
    ("lexical", "datatype", "well_formed"),
    [
        ("2020-02-29", "date", True),
        ("2019-02-29", "date", False),
        ("2020-11-11T10:00:00+01:00", "dateTime", True),
        ("2019-04", "gYearMonth", True),
        ("2019-04", "gYear", False),
        ("300", "byte", False),
        ("-1", "nonNegativeInteger", False),
        (" 5", "integer", False),
        ("1.5e3", "double", True),
        ("yes", "boolean", False),
        ("P1Y2MT3H", "duration", True),
        ("P", "duration", False),
    ],
)
def test_lexical_forms_are_checked_as_xml_schema_defines_them(lexical, datatype, well_formed):
    assert is_well_formed(lexical, XSD + datatype) is well_formed


def test_literals_the_store_would_rewrite_keep_their_lexical_form(tmp_path):
    source = tmp_path / "data.ttl"
    source.write_text(
        PREFIXES
        + """
        ex:a ex:p "01"^^xsd:integer , "5"^^xsd:byte , "1"^^xsd:boolean , "true"^^xsd:boolean ,
            "2020-11-11T10:00:00+00:00"^^xsd:dateTime , "300"^^xsd:byte , "x"@de .
        """,
        encoding="utf-8",
    )
    sources = parse_sources([SourceFile(source, "data")], "http://example.org/")
    objects = sorted(str(t.object) for t in sources.triples("data"))
    assert objects == sorted(
        [
            f'"01"^^<{XSD}integer>',
            f'"5"^^<{XSD}byte>',
            f'"1"^^<{XSD}boolean>',
            f'"true"^^<{XSD}boolean>',
            f'"2020-11-11T10:00:00+00:00"^^<{XSD}dateTime>',
            f'"300"^^<{XSD}byte>',
            '"x"@de',
        ]
    )
    lines = graph_lines(sources.store, [sources.graph("data")])[sources.graph("data")]
    assert [line.decode() for line in lines] == sorted(
        f"<http://example.org/a> <http://example.org/p> {o} ." for o in objects
    )


def test_sh_datatype_sees_the_real_datatype_and_ill_formed_literals():
    data = graph("""
    ex:a ex:p "5"^^xsd:byte , "300"^^xsd:byte , "07"^^xsd:byte .
    ex:b ex:q "1"^^xsd:boolean , "maybe"^^xsd:boolean .
    """)
    shapes = graph("""
    ex:S a sh:NodeShape ; sh:targetNode ex:a ;
        sh:property [ sh:path ex:p ; sh:datatype xsd:byte ; sh:maxInclusive 6 ] .
    ex:T a sh:NodeShape ; sh:targetNode ex:b ;
        sh:property [ sh:path ex:q ; sh:datatype xsd:boolean ; sh:in ( "1"^^xsd:boolean ) ] .
    """)
    _conforms, report, outcome = validate_rdflib(data, shapes)
    assert outcome.fallback == {}
    assert sorted((k[1], k[2].rsplit("#", 1)[1]) for k in result_keys(report).elements()) == [
        ("07", "MaxInclusiveConstraintComponent"),
        ("300", "DatatypeConstraintComponent"),
        ("300", "MaxInclusiveConstraintComponent"),
        ("maybe", "DatatypeConstraintComponent"),
        ("maybe", "InConstraintComponent"),
    ]


@pytest.fixture(scope="module")
def real_sources():
    return load_sources(load_config(ROOT / "kommunen-kg.toml"))


def test_enrichment_in_the_store_adds_what_the_python_rules_add(real_sources):
    entailments = Entailments(real_sources.triples("vocabulary"))
    for name in ("themes", "data"):
        expected = entailments.apply(real_sources.triples(name))
        entailments.apply_in_store(real_sources.store, real_sources.graph(name))
        assert set(real_sources.triples(name)) == expected


def statistics(triples: list[ox.Triple], base_iri: str) -> Statistics:
    """The oracle: VoID statistics counted triple by triple, as the build once did.

    ``entities`` are the resources under ``{base}id/``: an IRI that data/redirects.ttl lists
    as moved or removed (it carries no ``rdf:type``) is a subject of the graph but names no
    resource any more, so it is not counted.
    """
    classes: Counter = Counter()
    properties: Counter = Counter()
    links: Counter = Counter()
    subjects: set = set()
    objects: set = set()
    entities: set = set()
    typed: set = set()
    retired: set = set()
    for t in triples:
        subjects.add(t.subject)
        objects.add(t.object)
        properties[t.predicate.value] += 1
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(base_iri + "id/"):
            entities.add(t.subject.value)
            if t.predicate.value == RDF_TYPE:
                typed.add(t.subject.value)
            elif t.predicate.value in RETIRING:
                retired.add(t.subject.value)
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            classes[t.object.value] += 1
        if t.predicate.value == OWL + "sameAs" and isinstance(t.object, ox.NamedNode):
            for slug, namespace, _title, _home in LINK_TARGETS:
                if t.object.value.startswith(namespace):
                    links[slug] += 1
    return Statistics(
        triples=len(triples),
        entities=len(entities - (retired - typed)),
        distinct_subjects=len(subjects),
        distinct_objects=len(objects),
        classes=classes,
        properties=properties,
        links=links,
    )


def test_statistics_counted_by_the_store_equal_those_counted_in_python(real_sources):
    graphs = [real_sources.graph(name) for name in KNOWLEDGE_GRAPH]
    triples = {t for name in KNOWLEDGE_GRAPH for t in real_sources.triples(name)}
    expected = statistics(sorted(triples, key=str), real_sources.base_iri)
    assert store_statistics(real_sources.store, graphs, real_sources.base_iri) == expected


def test_json_ld_written_node_by_node_equals_rdflib_compaction(real_sources):
    prefixes = ProjectIRIs(real_sources.base_iri).prefixes()
    graphs = [real_sources.graph(name) for name in KNOWLEDGE_GRAPH]
    lines = graph_lines(real_sources.store, graphs)
    text = lines_text(sorted({line for g in graphs for line in lines[g]}))
    triples = [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]
    assert jsonld_from_lines([text], prefixes) == compact_jsonld(triples, prefixes)


def test_json_ld_of_a_graph_with_blank_nodes_still_equals_rdflib_compaction():
    """The node-by-node writer leaves blank nodes to rdflib, which labels them afresh each time
    (as the build always did); apart from the labels the documents are the same."""
    text = (
        b"<http://example.org/a> <http://example.org/p> _:b1 .\n"
        b'<http://example.org/a> <http://example.org/q> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
        b'_:b1 <http://example.org/r> "x"@de .\n'
    )
    triples = [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]
    prefixes = {"ex": "http://example.org/"}

    def unlabelled(data: bytes) -> str:
        return re.sub(r"_:N[0-9a-f]+", "_:b", data.decode())

    assert unlabelled(jsonld_from_lines([text], prefixes)) == unlabelled(
        compact_jsonld(triples, prefixes)
    )


def test_the_validate_command_gives_the_same_counts_with_either_validator(monkeypatch):
    monkeypatch.chdir(ROOT)
    counts = []
    for validator in ("fast", "pyshacl"):
        result = CliRunner().invoke(
            main, ["validate", "--format", "json", "--validator", validator]
        )
        assert result.exit_code == 0, result.output
        counts.append(json.loads(result.output)["counts"])
    assert counts[0] == counts[1]
    assert "--validator [fast|pyshacl]" in CliRunner().invoke(main, ["build", "--help"]).output


def test_the_codec_decodes_what_it_encodes():
    codec = LiteralCodec()
    literals = [
        ox.Literal("01", datatype=ox.NamedNode(XSD + "integer")),
        ox.Literal("abc", datatype=ox.NamedNode(XSD + "integer")),
        ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")),
    ]
    codec.prepare((lit.value, lit.datatype.value) for lit in literals)
    stored = [codec.encode(lit) for lit in literals]
    assert stored[2] is literals[2]  # canonical: stored as it is
    assert stored[0].datatype.value.startswith("urn:kommunen-kg:lexical:")
    assert stored[1].datatype.value.startswith("urn:kommunen-kg:ill-formed:")
    assert [LiteralCodec.decode(s) for s in stored] == literals
