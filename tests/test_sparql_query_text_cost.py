"""Checking a query's text costs time linear in its length, whatever the text.

The endpoint reads every client query before it runs (query_analysis.vet): in the request
thread, holding the GIL, before any query worker or time limit applies. A check that
backtracks exponentially or rescans the text quadratically is a denial of service with one
request: 30 ``#`` after ``PREFIX`` took minutes, and four such requests kept ``/health`` from
answering for about three minutes. These tests feed the texts that did that, and generated
comment- and prefix-heavy texts, and bound the time per character.
"""

from __future__ import annotations

import contextlib
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kommunen_kg.sparql.errors import QueryRefused
from kommunen_kg.sparql.lexer import tokens
from kommunen_kg.sparql.remote.engine import declares_dataset
from kommunen_kg.sparql.shape import QueryTooComplex
from kommunen_kg.sparql.vetting import vet

from .sparql_servers import Listener

MAX_LENGTH = 20_000
# Far above what the checks take (about 2-3 us a character on this 2-core machine, busy or
# not), far below what a quadratic check takes on 20,000 characters (seconds).
MAX_SECONDS_PER_CHARACTER = 25e-6
SLACK_SECONDS = 0.02


def _issue_text(hashes: int) -> str:
    """The text of the report: a SERVICE in a comment, then PREFIX and a run of ``#``."""
    return "ASK {} # SERVICE x:\n#PREFIX " + "#" * hashes


def _plain_prefix_text(hashes: int) -> str:
    return "ASK {} # SERVICE x:\nPREFIX " + "# " * hashes


HOSTILE = {
    **{f"{n} '#' after '#PREFIX'": _issue_text(n) for n in (10, 20, 30, 40)},
    **{f"{n} '# ' after 'PREFIX'": _plain_prefix_text(n) for n in (10, 20, 30, 40)},
    "2,000 '# SERVICE a:' comments": ("ASK {}\n" + "# SERVICE a:\n" * 2000)[:MAX_LENGTH],
    # Found while fixing the above: each made a scan quadratic (1-2 s at 20,000 characters).
    "names joined by '-'": "ASK { " + "a-" * 9_990,
    'long strings that never end: \\"""': "ASK {}" + '\n\\"""x' * 3_300,
    "long strings that never end: \\'''": "ASK {}" + "\n\\'''x" * 3_300,
    'short strings that never end: \\"': "ASK {}" + '\\"' * 9_900,
    "SERVICE glued to long numbers": "ASK {} # " + ("1" * 63 + "xSERVICE ") * 270,
    "SERVICE #SERVICE # ... in a comment": "ASK {} # " + "SERVICE #" * 2_200,
    "PREFIX glued to PREFIX": "ASK {} # SERVICE a:\n" + "PREFIX" * 3_000 + "a" * 1_000,
    # The prologue is matched as one run and its tokens kept (lexer._prologue).
    "a prologue of 20,000 characters": ("PREFIX a: <x>\n" * 1_500)[: MAX_LENGTH - 6] + "ASK {}",
    "PREFIX whose IRIs never end": "PREFIX a: <x" * 1_650,
}


def _seconds(check, text: str) -> float:
    started = time.perf_counter()
    with contextlib.suppress(QueryRefused, QueryTooComplex):
        check(text)
    return time.perf_counter() - started


def _vet(text: str) -> None:
    vet(text, max_length=MAX_LENGTH)


def _bound(text: str) -> float:
    return SLACK_SECONDS + MAX_SECONDS_PER_CHARACTER * len(text)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_is_checked_in_time_linear_in_its_length(text):
    assert len(text) <= MAX_LENGTH
    assert _seconds(_vet, text) < _bound(text)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_is_read_for_a_dataset_clause_in_linear_time(text):
    """The remote engine reads every client query once more for FROM (declares_dataset)."""
    assert _seconds(declares_dataset, text) < _bound(text)


# Pieces that comments, prefixes, strings and SERVICE calls are made of.
FRAGMENTS = [
    "#",
    "# ",
    "##",
    "\n",
    "\r",
    " ",
    "PREFIX",
    "prefix",
    "SERVICE",
    "SILENT",
    "x:",
    ":",
    "a",
    "-",
    ".",
    "<",
    ">",
    "<urn:a#b>",
    "?s",
    '"',
    "'",
    '"""',
    "'''",
    "\\",
    "\\u0041",
    "1",
    "e5",
    "true",
    "{",
    "}",
    "(",
    ")",
    "ASK",
    "SELECT",
    "FROM",
    "<http://x/>",
]


# Every text starts so that the conservative SERVICE check looks for a declaration of ``x:``,
# the path where the exponential pattern was.
HEADER = ["ASK {} ", "ASK {} # SERVICE x:\n", "SELECT * { SERVICE x: {} } # "]


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # seeded: the same texts in every run
)
@given(st.sampled_from(HEADER), st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8))
def test_generated_comment_and_prefix_heavy_text_costs_bounded_time_per_character(header, pieces):
    """A pattern repeated to the length limit: a check that is more than linear in some
    pattern shows there, where the repeats multiply its cost."""
    pattern = "".join(pieces)
    text = (header + pattern * (MAX_LENGTH // len(pattern) + 1))[:MAX_LENGTH]
    assert _seconds(_vet, text) < _bound(text)
    assert _seconds(declares_dataset, text) < _bound(text)


def test_names_joined_by_hyphens_are_words_and_minus_signs():
    """What the scan sees of ``a-b`` is what it saw before it read names in one run."""
    assert [(t.kind, t.text) for t in tokens("?x a-b1-1c ex-1:y")] == [
        ("var", "?x"),
        ("word", "a"),
        ("other", "-"),
        ("word", "b1"),
        ("other", "-"),
        ("other", "1"),
        ("word", "c"),
        ("pname", "ex-1:y"),
    ]


def test_a_string_that_never_ends_runs_to_the_end_of_its_line():
    assert [(t.kind, t.text) for t in tokens('?x "abc } SERVICE\n?y')] == [
        ("var", "?x"),
        ("string", '"abc } SERVICE'),
        ("var", "?y"),
    ]


def test_a_long_string_that_never_ends_runs_to_the_end_of_the_text():
    assert [(t.kind, t.text) for t in tokens('?x """abc\n} SERVICE <a> {}')] == [
        ("var", "?x"),
        ("string", '"""abc\n} SERVICE <a> {}'),
    ]


@pytest.mark.parametrize(
    "template",
    [
        'SELECT * {{ ?s ?p "abc }} SERVICE <{url}> {{ ?s ?p ?o }} }}',
        'SELECT * {{ BIND("""abc AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} }}',
        "SELECT * {{ BIND('''abc AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} }}",
    ],
)
def test_service_after_a_string_that_never_ends_makes_no_connection(live_server, template):
    """The scan reads the rest as the string the engine would read; the engine refuses it."""
    with Listener() as listener:
        query = template.format(url=listener.url)
        response = requests.post(live_server + "sparql", data={"query": query}, timeout=10)
        listener.settle()
    assert response.status_code in (400, 403), response.text
    assert listener.connections == []


def test_hostile_texts_are_answered_quickly_while_health_answers(live_server):
    """The report's texts and the 2,000-comment query over HTTP, four at a time, while a
    load balancer keeps asking /health."""
    texts = [_issue_text(n) for n in (10, 20, 30, 40)] + [HOSTILE["2,000 '# SERVICE a:' comments"]]
    answers: list[tuple[int, float]] = []
    health: list[tuple[int, float]] = []
    done = threading.Event()

    def ask(text: str) -> None:
        started = time.perf_counter()
        response = requests.post(live_server + "sparql", data={"query": text}, timeout=30)
        answers.append((response.status_code, time.perf_counter() - started))

    def watch() -> None:
        while not done.is_set():
            started = time.perf_counter()
            response = requests.get(live_server + "health", timeout=30)
            health.append((response.status_code, time.perf_counter() - started))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(2):
            clients = [threading.Thread(target=ask, args=(text,)) for text in texts * 2]
            for client in clients:
                client.start()
            for client in clients:
                client.join(timeout=30)
    finally:
        done.set()
        watcher.join(timeout=30)
    assert len(answers) == 4 * len(texts)
    assert all(status == 200 or 400 <= status < 500 for status, _ in answers), answers
    assert max(seconds for _, seconds in answers) < 1.0, answers
    assert health and all(status == 200 for status, _ in health)
    assert max(seconds for _, seconds in health) < 1.0, health
