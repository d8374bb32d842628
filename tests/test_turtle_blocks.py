"""Rewriting single blocks of the hand-written Turtle files (kommunen_kg.rdf.turtle_blocks).

An import rewrites only the descriptions of changed resources and must leave every other byte
of a source file alone; these tests hold the module to that on the real sources in data/ and
ontology/themes.ttl, and compare graphs with pyoxigraph, literal for literal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from kommunen_kg.rdf.turtle_blocks import (
    describe,
    file_prefixes,
    find_blocks,
    replace_blocks,
    term_text,
)

from .support import ROOT

BASE = "https://w3id.org/kommunen-innovativ/"
SOURCES = [*sorted((ROOT / "data").glob("*.ttl")), ROOT / "ontology" / "themes.ttl"]
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
SCHEMA_NAME = ox.NamedNode("http://schema.org/name")
EX = {"ex": "http://example.org/", "xsd": XSD}


def triples(text: str) -> list[ox.Triple]:
    """The triples of a Turtle text in the order it writes them."""
    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=BASE)
    ]


def header(text: str) -> str:
    """The file's prefix lines, which a block needs to be parsed on its own."""
    directives = re.compile(r"(@prefix|@base|prefix\s|base\s)", re.IGNORECASE)
    return "".join(line + "\n" for line in text.split("\n") if directives.match(line))


def statements(block: list[ox.Triple]) -> list[tuple[ox.NamedNode, list]]:
    """A block's triples grouped by predicate in file order, rdf:type first."""
    grouped: dict[ox.NamedNode, list] = {}
    for triple in block:
        grouped.setdefault(triple.predicate, []).append(triple.object)
    order = sorted(grouped, key=lambda predicate: predicate != RDF_TYPE)
    return [(predicate, grouped[predicate]) for predicate in order]


def source_blocks(path: Path) -> tuple[str, dict[str, str], dict[str, list[ox.Triple]]]:
    """A source's text, its prefixes, and each block's triples (the block parsed on its own)."""
    text = path.read_text(encoding="utf-8")
    prefixes = file_prefixes(text, BASE)
    lines = text.split("\n")
    blocks = {
        subject: triples(header(text) + "\n".join(lines[start:end]) + "\n")
        for subject, (start, end) in find_blocks(text, prefixes, BASE).items()
    }
    return text, prefixes, blocks


def round_trip(term: ox.NamedNode | ox.Literal, prefixes: dict[str, str] = EX) -> str:
    """The term's text, after checking that a block with it parses back to the same term."""
    subject = ox.NamedNode("http://example.org/s")
    block = describe(subject, [(SCHEMA_NAME, [term])], prefixes, BASE)
    head = "".join(f"@prefix {name}: <{namespace}> .\n" for name, namespace in prefixes.items())
    assert triples(head + block) == [ox.Triple(subject, SCHEMA_NAME, term)], block
    return term_text(term, prefixes, BASE)


def named(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", SOURCES, ids=named)
def test_the_blocks_of_a_source_hold_all_its_triples_each_about_its_subject(path: Path):
    text, _, blocks = source_blocks(path)
    assert blocks
    for subject, block in blocks.items():
        assert {t.subject.value for t in block} == {subject}
    assert sorted(map(str, triples(text))) == sorted(str(t) for b in blocks.values() for t in b)


@pytest.mark.parametrize("path", SOURCES, ids=named)
def test_describe_writes_every_block_of_a_source_with_the_same_triples(path: Path):
    text, prefixes, blocks = source_blocks(path)
    for subject, block in blocks.items():
        written = describe(ox.NamedNode(subject), statements(block), prefixes, BASE)
        assert set(triples(header(text) + written)) == set(block), written


@pytest.mark.parametrize("path", SOURCES, ids=named)
def test_replacing_every_block_with_its_description_keeps_the_graph(path: Path):
    text, prefixes, blocks = source_blocks(path)
    replacements = {
        subject: describe(ox.NamedNode(subject), statements(block), prefixes, BASE)
        for subject, block in blocks.items()
    }
    assert set(triples(replace_blocks(text, replacements, [], BASE))) == set(triples(text))


def test_replacing_one_block_changes_only_its_lines():
    path = ROOT / "data" / "events.ttl"
    text, prefixes, blocks = source_blocks(path)
    subject = BASE + "id/event/herbst-konferenz-2020"
    statements_now = statements(blocks[subject])
    renamed = [
        (p, [ox.Literal("Neuer Name", language="de")] if p == SCHEMA_NAME else objects)
        for p, objects in statements_now
    ]
    new_block = describe(ox.NamedNode(subject), renamed, prefixes, BASE)
    result = replace_blocks(text, {subject: new_block}, [], BASE)
    start, end = find_blocks(text, prefixes, BASE)[subject]
    before, after = text.split("\n"), result.split("\n")
    new_lines = new_block.rstrip("\n").split("\n")
    assert after[:start] == before[:start]
    assert after[start : start + len(new_lines)] == new_lines
    assert after[start + len(new_lines) :] == before[end:]
    assert [line for line in after if line.startswith("#")] == [
        line for line in before if line.startswith("#")
    ]
    changed = set(triples(result)) ^ set(triples(text))
    assert {t.subject.value for t in changed} == {subject}
    assert {t.predicate for t in changed} == {SCHEMA_NAME}


def test_deleting_a_block_removes_it_and_the_blank_line_after_it():
    path = ROOT / "data" / "events.ttl"
    text, prefixes, blocks = source_blocks(path)
    subject = BASE + "id/publication/memorandum-kommunen-innovativ-erhalten"
    start, end = find_blocks(text, prefixes, BASE)[subject]
    before = text.split("\n")
    assert before[end] == ""
    result = replace_blocks(text, {subject: None}, [], BASE)
    assert result.split("\n") == before[:start] + before[end + 1 :]
    assert "\n\n\n" not in result
    assert set(triples(result)) == set(triples(text)) - set(blocks[subject])


def test_deleting_the_last_block_leaves_no_blank_line_at_the_end():
    text = "@prefix ex: <http://example.org/> .\n\nex:a ex:p 1 .\n\nex:b ex:p 2 ;\n    ex:q 3 .\n"
    result = replace_blocks(text, {"http://example.org/b": None}, [], BASE)
    assert result == "@prefix ex: <http://example.org/> .\n\nex:a ex:p 1 .\n"


def test_appending_two_blocks_puts_each_after_one_blank_line():
    path = ROOT / "data" / "people.ttl"
    text, prefixes, _ = source_blocks(path)
    person = ox.NamedNode(BASE + "id/person/erika-beispiel")
    other = ox.NamedNode(BASE + "id/person/max-beispiel")
    person_class = ox.NamedNode("http://schema.org/Person")
    first = describe(
        person, [(RDF_TYPE, [person_class]), (SCHEMA_NAME, [ox.Literal("Erika")])], prefixes, BASE
    )
    second = describe(
        other, [(RDF_TYPE, [person_class]), (SCHEMA_NAME, [ox.Literal("Max")])], prefixes, BASE
    )
    result = replace_blocks(text, {}, [first, second], BASE)
    assert result == text + "\n" + first + "\n" + second
    added = set(triples(result)) - set(triples(text))
    assert {t.subject for t in added} == {person, other}
    assert set(triples(text)) <= set(triples(result))


def test_replacing_a_subject_without_a_block_is_a_key_error_naming_it():
    text = (ROOT / "data" / "events.ttl").read_text(encoding="utf-8")
    unknown = BASE + "id/event/gibt-es-nicht"
    with pytest.raises(KeyError, match=re.escape(unknown)):
        replace_blocks(text, {unknown: "ex:x ex:p 1 .\n"}, [], BASE)


def test_describe_without_statements_is_a_value_error():
    with pytest.raises(ValueError, match="needs a statement"):
        describe(ox.NamedNode("http://example.org/s"), [], EX, BASE)


def test_a_subject_starting_two_blocks_is_a_value_error():
    text = (
        "@prefix ex: <http://example.org/> .\n\nex:a ex:p 1 .\n\n<http://example.org/a> ex:p 2 .\n"
    )
    with pytest.raises(ValueError, match="two blocks, on lines 3 and 5"):
        find_blocks(text, file_prefixes(text, BASE), BASE)


def test_describe_lays_a_block_out_in_the_files_style():
    subject = ox.NamedNode(BASE + "id/event/x")
    block = describe(
        subject,
        [
            (RDF_TYPE, [ox.NamedNode(BASE + "def#Conference")]),
            (SCHEMA_NAME, [ox.Literal("X", language="de"), ox.Literal("Y", language="en")]),
            (ox.NamedNode("http://schema.org/isAccessibleForFree"), [ox.Literal(True)]),
        ],
        {"ki": BASE + "def#", "event": BASE + "id/event/", "schema": "http://schema.org/"},
        BASE,
    )
    assert block == (
        "event:x a ki:Conference ;\n"
        '    schema:name "X"@de ,\n'
        '        "Y"@en ;\n'
        "    schema:isAccessibleForFree true .\n"
    )


def test_file_prefixes_are_absolute_iris():
    text = (ROOT / "data" / "events.ttl").read_text(encoding="utf-8")
    prefixes = file_prefixes(text, BASE)
    assert prefixes["ki"] == BASE + "def#"
    assert prefixes["schema"] == "http://schema.org/"


def test_a_literal_with_quotes_backslash_and_line_breaks_round_trips():
    tricky = 'Er sagte "ja"\\nein\nzweite Zeile\r\tEnde\u2028'
    assert round_trip(ox.Literal(tricky)) == r'"Er sagte \"ja\"\\nein\nzweite Zeile\r\tEnde\u2028"'
    assert round_trip(ox.Literal(tricky, language="de")).endswith('"@de')


def test_a_non_canonical_integer_is_written_as_a_typed_string():
    integer = ox.NamedNode(XSD + "integer")
    assert round_trip(ox.Literal("007", datatype=integer)) == '"007"^^xsd:integer'
    assert round_trip(ox.Literal("+5", datatype=integer)) == '"+5"^^xsd:integer'
    assert round_trip(ox.Literal("-42", datatype=integer)) == "-42"
    assert round_trip(ox.Literal("1", datatype=ox.NamedNode(XSD + "boolean"))) == (
        '"1"^^xsd:boolean'
    )


def test_a_typed_literal_keeps_its_lexical_form_and_datatype():
    date_time = ox.Literal("2020-10-28T09:30:00+01:00", datatype=ox.NamedNode(XSD + "dateTime"))
    assert round_trip(date_time) == '"2020-10-28T09:30:00+01:00"^^xsd:dateTime'
    odd = ox.Literal("1.50", datatype=ox.NamedNode("http://example.org/dt#x"))
    assert round_trip(odd) == '"1.50"^^<http://example.org/dt#x>'


def test_an_iri_with_an_unsafe_local_part_is_not_a_prefixed_name():
    prefixes = {"ex": "http://example.org/", "exa": "http://example.org/a/"}
    assert round_trip(ox.NamedNode("http://example.org/a/b"), prefixes) == "exa:b"
    assert round_trip(ox.NamedNode("http://example.org/a.b"), prefixes) == "ex:a.b"
    for unsafe in ("a.", "a/b/c", "x#y", "a/b.", "-x", "a%20b"):
        iri = "http://example.org/" + unsafe
        assert round_trip(ox.NamedNode(iri), prefixes) == f"<{iri}>"


def test_an_iri_falls_back_to_a_shorter_prefix_when_the_longest_gives_no_safe_name():
    prefixes = {"ex": "http://example.org/", "exh": "http://example.org/h"}
    assert round_trip(ox.NamedNode("http://example.org/h-1"), prefixes) == "ex:h-1"
    assert round_trip(ox.NamedNode("http://example.org/h1"), prefixes) == "exh:1"


def test_an_iri_under_the_base_without_a_prefix_is_written_relative():
    assert round_trip(ox.NamedNode(BASE + "id/scheme/themes")) == "<id/scheme/themes>"


def test_an_iri_under_the_base_that_would_read_back_otherwise_is_written_absolute():
    for tail in ("a:b", "../x", "./x"):
        iri = BASE + tail
        assert round_trip(ox.NamedNode(iri)) == f"<{iri}>"
