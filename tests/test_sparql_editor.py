"""The query editor (YASGUI, bundled) and the example queries of the dataset.

The example queries are the competency questions of the knowledge graph; each one is run against
the real endpoint and must answer. The browser test opens the editor in Debian's chromium, runs
an example and reads the results table, while refusing every request that leaves the loopback
interface: the editor works offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

import lxml.html
import pytest
import requests

from kommunen_kg.web.endpoint.example_queries import load_examples
from kommunen_kg.web.http.security import (
    YASGUI_STYLE_ATTRIBUTE_HASHES,
    YASGUI_STYLE_ELEMENT_HASHES,
)

from .support import ROOT

EXAMPLES = load_examples(ROOT / "data" / "queries")
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BUNDLE = ROOT / "server" / "kommunen_kg" / "web" / "static" / "yasgui" / "yasgui.min.js"


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.config: str = ""
        self.words: str = ""  # the text of the page, entities resolved
        self._in_config = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        # What the page loads; canonical and alternate links only name URLs.
        if tag == "link" and attrs.get("href") and attrs.get("rel") in ("stylesheet", "icon"):
            self.urls.append(attrs["href"])
        self._in_config = tag == "script" and attrs.get("id") == "editor-config"

    def handle_data(self, data):
        self.words += data
        if self._in_config:
            self.config += data

    def handle_endtag(self, tag):
        self._in_config = False


def page(url: str, path: str = "query", **params: str) -> _Assets:
    response = requests.get(url + path, params=params, headers={"Accept": FIREFOX}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    parser = _Assets()
    parser.feed(response.text)
    parser.text = response.text  # type: ignore[attr-defined]
    return parser


def test_editor_is_served_at_sparql_and_query(live_server):
    for path in ("sparql", "query"):
        assert '<div id="yasgui">' in page(live_server, path).text


def test_editor_loads_yasgui_from_the_package_not_a_cdn(live_server):
    assets = page(live_server)
    assert assets.urls, "the page loads no script or stylesheet"
    for url in assets.urls:
        assert not urlparse(url).netloc, f"{url} is loaded from another host"
        response = requests.get(live_server + url.lstrip("/"), timeout=10)
        assert response.status_code == 200, url
    assert any(url.endswith("yasgui/yasgui.min.js") for url in assets.urls)
    assert any(url.endswith("yasgui/yasgui.min.css") for url in assets.urls)


def test_bundled_yasgui_carries_its_licence_and_version(live_server):
    licence = requests.get(live_server + "static/yasgui/LICENSE", timeout=10)
    assert licence.status_code == 200
    assert "MIT" in licence.text
    package = requests.get(live_server + "static/yasgui/package.json", timeout=10).json()
    assert package["name"] == "@zazuko/yasgui"
    assert package["version"] == "4.6.2"


def test_editor_page_runs_no_inline_script_only_reads_json_data_blocks(live_server):
    doc = lxml.html.fromstring(page(live_server, "sparql").text)
    scripts = doc.xpath("//script")
    assert scripts
    for script in scripts:
        if script.get("src"):
            assert not urlparse(script.get("src")).netloc, script.get("src")
            assert not (script.text or "").strip()
        else:
            assert script.get("type") in ("application/json", "application/ld+json")


def test_editor_page_has_no_inline_style_or_event_handler(live_server):
    doc = lxml.html.fromstring(page(live_server, "sparql").text)
    assert doc.xpath("//style | //*[@style]") == []
    handlers = [name for element in doc.iter() for name in element.attrib if name.startswith("on")]
    assert handlers == []


def test_editor_is_given_this_servers_endpoint(live_server):
    """The one endpoint the editor talks to, whatever ``?endpoint=`` a link carries."""
    config = json.loads(page(live_server, "sparql", endpoint="http://evil.example/sparql").config)
    assert config["endpoint"] == "/sparql"


def _csp_hash(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def test_the_page_policy_admits_exactly_the_style_elements_bundled_yasgui_inserts():
    """YASR's column resizer inserts <style> elements: its grip rules, and while a column is
    dragged a cursor rule with its default drag cursor."""
    bundle = BUNDLE.read_text(encoding="utf-8")
    fixed = re.findall(r"createStyle\(\w+,`([^`]*)`\)", bundle)
    cursor = re.findall(r"createStyle\([^,]+,`([^`]*)`\+\w+\.opt\.dragCursor\+`([^`]*)`\)", bundle)
    (default_cursor,) = re.findall(r"dragCursor:`([^`]*)`", bundle)
    (hover_cursor,) = re.findall(r"hoverCursor:`([^`]*)`", bundle)
    assert hover_cursor == "col-resize"  # the default: no hover rule is inserted
    texts = fixed + [before + default_cursor + after for before, after in cursor]
    assert len(texts) == 2
    assert {_csp_hash(text) for text in texts} == set(YASGUI_STYLE_ELEMENT_HASHES)


def test_the_page_policy_admits_exactly_the_style_attribute_bundled_yasgui_writes():
    """The query field's syntax-error tooltip underlines the tokens it expects."""
    bundle = BUNDLE.read_text(encoding="utf-8")
    attributes = set(
        re.findall(r"style='([^']*)'", bundle) + re.findall(r'style="([^"]*)"', bundle)
    )
    assert attributes == {"text-decoration:underline"}
    assert {_csp_hash(text) for text in attributes} == set(YASGUI_STYLE_ATTRIBUTE_HASHES)


def test_editor_starts_with_the_prefixes_prefilled(live_server, publication):
    config = json.loads(page(live_server).config)
    prefixes = publication.iris.prefixes()
    for name in ("schema", "skos", "ki", "event", "talk", "person", "project", "theme"):
        assert f"PREFIX {name}: <{prefixes[name]}>" in config["defaultQuery"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_editor_offers_every_example_with_german_and_english_titles(live_server, lang):
    assets = page(live_server, lang=lang)
    config = json.loads(assets.config)
    assert [e["slug"] for e in config["examples"]] == [e.slug for e in EXAMPLES]
    for example in EXAMPLES:
        assert example.title_de in assets.words
        assert example.title_en in assets.words
    assert f'<html lang="{lang}">' in assets.text
    first = config["examples"][0]
    assert first["title"] == (EXAMPLES[0].title_de if lang == "de" else EXAMPLES[0].title_en)


def test_editor_language_follows_accept_language(live_server):
    response = requests.get(
        live_server + "query",
        headers={"Accept": FIREFOX, "Accept-Language": "en-GB,en;q=0.9,de;q=0.5"},
        timeout=10,
    )
    assert '<html lang="en">' in response.text
    assert "Accept-Language" in response.headers["Vary"]


def test_editor_language_switch_keeps_a_shared_query(live_server):
    response = requests.get(
        live_server + "query",
        params={"query": "ASK { ?s ?p 'x' }", "lang": "de"},
        headers={"Accept": FIREFOX},
        timeout=10,
    )
    doc = lxml.html.fromstring(response.text)
    (switch,) = doc.xpath("//a[contains(@class, 'lang-switch')]/@href")
    assert parse_qs(urlparse(switch).query) == {"query": ["ASK { ?s ?p 'x' }"], "lang": ["en"]}


def test_editor_names_its_canonical_url_and_its_languages(live_server, config):
    doc = lxml.html.fromstring(page(live_server, "query", lang="en").text)
    assert doc.xpath("//link[@rel='canonical']/@href") == [config.public_url + "query?lang=en"]
    alternates = dict(
        zip(
            doc.xpath("//link[@rel='alternate'][@hreflang]/@hreflang"),
            doc.xpath("//link[@rel='alternate'][@hreflang]/@href"),
            strict=True,
        )
    )
    assert alternates == {
        "de": config.public_url + "query?lang=de",
        "en": config.public_url + "query?lang=en",
        "x-default": config.public_url + "query",
    }


def test_example_queries_declare_the_prefixes_they_use(publication):
    for example in EXAMPLES:
        text = example.text(publication.iris)
        declared = set(re.findall(r"^PREFIX (\w*):", text, re.M))
        body = re.sub(r"#[^\n]*", "", example.body)
        used = set(re.findall(r"(?<![\w<:/])([A-Za-z]\w*):[\w-]", body))
        assert used <= declared, f"{example.slug} uses undeclared prefixes {used - declared}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.slug for e in EXAMPLES])
def test_example_query_answers_from_the_endpoint(live_server, publication, example):
    response = requests.post(
        live_server + "sparql",
        data={"query": example.text(publication.iris)},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"]["bindings"], f"{example.slug} answered nothing"


def test_moderator_example_names_katrin_fahrenkrug(live_server, publication):
    example = next(e for e in EXAMPLES if e.slug == "moderator-2020-11-11")
    response = requests.post(
        live_server + "sparql", data={"query": example.text(publication.iris)}, timeout=10
    )
    names = {b["moderatorName"]["value"] for b in response.json()["results"]["bindings"]}
    assert names == {"Katrin Fahrenkrug"}


# --- in a real browser ----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_editor_of_ad_hoc_files_has_no_dataset_examples(tmp_path, config):
    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_sources

    from .support import server_in_thread

    source = tmp_path / "one.ttl"
    source.write_text("<http://example.org/a> <http://example.org/p> 1 .\n", encoding="utf-8")
    with server_in_thread(create_app(open_sources(config, [source]))) as url:
        assets = page(url, "sparql")
    assert json.loads(assets.config)["examples"] == []
    # The site's frame stays (its brand included); the dataset's title and examples do not.
    assert config.dataset.title_de not in assets.words
    assert config.dataset.title_en not in assets.words
    assert '<div id="yasgui">' in assets.text


def test_the_examples_are_the_deployment_s_own_from_the_configured_folder(
    tmp_path, config, release
):
    import dataclasses

    from kommunen_kg.web.app import create_app
    from kommunen_kg.web.publication import open_release

    from .support import server_in_thread

    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "count.rq").write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }\n", "utf-8")
    (folder / "index.toml").write_text(
        '[[example]]\nfile = "count.rq"\ntitle_de = "Wie viele Tripel?"\n'
        'title_en = "How many triples?"\n',
        "utf-8",
    )
    own = dataclasses.replace(config, paths=dataclasses.replace(config.paths, queries=str(folder)))
    with server_in_thread(create_app(open_release(own, release))) as url:
        examples = json.loads(page(url, "sparql", lang="en").config)["examples"]
    assert [(e["slug"], e["title"]) for e in examples] == [("count", "How many triples?")]


def test_a_broken_examples_index_is_an_error_that_names_its_file(tmp_path):
    (tmp_path / "index.toml").write_text('[[example]]\nfile = "missing.rq"\n', "utf-8")
    with pytest.raises(ValueError, match=re.escape("index.toml: an [[example]] lacks 'title_de'")):
        load_examples(tmp_path)
