"""Failures are named for what they are, and leave nothing behind."""

from __future__ import annotations

import re
import time

import pytest
import requests

from ..support import PANICKING  # pyoxigraph 0.5 panics on it
from .clients import LARGE, Target, ask_json, server_workers, zombies_under
from .conftest import MAX_ANSWER_MB, MEMORY_LIMIT_MB

pytestmark = pytest.mark.slow

# ORDER BY must hold the cross product of two patterns (about 9e6 rows) in memory.
MEMORY_BOMB = "SELECT ?a ?c WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?f"


def test_an_engine_panic_is_a_400_that_names_the_panic(embedded: Target):
    response = ask_json(embedded, PANICKING)
    assert response.status_code == 400, response.text
    assert "a panic in pyoxigraph" in response.text


def test_a_memory_bomb_is_a_503_that_names_the_memory_limit(embedded: Target):
    response = ask_json(embedded, MEMORY_BOMB)
    assert response.status_code == 503, response.text
    assert f"needed more than the memory limit of {MEMORY_LIMIT_MB} MB" in response.text


def test_ended_query_workers_are_reaped_within_two_seconds(embedded: Target):
    workers = server_workers(embedded.pid)
    ask_json(embedded, PANICKING)
    time.sleep(2)
    assert zombies_under(embedded.pid) == []
    assert server_workers(embedded.pid) == workers


def test_an_answer_beyond_max_answer_bytes_is_a_400_before_anything_is_sent(target: Target):
    query = LARGE.replace("?a ?b ?c . ?d ?e ?f", "?a ?b ?c . ?d ?e ?f . ?g ?h ?i")
    response = requests.post(
        target.url + "sparql",
        data={"query": query.replace("LIMIT 10000", "")},
        headers={"Accept": "application/sparql-results+xml"},
        timeout=30,
    )
    assert response.status_code == 400, response.text[:300]
    assert f"limit of {MAX_ANSWER_MB} MB per answer" in response.text


def test_the_404_page_links_stay_on_this_site(target: Target):
    response = requests.get(target.url + "%5Cevil.example/x", timeout=10)
    assert response.status_code == 404
    for href in re.findall(r'href="([^"]*)"', response.text):
        assert not href.startswith(("//", "/\\", "\\")), href
        assert "evil.example" not in href.split("?")[0].lstrip("/\\").split("/")[0] or (
            href.startswith("/%5C")
        ), href


@pytest.mark.parametrize("path", ["", "sparql", "health", "dumps/", "catalog", "no/such/page"])
def test_every_answer_carries_the_security_headers(target: Target, path: str):
    headers = requests.get(target.url + path, timeout=10).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_a_missing_page_with_a_faulty_lang_is_a_404_not_a_500(target: Target):
    """Found by the fuzz: the 404 page refused the faulty ?lang from inside the error handler."""
    response = requests.get(target.url + "no/such/page", params={"lang": "("}, timeout=10)
    assert response.status_code == 404
