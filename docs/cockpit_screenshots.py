"""The README's cockpit screenshots (docs/screenshots/cockpit-*.png), taken from a running demo.

    bin/run                                   # or any server on the demo data (seed_demo)
    .venv/bin/python docs/cockpit_screenshots.py http://127.0.0.1:8000

Logs in as the demo manager (the second step's code from ``manage.py demo_code``, so run it
with the server's DATABASE_URL), then saves each cockpit page full length at 1280 px wide in
Dutch, the nudge page at 320 px (reflow) and the monthly report as printed. Needs Debian's
chromium (as the browser tests do)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "kanaalwijzer-demo"  # noqa: S105 - the demo's published password (README)
PAGES = [
    ("cockpit-kaders", "/medewerkers/cockpit/"),
    ("cockpit-kanaalmix", "/medewerkers/cockpit/kanalen/?period=week"),
    ("cockpit-kosten", "/medewerkers/cockpit/kosten/?period=month&product=uittreksel-brp&percent=20"),
    ("cockpit-nudges", "/medewerkers/cockpit/nudges/"),
    ("cockpit-rapport", "/medewerkers/cockpit/rapport/"),
]


def manager_code() -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", "demo_code"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return re.search(r"^manager: (\d{6})$", out, re.MULTILINE).group(1)


def main(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
        page = context.new_page()
        page.goto(base + "/medewerkers/")
        page.get_by_label("Gebruikersnaam").fill("manager")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_label("Code uit uw app").fill(manager_code())
        page.get_by_role("button", name="Doorgaan").click()
        for name, path in PAGES:
            page.goto(base + path)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(OUT / "cockpit-rapport-print.png"), full_page=True)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 320, "height": 720})
        page.goto(base + "/medewerkers/cockpit/nudges/")
        page.screenshot(path=str(OUT / "cockpit-nudges-320.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000")
