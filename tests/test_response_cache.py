"""Repeated requests are replayed from kept answers, exactly as the application gave them.

An answer is kept the second time its URL is asked for, and replayed from the third."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from kommunen_kg.web.app import RESPONSE_CACHE_KEY
from kommunen_kg.web.http.response_cache import ResponseCache

from .support import server_in_thread

TALK = "page/talk/2020-11-11-kudequa"
JSON = "application/sparql-results+json"


@pytest.fixture
def cache(app) -> ResponseCache:
    return app.extensions[RESPONSE_CACHE_KEY]


def fetch(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=10, allow_redirects=False)


def test_a_repeated_page_is_replayed_with_the_same_bytes_and_headers(live_server, cache):
    first = fetch(live_server + TALK, **{"Accept-Encoding": "identity"})
    fetch(live_server + TALK, **{"Accept-Encoding": "identity"})
    hits = cache.stats()["hits"]
    third = fetch(live_server + TALK, **{"Accept-Encoding": "identity"})
    assert cache.stats()["hits"] == hits + 1
    assert third.content == first.content
    for header in ("Content-Type", "ETag", "Vary", "Cache-Control", "Link"):
        assert third.headers.get(header) == first.headers.get(header)


def test_each_language_is_kept_apart(live_server):
    german = [fetch(live_server + TALK, **{"Accept-Language": "de"}).text for _ in range(3)]
    english = [fetch(live_server + TALK, **{"Accept-Language": "en"}).text for _ in range(3)]
    assert german[0] == german[2] and english[0] == english[2]
    assert '<html lang="de"' in german[2]
    assert '<html lang="en"' in english[2]


def test_compressed_and_plain_answers_are_kept_apart(live_server):
    for _ in range(3):
        plain = fetch(live_server + TALK, **{"Accept-Encoding": "identity"})
        packed = requests.get(live_server + TALK, headers={"Accept-Encoding": "gzip"}, stream=True)
        assert "Content-Encoding" not in plain.headers
        assert packed.headers["Content-Encoding"] == "gzip"
        assert packed.headers["ETag"] != plain.headers["ETag"]


def test_a_redirect_of_an_iri_is_replayed_by_accept(live_server):
    for _ in range(3):
        page = fetch(live_server + "id/talk/2020-11-11-kudequa", Accept="text/html")
        data = fetch(live_server + "id/talk/2020-11-11-kudequa", Accept="text/turtle")
        assert page.status_code == data.status_code == 303
        assert page.headers["Location"].endswith("/page/talk/2020-11-11-kudequa")
        assert data.headers["Location"].endswith("/data/talk/2020-11-11-kudequa.ttl")


def test_a_head_request_is_answered_from_a_kept_get(live_server, cache):
    fetch(live_server + TALK, **{"Accept-Encoding": "identity"})
    got = fetch(live_server + TALK, **{"Accept-Encoding": "identity"})
    hits = cache.stats()["hits"]
    head = requests.head(live_server + TALK, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert cache.stats()["hits"] == hits + 1
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == str(len(got.content))
    assert head.headers["ETag"] == got.headers["ETag"]


def test_a_held_answer_gets_304_with_its_validator_and_cors(live_server, cache):
    etag = fetch(live_server + TALK).headers["ETag"]
    fetch(live_server + TALK)
    hits = cache.stats()["hits"]
    again = fetch(live_server + TALK, **{"If-None-Match": etag})
    assert cache.stats()["hits"] == hits + 1
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_a_changed_validator_gets_the_whole_answer(live_server):
    fetch(live_server + TALK)
    again = fetch(live_server + TALK, **{"If-None-Match": '"some-other-version"'})
    assert again.status_code == 200
    assert again.content


def test_a_query_answer_that_is_not_fixed_by_the_release_is_never_kept(live_server, cache):
    params = {"query": "SELECT (STRUUID() AS ?u) WHERE {}"}
    answers = {
        requests.get(live_server + "sparql", params=params, headers={"Accept": JSON}).text
        for _ in range(3)
    }
    assert len(answers) == 3


def test_errors_are_never_kept(live_server, cache):
    before = cache.stats()["answers"]
    for _ in range(3):
        assert fetch(live_server + "page/talk/no-such-talk").status_code == 404
    assert cache.stats()["answers"] == before


def test_a_range_request_passes_through(live_server):
    listing = requests.get(live_server + "dumps/latest/kommunen-innovativ.ttl", timeout=10)
    part = fetch(listing.url, Range="bytes=0-9")
    assert part.status_code == 206
    assert part.content == listing.content[:10]


# -- the middleware alone, in front of a small WSGI application --


def counting_app(body_size: int = 1000):
    """A WSGI application that answers every path with its own body and counts its calls."""
    calls: list[str] = []

    def app(environ, start_response) -> Iterator[bytes]:
        calls.append(environ["PATH_INFO"])
        body = environ["PATH_INFO"].encode().ljust(body_size, b".")
        start_response(
            "200 OK",
            [
                ("Content-Type", "text/plain"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "public, max-age=60"),
            ],
        )
        return [body]

    return app, calls


def test_memory_is_bounded_by_forgetting_the_least_recently_used():
    inner, calls = counting_app()
    cache = ResponseCache(inner, max_bytes=10_000)
    with server_in_thread(cache) as url:
        for n in range(50):
            for _ in range(2):  # kept on the second request
                assert requests.get(f"{url}r{n}").status_code == 200
        assert cache.stats()["bytes"] <= 10_000
        assert 0 < cache.stats()["answers"] < 50
        requests.get(f"{url}r49")  # the newest is still kept
        requests.get(f"{url}r0")  # the oldest is gone
    assert calls.count("/r49") == 2
    assert calls.count("/r0") == 3


def test_answers_larger_than_the_entry_limit_are_not_kept():
    inner, calls = counting_app(body_size=5000)
    cache = ResponseCache(inner, max_entry_bytes=4000)
    with server_in_thread(cache) as url:
        for _ in range(3):
            assert len(requests.get(f"{url}big").content) == 5000
    assert calls.count("/big") == 3


def _environ(method: str = "GET", **headers: str) -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": "/kept",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    environ.update({"HTTP_" + name.upper(): value for name, value in headers.items()})
    return environ


def _kept_with_etag() -> ResponseCache:
    def app(environ, start_response):
        start_response(
            "200 OK",
            [("Content-Type", "text/plain"), ("Content-Length", "4"), ("ETag", '"v1"')],
        )
        return [b"kept"]

    cache = ResponseCache(app)
    for _ in range(2):  # kept on the second request
        list(cache(_environ(), lambda status, headers, exc_info=None: None))
    return cache


def test_the_front_gets_a_kept_answer_in_asgi_form_with_the_fields_it_was_kept_with():
    status, fields, body = _kept_with_etag().replay_asgi(_environ())
    assert (status, body) == (200, b"kept")
    assert fields == [
        (b"content-type", b"text/plain"),
        (b"content-length", b"4"),
        (b"etag", b'"v1"'),
    ]


def test_the_front_gets_a_kept_answer_to_head_without_its_body():
    status, fields, body = _kept_with_etag().replay_asgi(_environ("HEAD"))
    assert (status, body) == (200, b"") and (b"etag", b'"v1"') in fields


def test_the_front_gets_304_for_a_kept_answer_the_client_holds():
    status, fields, body = _kept_with_etag().replay_asgi(_environ(if_none_match='"v1"'))
    assert (status, body) == (304, b"") and (b"etag", b'"v1"') in fields


def test_the_front_gets_nothing_for_an_answer_not_kept():
    assert _kept_with_etag().replay_asgi(_environ(accept="text/html") | {"PATH_INFO": "/x"}) is None


def test_an_answer_asked_for_once_is_not_kept_and_twice_is():
    """A sweep of URLs asked for once (a crawler, a cold benchmark) keeps nothing and evicts
    nothing; the second request keeps the answer, the third is replayed."""
    inner, calls = counting_app()
    cache = ResponseCache(inner)
    with server_in_thread(cache) as url:
        for n in range(20):
            requests.get(f"{url}once{n}")
        assert cache.stats()["answers"] == 0
        for _ in range(3):
            requests.get(f"{url}often")
    assert cache.stats()["answers"] == 1
    assert calls.count("/often") == 2
