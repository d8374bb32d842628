"""Answers of the endpoint are kept per release and validated by ETag without re-running."""

from __future__ import annotations

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from kommunen_kg.sparql.answer_cache import _VOLATILE, cacheable

QUERY = (
    "SELECT ?n WHERE { ?p a <http://schema.org/Person> ; <http://schema.org/name> ?n } ORDER BY ?n"
)
JSON = "application/sparql-results+json"


def get(server: str, query: str = QUERY, **headers: str) -> requests.Response:
    return requests.get(
        server + "sparql", params={"query": query}, headers={"Accept": JSON, **headers}, timeout=10
    )


def test_an_answer_carries_a_weak_etag_and_may_be_cached(live_server, release):
    response = get(live_server, **{"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["ETag"].startswith(f'W/"{release.version}-')
    assert "max-age=" in response.headers["Cache-Control"]
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_a_held_answer_gets_304_without_the_query_running_again(live_server, publication):
    etag = get(live_server).headers["ETag"]
    cache = publication.client
    before = (cache.hits, cache.misses)
    response = get(live_server, **{"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert (cache.hits, cache.misses) == before


def test_a_repeated_request_is_replayed_without_asking_the_engine(live_server, publication):
    query = QUERY + " LIMIT 3"
    first = get(live_server, query).content
    get(live_server, query)  # kept the second time it is asked for
    before = (publication.client.hits, publication.client.misses)
    assert get(live_server, query).content == first
    assert (publication.client.hits, publication.client.misses) == before


def test_a_repeated_query_sent_by_post_is_answered_from_the_answer_cache(live_server, publication):
    def post() -> requests.Response:
        return requests.post(
            live_server + "sparql", data={"query": QUERY + " LIMIT 4"}, headers={"Accept": JSON}
        )

    first = post().content
    post()  # kept the second time it is asked for
    hits = publication.client.hits
    assert post().content == first
    assert publication.client.hits == hits + 1


def test_each_format_has_its_own_etag(live_server):
    json_tag = get(live_server).headers["ETag"]
    xml_tag = get(live_server, Accept="application/sparql-results+xml").headers["ETag"]
    assert json_tag != xml_tag


def test_a_query_that_calls_now_is_never_cached(live_server):
    response = get(live_server, "SELECT (NOW() AS ?t) WHERE {}")
    assert response.status_code == 200
    assert "ETag" not in response.headers or not response.headers["ETag"].startswith("W/")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_compressed_answer_validates_with_its_own_tag(live_server):
    response = get(live_server, **{"Accept-Encoding": "gzip"})
    etag = response.headers["ETag"]
    assert etag.endswith('-gzip"')
    again = get(live_server, **{"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert again.status_code == 304


# Texts made of pieces of the volatile words, in both cases and with the letters Unicode folds
# onto theirs (U+0130 İ and U+0131 ı for I, U+017F ſ for S, U+212A K for K).
_VOLATILE_TEXTS = st.lists(
    st.sampled_from(
        [
            "now",
            "NOW",
            "no",
            "w",
            "rand",
            "RAN",
            "d",
            "uu",
            "UU",
            "id",
            "ID",
            "\u0130d",
            "\u0131d",
            "serv",
            "SERV",
            "\u017ferv",
            "ice",
            "\u0130CE",
            "bnode",
            "BNODE",
            "str",
            "STR",
            " ",
            "(",
            "?",
            "_",
            "x",
            "\u212a",
        ]
    ),
    max_size=8,
).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_VOLATILE_TEXTS)
def test_the_quick_check_for_volatile_words_says_what_the_pattern_says(text):
    """cacheable() skips the pattern when no keyword can be in the text; it must never skip
    one the pattern finds (Unicode case folding included: U+0130 is an I to the pattern)."""
    assert cacheable(text) == (_VOLATILE.search(text) is None)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT (NOW() AS ?t) {}",
        "select (rand() as ?r) {}",
        "SELECT (STRUUID() AS ?u) {}",
        "SELECT * { SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT (bnode() AS ?b) {}",
        "SELECT (UU\u0130D() AS ?u) {}",
    ],
)
def test_queries_with_volatile_functions_are_not_cacheable(query):
    assert not cacheable(query)


def test_the_answer_cache_holds_what_answer_cache_size_says(publication, config):
    from dataclasses import replace

    from kommunen_kg.sparql.answer_cache import AnswerCache
    from kommunen_kg.sparql.engines import over_store

    sized = over_store(publication.store, "v1", replace(config.server, answer_cache_size=3))
    assert isinstance(sized.client, AnswerCache) and sized.client.max_bytes == 3 * 1024 * 1024
    off = over_store(publication.store, "v1", replace(config.server, answer_cache_size=0))
    assert not isinstance(off.client, AnswerCache)


def test_a_doorkeeper_admits_a_key_the_second_time_and_forgets_after_two_generations():
    from kommunen_kg.sparql.answer_cache import Doorkeeper

    keeper = Doorkeeper(size=2)
    assert not keeper.admit("a")
    assert keeper.admit("a")
    for key in ("b", "c", "d", "e"):  # two generations of two keys each, after "a"
        assert not keeper.admit(key)
    assert not keeper.admit("a")
