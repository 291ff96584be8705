"""The Content-Security-Policy holds in a real browser, and the browser tests would notice a
page that breaks it (every page fixture fails on a reported violation)."""

import pytest

pytestmark = pytest.mark.browser


def test_an_injected_inline_script_is_refused_and_reported(page):
    page.goto(page.base_url + "/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected") is None
    assert any("script-src" in violation for violation in page.csp_violations)
    page.csp_violations.clear()  # seen on purpose


def test_api_docs_render_from_our_own_files_without_violations(page):
    page.goto(page.base_url + "/api/v1/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
    page.goto(page.base_url + "/api/v1/redoc/")
    page.wait_for_selector("redoc h1, [role=navigation]", timeout=15_000)
    # ReDoc's attribution logo points at its CDN: the policy blocks it, and nothing else.
    page.csp_violations[:] = [v for v in page.csp_violations if "https://cdn.redoc.ly/" not in v]
