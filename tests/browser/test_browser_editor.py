"""The query editor in a real browser: it runs an example and never leaves loopback."""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest

from .conftest import shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_editor_runs_an_example_in_a_browser_without_leaving_loopback(live_server, new_tab):
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab = new_tab(locale="en-GB")
    tab.route("**/*", guard)
    tab.goto(live_server + "sparql?lang=en")
    tab.wait_for_selector(".yasqe .CodeMirror", timeout=20000)
    tab.click("button[data-example='0']")
    tab.wait_for_selector("text=Katrin Fahrenkrug", timeout=20000)
    shot(tab, "query-editor-example")
    # A shared link with a query opens that query in the editor.
    tab.goto(live_server + "sparql?query=" + quote("ASK { ?s ?p 'shared link' }"))
    tab.wait_for_selector("text=shared link", timeout=20000)
    assert outside == [], f"the editor asked other hosts: {outside}"
    assert tab.problems == []
