"""Which client queries may run in the server process (sparql/bounds.py): only those whose
cost the text and the release's figures bound, and never one that can panic, run long or
allocate without limit."""

from __future__ import annotations

import itertools
import re

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kommunen_kg.sparql.bounds import Bounds, Unbounded, bound, parse
from kommunen_kg.sparql.statistics import Statistics
from tests.hostile.clients import LARGE, RUNAWAY
from tests.hostile.test_failures import MEMORY_BOMB
from tests.support import PANICKING

BASE = "https://w3id.org/kommunen-innovativ/"
PREFIXES = f"""PREFIX ki: <{BASE}def#>
PREFIX schema: <http://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
TALK = f"<{BASE}id/talk/2020-11-11-kudequa>"
EVENT = f"<{BASE}id/event/herbst-konferenz-2020>"


@pytest.fixture(scope="module")
def stats(publication) -> Statistics:
    return Statistics.of_store(publication.store)


def bounded(query: str, stats: Statistics) -> float:
    return bound(PREFIXES + query, BASE, stats)


@pytest.mark.parametrize(
    "query",
    [
        f"SELECT ?p ?o WHERE {{ {TALK} ?p ?o }}",
        f"SELECT * {{ {TALK} ?p ?o }} LIMIT 10 OFFSET 2",
        f"DESCRIBE {TALK}",
        f"ASK {{ {TALK} a ki:Talk }}",
        f"CONSTRUCT {{ {EVENT} ?p ?o }} WHERE {{ {EVENT} ?p ?o }}",
        f"CONSTRUCT WHERE {{ {EVENT} ?p ?o }}",
        "SELECT DISTINCT ?person ?name WHERE { ?talk ki:speaker ?person . "
        "?person schema:name ?name } ORDER BY ?name",
        f"SELECT ?talk ?name WHERE {{ ?talk schema:superEvent {EVENT} ; schema:name ?name . "
        f'FILTER (lang(?name) = "de" && CONTAINS(LCASE(?name), "x")) }} ORDER BY DESC(?talk)',
        f"SELECT ?o WHERE {{ {{ {TALK} ki:speaker ?o }} UNION {{ {TALK} ki:theme ?o }} }}",
        f"SELECT ?o ?n WHERE {{ {TALK} ki:speaker ?o OPTIONAL {{ ?o schema:name ?n }} }}",
        f"SELECT ?o WHERE {{ GRAPH ?g {{ {TALK} ?p ?o }} }}",
        'SELECT ?s WHERE { ?s schema:name "KuDeQua"@de }',
        f"SELECT ?o WHERE {{ {TALK} ki:speaker ?o MINUS {{ ?o a schema:Organization }} }}",
    ],
)
def test_a_query_over_patterns_tied_by_variables_is_bounded(query: str, stats) -> None:
    assert 0 < bounded(query, stats) <= stats.total**2


@pytest.mark.parametrize(
    ("query", "why"),
    [
        (PANICKING, "VALUES"),
        (f"SELECT ?o WHERE {{ {TALK} ?p ?o }} ORDER BY ?o", "mixed kinds"),
        ("SELECT ?d WHERE { ?e schema:startDate ?d } ORDER BY ?d", "mixed kinds"),
        (RUNAWAY, "projection"),
        (MEMORY_BOMB, "cross product"),
        (LARGE, "cross product"),
        ("SELECT ?t WHERE { ?t skos:broader* ?x }", "'*'"),
        (f"SELECT ?n WHERE {{ {TALK} schema:name ?x BIND (CONCAT(?x, ?x) AS ?n) }}", "BIND"),
        (
            f'SELECT ?x WHERE {{ {TALK} schema:name ?x FILTER (REPLACE(?x, "", "aa") != "") }}',
            "REPLACE",
        ),
        (f"SELECT ?x WHERE {{ {TALK} ?p ?x FILTER EXISTS {{ ?x ?q ?y }} }}", "EXISTS"),
        (f"SELECT ?x WHERE {{ {TALK} ?p ?x FILTER (<urn:f>(?x)) }}", "extension function"),
        (f"SELECT ?x WHERE {{ {{ SELECT ?x WHERE {{ {TALK} ?p ?x }} }} }}", "SELECT"),
        (f"SELECT (COUNT(*) AS ?n) WHERE {{ {TALK} ?p ?x }}", "projection"),
        (f"SELECT ?x WHERE {{ {TALK} ?p ?x }} GROUP BY ?x", "GROUP"),
        (f"SELECT ?x WHERE {{ SERVICE <http://example.org/> {{ {TALK} ?p ?x }} }}", "SERVICE"),
        (f"SELECT ?x WHERE {{ {TALK} ?p ?x OPTIONAL {{ ?a ?b ?c }} }}", "shares no variable"),
        (f"SELECT ?x WHERE {{ {TALK} ?p ?x . ?x ?q 5 }}", "'5'"),
        (f"SELECT ?x WHERE {{ {TALK} ?p ?x }} VALUES ?x {{ 1 }}", "VALUES"),
        ("SELECT ?x WHERE { ?x ?p [ ?q ?y ] }", "'['"),
        # Two readings (lexer.py): '<' may be less-than there, so the text is not plain.
        ("SELECT ?a WHERE { ?a ?b ?c FILTER(?a<?b)#>\n) }", "reading"),
    ],
)
def test_what_the_parser_does_not_fully_read_is_not_bounded(query: str, why: str, stats) -> None:
    with pytest.raises(Unbounded, match=re.escape(why)):
        bounded(query, stats)


def test_the_query_that_makes_pyoxigraph_panic_never_runs_in_the_server(stats) -> None:
    assert not Bounds(stats, float("inf")).within(PANICKING, BASE)


def test_order_by_a_variable_of_strings_and_iris_is_allowed(stats) -> None:
    query = "SELECT ?p ?n WHERE { ?p schema:name ?n } ORDER BY ?n DESC(?p)"
    assert bounded(query, stats) >= stats.predicates["http://schema.org/name"].count


def test_the_bound_covers_the_worst_start_not_only_the_constant_one(stats) -> None:
    """Whatever order the engine joins in: starting from every name is one of them."""
    names = stats.predicates["http://schema.org/name"].count
    assert (
        bounded(f"SELECT ?n WHERE {{ {TALK} ki:speaker ?p . ?p schema:name ?n }}", stats) >= names
    )


def test_a_query_over_the_limit_is_left_to_the_query_processes(stats) -> None:
    query = PREFIXES + "SELECT ?s ?n WHERE { ?s schema:name ?n }"
    rows = bound(query, BASE, stats)
    assert Bounds(stats, rows).within(query, BASE)
    assert not Bounds(stats, rows - 1).within(query, BASE)


def test_each_union_branch_adds_to_the_bound(stats) -> None:
    one = bounded(f"SELECT ?o WHERE {{ {TALK} ki:speaker ?o }}", stats)
    two = bounded(
        f"SELECT ?o WHERE {{ {{ {TALK} ki:speaker ?o }} UNION {{ {TALK} ki:theme ?o }} }}", stats
    )
    assert two > one


def test_a_prefix_the_query_does_not_declare_is_not_read() -> None:
    with pytest.raises(Unbounded, match="prefix"):
        parse(f"SELECT ?o WHERE {{ {TALK} nope:p ?o }}", BASE)


def test_the_figures_count_every_graph_and_the_default_graph() -> None:
    store = ox.Store()
    s, p = ox.NamedNode("urn:s"), ox.NamedNode("urn:p")
    store.add(ox.Quad(s, p, ox.Literal("a")))
    store.add(ox.Quad(s, p, ox.Literal("a"), ox.NamedNode("urn:g")))
    store.add(ox.Quad(s, p, ox.NamedNode("urn:o"), ox.NamedNode("urn:g")))
    stats = Statistics.of_store(store)
    figures = stats.predicates["urn:p"]
    assert (stats.total, figures.count, figures.max_out, figures.max_in) == (3, 3, 3, 2)
    assert figures.kinds == {"iri", "http://www.w3.org/2001/XMLSchema#string"}


def test_the_figures_survive_their_file(stats) -> None:
    assert Statistics.from_json(stats.to_json()) == stats


def test_a_file_of_another_layout_is_not_read() -> None:
    assert Statistics.from_json(b'{"format": 99}') is None
    assert Statistics.from_json(b"not json") is None


def test_build_writes_the_figures_beside_the_dumps(release, stats) -> None:
    from kommunen_kg.sparql.statistics import STATISTICS_FILE

    written = Statistics.from_json((release.path / STATISTICS_FILE).read_bytes())
    assert written is not None and written.total == stats.total


def test_a_pattern_of_constants_multiplies_by_its_matches(stats) -> None:
    """A pattern that shares no variable is a cross product with the rest, however small."""
    alone = bounded(f"SELECT * WHERE {{ {TALK} ?p ?o }}", stats)
    both = bounded(f"SELECT * WHERE {{ {TALK} ?p ?o . {TALK} a ki:Talk }}", stats)
    types = stats.predicates["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"]
    assert both == alone * max(min(types.max_out, types.max_in), 1)


def test_the_bound_of_a_join_is_its_largest_connected_part(stats) -> None:
    """Joined on one variable, the result is bounded from the selective end; but a hash join
    may build the unselective pattern on its own, so that one counts too."""
    names = stats.predicates["http://schema.org/name"].count
    rows = bounded(
        "SELECT * WHERE { ?t ki:speaker ?p . ?t ki:theme ?x . ?p schema:name ?n }", stats
    )
    assert rows >= names


def test_a_long_filter_weighs_as_more_rows(stats) -> None:
    """A FILTER with a thousand values after IN is tested for every solution."""
    plain = bounded(f"SELECT ?o WHERE {{ {TALK} ?p ?o }}", stats)
    values = ", ".join(f'"{i}"' for i in range(1000))
    long = bounded(f"SELECT ?o WHERE {{ {TALK} ?p ?o FILTER (?o IN ({values})) }}", stats)
    assert long > plain * 100


def test_numbers_in_a_filter_and_the_modifiers_are_read(stats) -> None:
    query = f"SELECT ?o WHERE {{ {TALK} ?p ?o FILTER (STRLEN(?o) < 1250 * 3) }} LIMIT 10000000123"
    assert bounded(query, stats) > 0


def test_an_escaped_character_is_left_to_the_query_processes(stats) -> None:
    with pytest.raises(Unbounded, match="escaped"):
        bounded(f'SELECT ?o WHERE {{ {TALK} ?p "x\\u0022 . ?a ?b ?c . ?d ?e ?f #" }}', stats)


@pytest.fixture(scope="module")
def vocabulary(publication):
    """Predicates and terms of the release, for queries written at random."""
    store = publication.store
    rows = list(store.query("SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }"))
    predicates = sorted(row[0].value for row in rows)
    subjects = [
        row[0].value
        for row in store.query(
            "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } FILTER isIRI(?s) }"
        )
    ]
    return predicates, sorted(subjects)[:: max(1, len(subjects) // 40)]


@given(data=st.data())
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_bound_is_never_below_the_answer(publication, stats, vocabulary, data) -> None:
    """Random connected patterns over the release's predicates and subjects: whatever the
    bound says, the engine's answer has no more solutions (a necessary condition of a bound on
    every intermediate result)."""
    predicates, subjects = vocabulary
    names = ["?a", "?b", "?c", "?d"]
    term = st.one_of(st.sampled_from(names), st.sampled_from(subjects).map(lambda s: f"<{s}>"))
    verb = st.one_of(st.sampled_from(predicates).map(lambda p: f"<{p}>"), st.just("?v"))
    patterns = data.draw(st.lists(st.tuples(term, verb, term), min_size=1, max_size=4))
    query = "SELECT * WHERE { " + " . ".join(" ".join(p) for p in patterns) + " }"
    try:
        rows = bound(query, BASE, stats)
    except Unbounded:
        return
    answer = publication.store.query(query, use_default_graph_as_union=True)
    count = sum(1 for _ in itertools.islice(answer, int(rows) + 1))
    assert count <= rows, query


def _largest_part_by_sets(cards, fans, names) -> float:
    """The largest connected part as first written: every subset, connected as sets."""
    from kommunen_kg.sparql.bounds import _connected

    worst = 0.0
    for size in range(1, len(cards) + 1):
        for members in itertools.combinations(range(len(cards)), size):
            if size > 1 and not _connected([set(names[i]) for i in members]):
                continue
            product = 1.0
            for j in members:
                product *= fans[j]
            worst = max(worst, min(cards[i] * product / fans[i] for i in members))
    return worst


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**6),
            st.integers(1, 10**4),
            st.sets(st.sampled_from("abcd"), max_size=2),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_largest_part_is_that_of_every_connected_subset(patterns) -> None:
    from kommunen_kg.sparql.bounds import _largest_part

    cards = [float(c) for c, _, _ in patterns]
    fans = [float(min(f, c)) for c, f, _ in patterns]
    names = [n for _, _, n in patterns]
    assert _largest_part(cards, fans, names) == pytest.approx(
        _largest_part_by_sets(cards, fans, names), rel=1e-12
    )
