"""Real headless Chromium (Debian's package) driven by Playwright, for the browser tests.

Playwright's own browser downloads are not used: the tests launch /usr/bin/chromium through
``executable_path`` and are skipped, saying why, when it or Playwright is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ..support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright for Python is not installed (pip install -e '.[test]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=LAUNCH_ARGS,
        )
        yield launched
        launched.close()


def watch(tab) -> list[str]:
    """Records on ``tab.problems`` what a person would see go wrong: console errors and
    warnings, uncaught page errors, failed requests and answers of 400 or more."""
    tab.problems = []
    tab.on(
        "console",
        lambda message: (
            tab.problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    tab.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: tab.problems.append(f"failed: {request.url}"))
    tab.on(
        "response",
        lambda response: (
            tab.problems.append(f"{response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    return tab.problems


@pytest.fixture
def new_tab(browser):
    """Opens watched tabs in fresh contexts (``new_tab(locale="en-GB")``), closed afterwards."""
    contexts = []

    def open_tab(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        tab = context.new_page()
        watch(tab)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_tab):
    """A fresh desktop tab, in German, that records its problems (:func:`watch`)."""
    return new_tab(viewport={"width": 1280, "height": 900}, locale="de-DE")


def heading_levels(tab) -> list[int]:
    """The levels of the page's headings in document order (h1 -> 1)."""
    return tab.evaluate(
        "[...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => +h.tagName[1])"
    )


def shot(tab, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
