"""Browser tests: real pages from a live server, driven by Playwright in Debian's headless
Chromium (/usr/bin/chromium; .ci/run installs it with apt). Accessibility is checked with
axe-core from the npm registry (node_modules/axe-core, installed by `npm ci`).

Helpers for tests: ``check_accessibility(page)`` (zero WCAG 2.1 A/AA violations) and
``screenshot(page, name)`` (saved under test-artifacts/screenshots/, not committed).

The Content-Security-Policy is on: every page a test opens fails the test if the browser
reports a CSP violation. axe-core is therefore injected as an init script (through the
DevTools protocol, which the policy does not govern), not as an inline script tag.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PHONE = {"width": 360, "height": 780}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium).")
    if not AXE_JS.exists():
        pytest.fail("axe-core not found: run `npm ci` in the repository root.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _new_page(browser, *, locale: str = "nl-NL", viewport: dict | None = None):
    context = browser.new_context(viewport=viewport or PHONE, locale=locale)
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE_JS))
    page = context.new_page()
    page.csp_violations = []
    page.on("console", lambda message: _record_csp_violation(page, message))
    return context, page


def _record_csp_violation(page, message) -> None:
    if "Content Security Policy" in message.text:
        page.csp_violations.append(f"{page.url}: {message.text}")


def assert_no_csp_violations(*pages) -> None:
    violations = [violation for page in pages for violation in page.csp_violations]
    assert not violations, "CSP violations:\n" + "\n".join(violations)


@pytest.fixture
def page(browser, live_server):
    """A phone-sized page in Dutch. ``page.base_url`` is the live server."""
    context, page = _new_page(browser)
    page.base_url = live_server.url
    yield page
    context.close()
    assert_no_csp_violations(page)


@pytest.fixture
def new_page(browser, live_server):
    """Factory for extra pages (another visitor, English, a desktop-sized staff screen)."""
    contexts, pages = [], []

    def make(**kwargs):
        context, page = _new_page(browser, **kwargs)
        page.base_url = live_server.url
        contexts.append(context)
        pages.append(page)
        return page

    yield make
    for context in contexts:
        context.close()
    assert_no_csp_violations(*pages)


def check_accessibility(page) -> None:
    """Fail with a readable list when axe-core finds any WCAG 2.1 A/AA violation."""
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    violations = result["violations"]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:5])
        for v in violations
    )
    assert not violations, f"axe-core found WCAG violations on {page.url}:\n{report}"


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^a-z0-9_-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
