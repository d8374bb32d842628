"""The HTTP layer: validators and 304s, caching by kind, gzip with its own ETag, CORS, and the
security headers (the Content-Security-Policy of pages among them)."""

from __future__ import annotations

import gzip

import pytest
import requests

GENERATED = ["catalog", ".well-known/void", "dumps/", "catalog?format=rdf"]


def _get(url: str, method=requests.get, **headers: str) -> requests.Response:
    headers.setdefault("Accept-Encoding", "identity")
    return method(url, headers=headers, allow_redirects=False, timeout=10)


@pytest.mark.parametrize("path", GENERATED)
def test_generated_answers_carry_an_etag_of_release_and_representation(live_server, release, path):
    response = _get(live_server + path)
    assert response.status_code == 200
    assert response.headers["ETag"].startswith(f'"{release.version}-')
    assert "Last-Modified" in response.headers


@pytest.mark.parametrize("path", GENERATED)
@pytest.mark.parametrize("method", [requests.get, requests.head])
def test_if_none_match_answers_304_without_a_body(live_server, path, method):
    etag = _get(live_server + path).headers["ETag"]
    again = _get(live_server + path, method, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert not again.content
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"


# A resource's description in one form, its page, and its negotiated description.
RESOURCE_VIEWS = [
    ("data/talk/2020-11-11-kudequa.ttl", {}),
    ("page/talk/2020-11-11-kudequa", {}),
    ("data/talk/2020-11-11-kudequa", {"Accept": "text/turtle"}),
]


@pytest.mark.parametrize(("path", "headers"), RESOURCE_VIEWS)
@pytest.mark.parametrize("method", [requests.get, requests.head])
def test_resource_views_answer_304_to_their_etag(live_server, release, path, headers, method):
    first = _get(live_server + path, **headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag.startswith(f'"{release.version}-')
    again = _get(live_server + path, method, **headers, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert not again.content
    assert again.headers["ETag"] == etag


@pytest.mark.parametrize(("path", "headers"), RESOURCE_VIEWS)
def test_resource_views_compressed_have_their_own_etag(live_server, path, headers):
    plain = _get(live_server + path, **headers)
    packed = _get(live_server + path, **headers, **{"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert packed.content == plain.content  # requests decodes the gzip
    gzip_again = {"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    assert _get(live_server + path, **headers, **gzip_again).status_code == 304
    # the plain form's tag does not stand for the compressed bytes
    plain_tag = {"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
    assert _get(live_server + path, **headers, **plain_tag).status_code == 200


def test_a_negotiated_description_has_one_etag_per_form(live_server):
    path = live_server + "data/talk/2020-11-11-kudequa"
    turtle = _get(path, Accept="text/turtle").headers["ETag"]
    jsonld = _get(path, Accept="application/ld+json").headers["ETag"]
    assert turtle != jsonld
    assert _get(path, Accept="application/ld+json", **{"If-None-Match": turtle}).status_code == 200


def test_each_representation_has_its_own_etag(live_server):
    tags = {
        _get(live_server + "catalog", Accept=accept).headers["ETag"]
        for accept in ("text/turtle", "application/rdf+xml", "application/ld+json", "text/html")
    }
    assert len(tags) == 4


def test_a_stale_etag_gets_the_full_answer(live_server):
    response = _get(live_server + "catalog", **{"If-None-Match": '"an-older-release-0000"'})
    assert response.status_code == 200 and response.content


def test_if_modified_since_answers_304(live_server):
    first = _get(live_server + "catalog")
    again = _get(live_server + "catalog", **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert again.status_code == 304


def test_gzip_when_accepted_with_its_own_etag(live_server):
    plain = _get(live_server + "catalog")
    packed = requests.get(
        live_server + "catalog", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10
    )
    raw = packed.raw.read(decode_content=False)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) == len(raw) < len(plain.content)
    assert gzip.decompress(raw) == plain.content
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gzip"'
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert "Accept-Encoding" in plain.headers["Vary"]
    again = _get(
        live_server + "catalog",
        **{"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert again.status_code == 304


def test_the_compressed_bytes_are_the_same_every_time(live_server):
    bodies = set()
    for _ in range(2):
        r = requests.get(
            live_server + ".well-known/void",
            headers={"Accept-Encoding": "gzip"},
            stream=True,
            timeout=10,
        )
        bodies.add(r.raw.read(decode_content=False))
    assert len(bodies) == 1, "a strong ETag promises identical bytes"


@pytest.mark.parametrize("accept_encoding", ["gzip;q=0", "identity", "br", "*;q=0", ""])
def test_no_gzip_unless_the_client_accepts_it(live_server, accept_encoding):
    response = _get(live_server + "catalog", **{"Accept-Encoding": accept_encoding})
    assert "Content-Encoding" not in response.headers


def test_a_wildcard_accept_encoding_gets_gzip(live_server):
    response = _get(live_server + "catalog", **{"Accept-Encoding": "*"})
    assert response.headers["Content-Encoding"] == "gzip"


def test_large_files_are_streamed_as_published_not_compressed(live_server, release):
    f = next(f for f in release.files if f["name"] == "kommunen-innovativ.jsonld")
    response = requests.get(
        f"{live_server}dumps/{release.version}/{f['name']}",
        headers={"Accept-Encoding": "gzip"},
        stream=True,
        timeout=10,
    )
    assert "Content-Encoding" not in response.headers
    assert int(response.headers["Content-Length"]) == f["size"]
    assert len(response.raw.read(decode_content=False)) == f["size"]


@pytest.mark.parametrize(
    ("path", "policy"),
    [
        ("catalog", "public, max-age=300"),
        (".well-known/void", "public, max-age=300"),
        ("dumps/", "public, max-age=300"),
        ("dumps/latest/kommunen-innovativ.ttl", "public, max-age=300"),
        ("dumps/{v}/kommunen-innovativ.ttl", "public, max-age=31536000, immutable"),
        ("dumps/{v}/nothing.ttl", "no-store"),
        ("no/such/page", "no-store"),
        ("catalog?format=nonsense", "no-store"),
        ("health", "no-store"),
    ],
)
def test_cache_control_suits_each_kind_of_answer(live_server, release, path, policy):
    response = _get(live_server + path.replace("{v}", release.version))
    assert response.headers["Cache-Control"] == policy


@pytest.mark.parametrize(
    "path",
    [
        "catalog",
        ".well-known/void",
        "dumps/",
        "dumps/{v}/kommunen-innovativ.ttl",
        "dumps/latest/kommunen-innovativ.ttl",
        "id/catalog",
        "id/talk/2020-11-11-kudequa",
        "data/talk/2020-11-11-kudequa.ttl",
        "data/talk/2020-11-11-kudequa",
        "page/talk/2020-11-11-kudequa",
        "no/such/page",
    ],
)
def test_every_read_only_answer_allows_any_origin(live_server, release, path):
    response = _get(
        live_server + path.replace("{v}", release.version), Origin="https://portal.example"
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_a_script_on_another_site_can_follow_an_iri_to_its_description(live_server):
    # fetch() follows the 303 only if the redirect allows the origin too, and reads the
    # Link header of the description only if it is exposed.
    origin = {"Origin": "https://portal.example", "Accept": "text/turtle"}
    redirect = _get(live_server + "id/talk/2020-11-11-kudequa", **origin)
    assert redirect.status_code == 303
    assert redirect.headers["Access-Control-Allow-Origin"] == "*"
    assert "Location" in redirect.headers["Access-Control-Expose-Headers"]
    target = redirect.headers["Location"].lstrip("/")
    described = _get(live_server + target, **origin)
    assert described.status_code == 200
    assert described.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in described.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "path",
    [
        "catalog",
        ".well-known/void",
        "dumps/",
        "dumps/{v}/kommunen-innovativ.ttl",
        "id/catalog",
        "id/talk/2020-11-11-kudequa",
        "data/talk/2020-11-11-kudequa.ttl",
        "page/talk/2020-11-11-kudequa",
    ],
)
def test_preflight_requests_are_answered(live_server, release, path):
    response = requests.options(
        live_server + path.replace("{v}", release.version),
        headers={
            "Origin": "https://portal.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match, range",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "if-none-match, range"
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_the_sparql_endpoint_preflight_allows_post_and_queries_still_work(live_server):
    preflight = requests.options(
        live_server + "sparql",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.headers.get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS"
    answer = requests.get(
        live_server + "sparql",
        params={"query": "ASK { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.json()["boolean"] is True


def test_a_client_that_sends_no_accept_header_gets_turtle(live_server):
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(live_server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("GET", "/catalog", skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/turtle")


@pytest.mark.parametrize(
    "path",
    [
        "",
        "page/talk/2020-11-11-kudequa",
        "data/talk/2020-11-11-kudequa.ttl",
        "sparql?query=ASK%20%7B%7D",
        "sparql",
        "dumps/",
        "catalog",
        "no/such/page",
        "health",
    ],
)
def test_every_answer_forbids_sniffing_and_framing_and_limits_the_referrer(live_server, path):
    response = requests.get(live_server + path, timeout=10)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# One HTML page of each kind, the error page and the editor included.
HTML_PAGES = [
    "",
    "?lang=en",
    "page/talk/2020-11-11-kudequa",
    "page/def",
    "page/shapes",
    "page/scheme/themes",
    "browse",
    "browse/person",
    "search?q=mobil",
    "sparql",
    "query",
    "sparql?query=ASK%20%7B%7D",
    "dumps/",
    "catalog?format=html",
    ".well-known/void?format=html",
    "no/such/page",
]


def _policy(response: requests.Response) -> dict[str, list[str]]:
    """The Content-Security-Policy as directive -> sources."""
    directives = {}
    for directive in response.headers["Content-Security-Policy"].split(";"):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_page_loads_and_connects_only_to_this_site(live_server, path):
    response = requests.get(live_server + path, headers={"Accept": BROWSER}, timeout=10)
    assert response.headers["Content-Type"].startswith("text/html")
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert "script-src" not in policy  # scripts fall back to default-src: files of this site
    assert policy["connect-src"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_no_html_page_allows_inline_code_or_any_other_host(live_server, path):
    response = requests.get(live_server + path, headers={"Accept": BROWSER}, timeout=10)
    sources = [source for values in _policy(response).values() for source in values]
    assert "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
    # Only keywords, hashes and data: (images); no host, scheme or wildcard.
    assert all(source.startswith("'") or source == "data:" for source in sources), sources


@pytest.mark.parametrize(
    "path", ["data/talk/2020-11-11-kudequa.ttl", "sparql?query=ASK%20%7B%7D", "health"]
)
def test_answers_that_are_no_page_only_forbid_framing(live_server, path):
    """Browsers show RDF, JSON and text in viewers of their own, which a script policy could
    break; framing stays forbidden."""
    response = requests.get(live_server + path, timeout=10)
    assert not response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
