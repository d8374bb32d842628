"""The declarations of a kept prologue are read once, and the checks find what they found when
they read every text from its start."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kommunen_kg.sparql import analysis, bounds, lexer, shape

DECLARATIONS = [
    "PREFIX a: <http://x/a#>",
    "PREFIX : <>",
    "prefix ü-b: <urn:é>",
    "BASE <http://x/>",
    "base<y/>",
    "PREFIX a: <rel>",
    "PREFIX\ta:\t<a#b>",
    "# a comment\n",
    "\n",
    " ",
]
BODIES = [
    "SELECT ?s WHERE { ?s a:p ?o }",
    "ASK { <s> :p b:q }",
    "DESCRIBE <rel>",
    "SELECT ?o WHERE { <rel> a:p ?o }",
    "SELECT * { ?s ?p ?o FILTER(a:f(?o)) } LIMIT 10",
    "CONSTRUCT { ?s a:p ?o } WHERE { ?s a:p ?o }",
    "SELECT ?s { SERVICE a:x { ?s ?p ?o } }",
    "PREFIX c: <late> SELECT * { ?s c:p ?o }",
    "<urn:x> (",
    "INSERT DATA { <a> <b> <c> }",
    "DESCRIBE a:x <y> ?z WHERE { ?z a:p (1 2 [ a:q 3 ]) }",
    "SELECT * { { ?s a:p ?o } UNION { ?s a:q ?o . ?o a:r ?x ; a:s 1, 2 } }",
]
BASES = st.sampled_from([None, "https://w3id.org/kommunen-innovativ/"])


def _read_from_the_start(check, text: str, base: str | None):
    """``check(text, base)`` with no prologue kept (every text read from its start)."""
    kept = lexer.PROLOGUE_KEPT
    lexer.PROLOGUE_KEPT = -1
    lexer._readings.cache_clear()
    try:
        return check(text, base)
    finally:
        lexer.PROLOGUE_KEPT = kept
        lexer._readings.cache_clear()


def _outcome(check, text: str, base: str | None):
    try:
        return check(text, base)
    except bounds.Unbounded as exc:
        return f"unbounded: {exc}"


TEXTS = st.tuples(
    st.lists(st.sampled_from(DECLARATIONS), max_size=5),
    st.lists(st.sampled_from(BODIES), min_size=1, max_size=2),
).map(lambda parts: "\n".join(parts[0]) + "\n" + " ".join(parts[1]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, BASES)
def test_the_analysis_with_a_kept_prologue_is_that_of_the_whole_text(text, base):
    analysis.analyse(text, base)  # the prologue's declarations are now kept
    assert analysis.analyse(text, base) == _read_from_the_start(analysis.analyse, text, base)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, BASES)
def test_the_bound_parse_with_a_kept_prologue_is_that_of_the_whole_text(text, base):
    _outcome(bounds.parse, text, base)
    expected = _read_from_the_start(lambda t, b: _outcome(bounds.parse, t, b), text, base)
    assert _outcome(bounds.parse, text, base) == expected


def test_the_declarations_of_a_prologue_are_read_once_for_queries_that_share_it(monkeypatch):
    read = []
    original = analysis._prologue_only
    monkeypatch.setattr(analysis, "_prologue_only", lambda *args: read.append(1) or original(*args))
    prologue = "PREFIX ki: <https://w3id.org/kommunen-innovativ/def#>\nPREFIX rdfs: <urn:r#>\n"
    first = analysis.analyse(prologue + "# query 1\nSELECT * { ?s ki:theme ?o }")
    second = analysis.analyse(prologue + "# query 2\nASK { ?s rdfs:label ?o }")
    assert len(read) == 1
    assert (
        first.prefixes
        == second.prefixes
        == {
            "ki": "https://w3id.org/kommunen-innovativ/def#",
            "rdfs": "urn:r#",
        }
    )


def test_a_query_that_changes_its_prefixes_does_not_change_the_kept_ones():
    prologue = "PREFIX a: <urn:a#>\n"
    analysis.analyse(prologue + "ASK {}").prefixes["a"] = "urn:changed#"
    assert analysis.analyse(prologue + "# again\nASK {}").prefixes == {"a": "urn:a#"}


@pytest.mark.parametrize("size", [1, 3])
def test_the_memo_keeps_at_most_its_size(size):
    memo: lexer.PrologueMemo[int] = lexer.PrologueMemo(size)
    prologues = [tuple(lexer._scan(f"PREFIX p{n}: <urn:{n}>")) for n in range(10)]
    for n, prologue in enumerate(prologues):
        assert memo.get(prologue, None, lambda n=n: n) == n
    assert len(memo._kept) <= size


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_the_declarations_of_a_prologue_change_no_count_of_the_shape(text):
    found = lexer.readings(text)
    for reading in found:
        assert shape.shape(reading) == shape.shape(reading[len(found.prologue) :])
