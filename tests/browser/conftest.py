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


@pytest.fixture
def page(browser):
    """A fresh page that records console errors, page errors and failed requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    tab = context.new_page()
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
    yield tab
    context.close()


def shot(tab, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path
