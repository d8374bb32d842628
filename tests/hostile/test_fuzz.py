"""A seeded fuzz of requests: queries, headers, paths and methods; no 500 and no dead worker.

Seeded (SEED), so that a failure is replayed exactly; the failing request is in the message.
Requests go over raw connections (http.client), so that paths, headers and bodies reach the
server as written, including what a well-behaved client library would refuse to send.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from .clients import Target, server_workers, timed_get

pytestmark = pytest.mark.slow

SEED = 20261205
ROUNDS = {"embedded": 3000, "store": 3000}
CLIENTS = 6

EXAMPLES = Path(__file__).parents[2] / "data" / "queries"  # the query editor's examples
BASE = "https://w3id.org/kommunen-innovativ/"

PATHS = [
    "",
    "sparql",
    "sparql/",
    "query",
    "health",
    "dumps/",
    "catalog",
    "void",
    "sitemap.xml",
    "robots.txt",
    "browse/talk",
    "browse/person",
    "search",
    "id/project/lebenswert",
    "page/project/lebenswert",
    "data/project/lebenswert",
    "data/project/lebenswert.ttl",
    "id/talk/2020-11-11-kudequa",
    "page/theme/mobilitaet",
    "vocab",
    "shapes",
    "static/site.css",
    "graph/data",
]
TWISTS = [
    "%00",
    "%ff%fe",
    "%2e%2e/%2e%2e/etc/passwd",
    "..%2f..%2f",
    "%5Cevil.example",
    "//evil.example/",
    "\\\\evil.example",
    "%E2%80%AE",
    "ä",
    "%C3%A4",
    "x" * 3000,
    ";jsessionid=1",
    "?",
    "#frag",
    "%20",
    "%",
    "%zz",
]
METHODS = ["GET"] * 6 + ["POST"] * 3 + ["HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE", "FOO"]
ACCEPTS = [
    "*/*",
    "text/html",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "text/turtle",
    "application/ld+json",
    "application/rdf+xml",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "text/turtle;q=0, */*;q=0",
    "text/*;q=0.5, application/*;q=abc",
    "image/png",
    ",,,;;;",
    "text/html;charset=evil" + "x" * 500,
    "application/sparql-results+json;q=1e309",
]
LANGUAGES = ["de", "en", "fr", "de-DE,en;q=0.5", "*", "x" * 200, ";q=,", "en;q=0.9999999"]
KEYWORDS = [
    "SELECT",
    "ASK",
    "CONSTRUCT",
    "DESCRIBE",
    "WHERE",
    "{",
    "}",
    "(",
    ")",
    ".",
    ";",
    ",",
    "?x",
    "?y",
    "*",
    "FILTER",
    "OPTIONAL",
    "UNION",
    "MINUS",
    "GRAPH",
    "SERVICE",
    "<http://127.0.0.1:9/sparql>",
    "FROM",
    "FROM NAMED",
    "BIND",
    "AS",
    "VALUES",
    "LIMIT",
    "OFFSET",
    "ORDER BY",
    "GROUP BY",
    "COUNT(*)",
    'REGEX(?x, "(a+)+$")',
    '"' * 3,
    "'",
    "#",
    "\\u0000",
    "PREFIX",
    "schema:",
    "a",
    "1e999",
    "-0",
    "<>",
    "<javascript:alert(1)>",
    '"<script>alert(1)</script>"',
    "INSERT DATA { <a> <b> <c> }",
    "LOAD <http://127.0.0.1:9/>",
    "*" * 50,
    "(" * 300,
    "{" * 300,
    "^",
    "|",
    "/",
    "+",
    "!",
    "$x",
    "_:b",
    "[]",
    'STRDT("x", <http://x/"><img>>)',
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/sparql-query",
    "application/sparql-update",
    "application/json",
    "multipart/form-data; boundary=x",
    "text/plain; charset=latin-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "",
]


def _examples() -> list[str]:
    index = tomllib.loads((EXAMPLES / "index.toml").read_text(encoding="utf-8"))
    del index
    return [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.rq"))] + [
        "SELECT * WHERE { ?s ?p ?o } LIMIT 5",
        "ASK { ?s a <http://schema.org/Event> }",
        f"DESCRIBE <{BASE}id/project/lebenswert>",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3",
    ]


def _mutated(rng: random.Random, query: str) -> str:
    words = query.split()
    for _ in range(rng.randint(0, 4)):
        move = rng.random()
        if not words:
            words = [rng.choice(KEYWORDS)]
        at = rng.randrange(len(words) + 1)
        if move < 0.4:
            words.insert(at, rng.choice(KEYWORDS))
        elif move < 0.7 and at < len(words):
            del words[at]
        elif at < len(words):
            words[at] = words[at] * rng.randint(2, 4)
    return " ".join(words)


@dataclass(frozen=True)
class Attempt:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    def __str__(self) -> str:
        return f"{self.method} {self.target[:300]} {self.headers} {self.body[:300]!r}"


def attempts(seed: int, count: int) -> list[Attempt]:
    rng = random.Random(seed)
    queries = _examples()
    out = []
    for _ in range(count):
        method = rng.choice(METHODS)
        path = rng.choice(PATHS)
        if rng.random() < 0.3:
            path += rng.choice(TWISTS)
        params: list[tuple[str, str]] = []
        query = _mutated(rng, rng.choice(queries))
        asks = path.startswith("sparql") or rng.random() < 0.1
        if asks and (method != "POST" or rng.random() < 0.3):
            params.append(("query", query))
        for name in ("lang", "format", "q", "default-graph-uri", "named-graph-uri", "endpoint"):
            if rng.random() < 0.12:
                params.append((name, rng.choice([*KEYWORDS, *ACCEPTS, BASE + "graph/data", ""])))
        target = "/" + urllib.parse.quote(path, safe="/%?#;:@&=+$,\\")
        if params:
            target += ("&" if "?" in target else "?") + urllib.parse.urlencode(params)
        headers = {"Host": rng.choice(["127.0.0.1", "evil.example", "x" * 300, "[::1]:1"])}
        if rng.random() < 0.8:
            headers["Accept"] = rng.choice(ACCEPTS)
        if rng.random() < 0.4:
            headers["Accept-Language"] = rng.choice(LANGUAGES)
        if rng.random() < 0.3:
            headers["Accept-Encoding"] = rng.choice(["gzip", "br", "gzip;q=0", "*", "identity;q=0"])
        if rng.random() < 0.15:
            headers["If-None-Match"] = rng.choice(['W/"x"', "*", '"' * 20, "W/" * 50])
        if rng.random() < 0.1:
            headers["Range"] = rng.choice(["bytes=0-10", "bytes=-5", "bytes=9-1", "lines=1"])
        if rng.random() < 0.1:
            headers["Origin"] = rng.choice(["https://evil.example", "null"])
        if rng.random() < 0.1:
            headers["X-Forwarded-Proto"] = rng.choice(["https", "gopher", "x" * 100])
            headers["X-Forwarded-Host"] = rng.choice(["evil.example", "a b", ""])
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            content_type = rng.choice(CONTENT_TYPES)
            if content_type:
                headers["Content-Type"] = content_type
            choice = rng.random()
            if choice < 0.5:
                body = urllib.parse.urlencode({"query": query}).encode()
            elif choice < 0.8:
                body = query.encode("utf-8")
            else:
                body = rng.randbytes(rng.randint(0, 2000))
        out.append(Attempt(method, target, headers, body))
    return out


def send(target: Target, attempt: Attempt) -> tuple[int, bytes]:
    host, port = target.address
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.putrequest(
            attempt.method, attempt.target, skip_host=True, skip_accept_encoding=True
        )
        for name, value in attempt.headers.items():
            connection.putheader(name, value)
        if attempt.body or attempt.method in ("POST", "PUT", "PATCH"):
            connection.putheader("Content-Length", str(len(attempt.body)))
        connection.endheaders(attempt.body or None)
        response = connection.getresponse()
        return response.status, response.read(200_000)
    finally:
        connection.close()


def test_fuzzed_requests_get_no_500_and_kill_no_worker(target: Target):
    workers = server_workers(target.pid)
    todo = attempts(SEED, ROUNDS[target.mode])
    failures: list[str] = []
    lock = threading.Lock()

    def client(part: list[Attempt]) -> None:
        for attempt in part:
            try:
                status, body = send(target, attempt)
            except (http.client.HTTPException, OSError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                problem = ""
                if status >= 500 and status not in (503,):
                    problem = f"status {status}: {body[:200]!r}"
                elif b"Traceback (most recent call last)" in body:
                    problem = "a traceback in the answer"
            if problem:
                with lock:
                    failures.append(f"{problem} <- {attempt}")

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(todo[i::CLIENTS],)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    took = time.monotonic() - started
    assert not failures, f"{len(failures)} of {len(todo)} (seed {SEED}):\n" + "\n".join(
        failures[:10]
    )
    assert server_workers(target.pid) == workers, "a server worker died"
    status, seconds = timed_get(target.url + "health")
    assert status == 200 and seconds < 2
    print(f"{len(todo)} fuzzed requests in {took:.0f} s")
