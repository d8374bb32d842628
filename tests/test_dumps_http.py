"""/dumps/: every release's files at URLs that never change, as HTTP clients expect them.

A server over a release folder with two releases (the second adds one triple), so that old
URLs, ``latest`` and the changelog can be seen at work; and a server of ad-hoc files.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import shutil
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .support import ROOT, build_time, server_in_thread

MEDIA_TYPES = {
    "kommunen-innovativ.ttl": "text/turtle; charset=utf-8",
    "kommunen-innovativ.nt.gz": "application/gzip",
    "kommunen-innovativ.jsonld": "application/ld+json",
    "kommunen-innovativ.trig": "application/trig",
    "kommunen-innovativ.nq.gz": "application/gzip",
    "metadata.trig": "application/trig",
    "metadata.nq.gz": "application/gzip",
}
ADDED = '\nfunding:fona schema:alternateName "FONA (Rahmenprogramm)"@de .\n'


@pytest.fixture(scope="module")
def two_releases(tmp_path_factory: pytest.TempPathFactory):
    """(url, first release, second release): the server publishes the second."""
    from kommunen_kg.build.pipeline import build
    from kommunen_kg.config import load_config
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_release

    root = tmp_path_factory.mktemp("two-releases")
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "kommunen-kg.toml", root / "kommunen-kg.toml")
    config = load_config(root / "kommunen-kg.toml")
    with build_time(1_700_000_000):
        first = build(config).release
    with (root / "data" / "projects.ttl").open("a", encoding="utf-8") as f:
        f.write(ADDED)
    with build_time(1_700_086_400):
        second = build(config).release
    assert first.version != second.version
    with server_in_thread(create_app(open_release(config, second))) as url:
        yield url, first, second


def _get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10)


def test_listing_names_every_release_newest_first_with_each_files_facts(two_releases):
    url, first, second = two_releases
    listing = _get(url + "dumps/", Accept="application/json").json()
    assert [r["version"] for r in listing["releases"]] == [second.version, first.version]
    assert listing["latest"] == second.version
    assert [r["current"] for r in listing["releases"]] == [True, False]
    for entry, release in zip(listing["releases"], (second, first), strict=True):
        assert {f["name"] for f in entry["files"]} == {f["name"] for f in release.files}
        for f in entry["files"]:
            body = requests.get(f["url"], timeout=10).content
            assert len(body) == f["size"]
            assert hashlib.sha256(body).hexdigest() == f["sha256"]
            assert f["triples"] > 0 and f["format"]


def test_listing_offers_the_metadata_graph_in_trig_and_in_nquads(two_releases):
    url, _first, second = two_releases
    listing = _get(url + f"dumps/{second.version}/", Accept="application/json").json()
    files = {f["name"]: f for f in listing["releases"][0]["files"]}
    described = {
        name: (files[name]["format"], files[name]["media_type"], files[name]["served_as"])
        for name in ("metadata.trig", "metadata.nq.gz")
    }
    assert described == {
        "metadata.trig": (
            "TriG: metadata (DCAT-AP.de, VoID, PROV)",
            "application/trig",
            "application/trig",
        ),
        "metadata.nq.gz": (
            "N-Quads (gzip): metadata (DCAT-AP.de, VoID, PROV)",
            "application/n-quads",
            "application/gzip",
        ),
    }


def test_listing_page_shows_formats_sizes_triples_checksums_and_changes(two_releases):
    url, first, second = two_releases
    page = _get(url + "dumps/", Accept="text/html", **{"Accept-Language": "en"}).text
    for release in (first, second):
        for f in release.files:
            assert f["sha256"] in page
            assert f"{f['size']:,}" in page
    assert f"against {first.version}: +1 / −0 triples" in page
    assert "<li>changed: <code>" in page or "<li>new: <code>" in page, "each list says what it is"
    assert "<li>: " not in page
    assert "first release" in page
    assert "302 Found" in page, "the page says how /dumps/latest/ works"


def test_changelog_says_what_changed(two_releases):
    url, first, second = two_releases
    response = _get(url + "dumps/CHANGELOG.md")
    assert response.headers["Content-Type"].startswith("text/markdown")
    assert f"## {second.version}" in response.text and f"## {first.version}" in response.text
    assert f"against {first.version}: +1 / -0 triples" in response.text


def test_an_older_release_stays_downloadable_at_its_url(two_releases):
    url, first, _second = two_releases
    f = next(f for f in first.files if f["name"] == "kommunen-innovativ.ttl")
    response = _get(f"{url}dumps/{first.version}/{f['name']}")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == f["sha256"]


def test_latest_redirects_to_the_versioned_file_of_the_served_release(two_releases):
    url, _first, second = two_releases
    response = _get(url + "dumps/latest/kommunen-innovativ.ttl")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dumps/{second.version}/kommunen-innovativ.ttl")
    assert "immutable" not in response.headers["Cache-Control"]
    folder = _get(url + "dumps/latest/")
    assert folder.status_code == 302
    assert folder.headers["Location"].endswith(f"/dumps/{second.version}/")
    assert _get(url + "dumps/latest/nothing.ttl").status_code == 404


@pytest.mark.parametrize("name", sorted(MEDIA_TYPES))
def test_a_versioned_file_has_type_length_validators_and_is_cached_forever(
    live_server, release, name
):
    f = next(f for f in release.files if f["name"] == name)
    response = _get(f"{live_server}dumps/{release.version}/{name}", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MEDIA_TYPES[name]
    assert "Content-Encoding" not in response.headers, "files are sent exactly as published"
    assert int(response.headers["Content-Length"]) == f["size"] == len(response.content)
    assert response.headers["ETag"] == f'"{f["sha256"]}"'
    assert (
        parsedate_to_datetime(response.headers["Last-Modified"]).isoformat().replace("+00:00", "Z")
        == release.created
    )
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Accept-Ranges"] == "bytes"


def test_gzip_dumps_are_gzip_files(live_server, release):
    body = _get(f"{live_server}dumps/{release.version}/kommunen-innovativ.nt.gz").content
    assert gzip.decompress(body).startswith(b"<")


def test_range_requests_answer_206_with_the_bytes_asked_for(live_server, release):
    path = Path(release.path, "kommunen-innovativ.ttl")
    whole = path.read_bytes()
    url = f"{live_server}dumps/{release.version}/kommunen-innovativ.ttl"
    response = _get(url, Range="bytes=0-99")
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 0-99/{len(whole)}"
    assert response.content == whole[:100]
    tail = _get(url, Range="bytes=-10")
    assert tail.status_code == 206 and tail.content == whole[-10:]
    assert _get(url, Range=f"bytes={len(whole) + 10}-").status_code == 416


def test_if_none_match_and_if_modified_since_answer_304(live_server, release):
    f = next(f for f in release.files if f["name"] == "kommunen-innovativ.jsonld")
    url = f"{live_server}dumps/{release.version}/{f['name']}"
    first = _get(url)
    for method in (requests.get, requests.head):
        again = method(url, headers={"If-None-Match": f'"{f["sha256"]}"'}, timeout=10)
        assert again.status_code == 304 and not again.content
        assert again.headers["ETag"] == first.headers["ETag"]
    since = _get(url, **{"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "dumps/0000000000ff/kommunen-innovativ.ttl",
        "dumps/{v}/nothing.ttl",
        "dumps/{v}/manifest.json.bak",
        "dumps/{v}/../current",
        "dumps/{v}/..%2fcurrent",
        "dumps/{v}/..%2f..%2fCHANGELOG.md",
        "dumps/..%2fcurrent/kommunen-innovativ.ttl",
        "dumps/%2e%2e/current",
        "dumps/.hidden/kommunen-innovativ.ttl",
        "dumps/{v}/%2fetc%2fpasswd",
        "dumps/{v}/..%5c..%5ccurrent",
    ],
)
def test_unknown_versions_files_and_traversals_answer_404(live_server, release, path):
    """Raw paths (not normalised by a client library) never reach outside a release folder."""
    parts = urlsplit(live_server)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", "/" + path.replace("{v}", release.version))
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status in (404, 308), (response.status, body[:200])
    assert release.version.encode() + b"\n" != body
    assert b"root:" not in body


def test_the_manifest_of_a_release_is_served(live_server, release):
    response = _get(f"{live_server}dumps/{release.version}/manifest.json")
    assert response.status_code == 200
    assert response.json()["version"] == release.version


@pytest.fixture(scope="module")
def adhoc_server(config):
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_sources

    publication = open_sources(config, [ROOT / "data" / "people.ttl"])
    with server_in_thread(create_app(publication)) as url:
        yield url


def test_adhoc_mode_says_there_is_no_release(adhoc_server):
    page = _get(adhoc_server + "dumps/", **{"Accept": "text/html", "Accept-Language": "en"})
    assert page.status_code == 200
    assert "No release" in page.text and "kommunen-kg build" in page.text
    listing = _get(adhoc_server + "dumps/", Accept="application/json").json()
    assert listing["releases"] == [] and listing["latest"] is None


@pytest.mark.parametrize(
    "path", ["dumps/latest/kommunen-innovativ.ttl", "dumps/latest/", "catalog", ".well-known/void"]
)
def test_adhoc_mode_has_no_downloads_catalog_or_void(adhoc_server, path):
    assert _get(adhoc_server + path).status_code == 404
