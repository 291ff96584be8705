"""The demo tells the truth, as the cockpit shows it on first run: an Attractive variant that
moved about five points of visitors from the counter to the online route against its own
control, a pilot with no effect (neither on its primary measure nor on its guardrail), a
reminder wording that lowered no-shows, and one breached bound (the passport lead time at
Wijkkantoor Noord, its alert queued); satisfaction per channel is there to be measured."""

from __future__ import annotations

import base64
import csv
import html
import io
import re

import openpyxl
import pytest
import tablib
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from booking.availability import invalidate_availability
from booking.staff.services import closures
from nudges.cockpit import portfolio, selectors
from nudges.cockpit.constants import BoundKind, BoundStatus
from nudges.cockpit.demo import ATTRACTIVE_NAME, REMINDER_COST_NAME, SOCIAL_FIRST_NAME
from nudges.constants import MessageKind, Metric
from nudges.demo import PILOT_NAME
from nudges.experiments.results import experiment_results
from nudges.models import ScheduledMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closures_commit_at_once(monkeypatch):
    """In a real run the renovation's closure commits, and so invalidates the cached availability,
    before the bound check measures the lead time; inside the test's transaction that happens now."""
    monkeypatch.setattr(closures, "invalidate_on_commit", invalidate_availability)


def test_the_demo_cockpit_on_first_run(client):
    call_command("seed_demo", verbosity=0)
    rows = {(r.bound.kind, r.scope): r for r in selectors.bound_monitor()}
    breached = [r for r in rows.values() if r.status == BoundStatus.BREACHED]
    assert [(r.bound.kind, r.bound.product_code, r.location_name) for r in breached] == [
        (BoundKind.LEAD_TIME, "paspoort", "Wijkkantoor Noord")
    ]
    assert breached[0].value > breached[0].version.limit == 10
    assert ScheduledMessage.objects.filter(kind=MessageKind.BOUND_BREACH).count() == 2  # manager and beheerder
    # Satisfaction is measured too: e-mail close to the floor, the gap to the best channel within.
    floor = next(r for r in rows.values() if r.bound.kind == BoundKind.SATISFACTION_FLOOR)
    gap = next(r for r in rows.values() if r.bound.kind == BoundKind.SATISFACTION_GAP)
    assert (floor.status, floor.detail, gap.status) == (BoundStatus.CLOSE, "e-mail", BoundStatus.WITHIN)

    by_name = {row.experiment.name: row for row in portfolio.portfolio()}
    # 1. Attractive: counter bookings 5.2 points down against control, the visitors went online.
    attractive = by_name[ATTRACTIVE_NAME]
    assert attractive.verdict == "winner"
    [arm] = attractive.arms
    assert arm.principle.startswith("Attractive")
    assert arm.effect.value == pytest.approx(-0.052)
    assert arm.effect.high < 0 and arm.visits.low > 0
    online = experiment_results(attractive.experiment).descriptive
    [chose_online] = [m for m in online if m.metric == Metric.CHOSE_ONLINE]
    rates = {a.key: a.rate for a in chose_online.analysis.arms}
    assert rates == {"controle": 0, "digitale-korting": pytest.approx(0.052)}

    # 2. The pilot: no demonstrable effect, on its primary measure nor on its no-show guardrail.
    pilot = by_name[PILOT_NAME]
    [pilot_arm] = pilot.arms
    assert pilot_arm.verdict == "no_difference" and pilot.verdict == "no_difference"
    pilot_results = experiment_results(pilot.experiment)
    assert pilot_results.final and pilot_results.harmed_on == []
    assert [g.analysis.verdict for g in pilot_results.guardrails] == ["no_difference"]

    # 3. The reminder that says what a missed appointment costs lowered no-shows.
    reminder = next(
        r for r in portfolio.portfolio(metric_override=Metric.NO_SHOW) if r.experiment.name == REMINDER_COST_NAME
    )
    assert reminder.arms[0].verdict == "better" and reminder.arms[0].effect.value == pytest.approx(-0.018)

    # 4. The first round of the social norm sent more people to the counter: harm, called harm.
    social = by_name[SOCIAL_FIRST_NAME]
    [social_arm] = social.arms
    assert social.verdict == "worse" and social_arm.verdict == "worse"
    assert social_arm.effect.value == pytest.approx(0.06) and social_arm.effect.low > 0

    # What the manager sees on the cockpit's pages.
    manager = get_user_model().objects.get(username="manager")
    client.force_login(manager)
    home = client.get(reverse("nudges:cockpit-frame")).content.decode()
    assert "1 kader is overschreden" in home and "Paspoort, Wijkkantoor Noord" in home
    achieved = client.get(reverse("nudges:cockpit-nudges")).content.decode()
    assert achieved.count("Werkt: beter dan controle") == 3  # attractive, and the reminder in both tables
    assert "Geen aantoonbaar verschil" in achieved and "Slechter dan controle" in achieved
    # ...and on the experiment's own results page: final, worse than control, no provisional p-values.
    results_page = client.get(reverse("nudges:manager-detail", args=[social.experiment.pk])).content.decode()
    assert "Schade: variant sociale-norm doet het aantoonbaar slechter dan de controle" in results_page
    assert "slechter dan controle" in results_page and "voorlopig" not in results_page.lower()
    # One paragraph says how to read it, in Dutch and in English.
    assert "zo berekend bevat het de echte waarde in 95 van de 100 experimenten" in results_page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(reverse("nudges:manager-detail", args=[social.experiment.pk])).content.decode()
    assert "Harm: variant sociale-norm does demonstrably worse than the control" in english
    assert "computed this way it contains the true value in 95 of 100 experiments" in english
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"

    # Idempotent: a second run adds nothing and alerts nobody again.
    call_command("seed_demo", verbosity=0)
    assert ScheduledMessage.objects.filter(kind=MessageKind.BOUND_BREACH).count() == 2


CODES = {"breached", "within", "close", "unknown", "winner", "better", "worse", "no_difference", "srm", "max", "min"}


def _export_rows(client, href: str, fmt: str, **headers) -> list[list[str]]:
    """The rows of one export, read back from its file (CSV, XLSX or ODS)."""
    response = client.get(href.replace(".csv", f".{fmt}"), **headers)
    assert response.status_code == 200, href
    if fmt == "csv":
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    if fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    data = tablib.Dataset().load(response.content, format="ods")
    return [[str(h) for h in data.headers], *([str(v) for v in row] for row in data)]


def test_every_table_of_the_demo_cockpit_exports_what_the_page_shows(client):
    call_command("seed_demo", verbosity=0)
    client.force_login(get_user_model().objects.get(username="manager"))
    found: dict[str, str] = {}
    for page, query in [
        ("nudges:cockpit-frame", {}),
        ("nudges:cockpit-channels", {"period": "month"}),
        ("nudges:cockpit-cost", {"period": "month"}),
        ("nudges:cockpit-nudges", {}),
    ]:
        body = client.get(reverse(page), query).content.decode()
        # Every table on the page has its own export links right below it, in each format.
        for after in body.split("<table")[1:]:
            links = [html.unescape(h) for h in re.findall(r'href="(/medewerkers/cockpit/export/[^"]+)"', after)]
            assert {link.split("?")[0].rsplit(".", 1)[1] for link in links} == {"csv", "xlsx", "ods"}, page
            found[f"{links[0].split('/')[-1].split('.')[0]}?{links[0].partition('?')[2]}"] = links[0]
    names = {key.split("?")[0] for key in found}
    assert names == {
        "kaders",
        "kadergeschiedenis",
        "kanaalmix",
        "balieafspraken",
        "kosten",
        "nudges",
        "nietverschenen",
        "effecten",
    }
    exported = {}
    for key, href in found.items():
        as_csv = _export_rows(client, href, "csv")
        assert len(as_csv) > 1, key
        for fmt in ("xlsx", "ods"):
            assert [r[0] for r in _export_rows(client, href, fmt)] == [r[0] for r in as_csv], (key, fmt)
        exported[key.split("?")[0]] = exported.get(key.split("?")[0], []) + as_csv
    # Statuses and verdicts in the page's words, not their codes.
    cells = {cell for rows in exported.values() for row in rows for cell in row}
    assert not cells & CODES
    assert "Overschreden" in {row[7] for row in exported["kaders"]}
    verdicts = {row[-1] for row in exported["nudges"]}
    assert {"Werkt: beter dan controle", "Geen aantoonbaar verschil", "Slechter dan controle"} <= verdicts

    # The reminder's figure per 1,000 is no-shows avoided per 1,000 appointments, and its euros
    # are counter time for someone else (valued at the cost price), not money saved.
    header, *rows = exported["nudges"]
    [reminder] = [dict(zip(header, row, strict=True)) for row in rows if row[0] == REMINDER_COST_NAME]
    assert reminder["Wat dat getal per 1.000 telt"] == "niet-verschenen vermeden per 1000 afspraken"
    assert reminder["Wat die euro’s zijn"].startswith("geen besparing: balietijd die aan een ander gegeven kan worden")
    [attractive] = [dict(zip(header, row, strict=True)) for row in rows if row[0] == ATTRACTIVE_NAME]
    assert attractive["Wat dat getal per 1.000 telt"] == "baliebezoeken minder per 1000 bezoekers"
    body = client.get(reverse("nudges:cockpit-nudges")).content.decode()
    main = body[body.index('id="portfolio-caption"') : body.index("</table>", body.index('id="portfolio-caption"'))]
    row = main[main.index(REMINDER_COST_NAME) : main.index("</tr>", main.index(REMINDER_COST_NAME))]
    assert "niet-verschenen vermeden per 1000 afspraken" in row and "baliebezoeken minder" not in row
    assert "balietijd die aan een ander gegeven kan worden, gewaardeerd tegen de kostprijs" in row
    english = client.get(reverse("nudges:cockpit-nudges"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "no-shows avoided per 1000 appointments" in english
    assert "counter time that can be given to someone else, valued at the cost price" in english
    en_rows = _export_rows(client, found["nudges?"], "csv", HTTP_ACCEPT_LANGUAGE="en")
    assert "Works: better than control" in {row[-1] for row in en_rows}
    assert "no-shows avoided per 1000 appointments" in {cell for row in en_rows for cell in row}

    # The channel mix chart marks the experiments' starts and stops under their months.
    body = client.get(reverse("nudges:cockpit-channels"), {"period": "month"}).content.decode()
    [src] = re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)"', body)
    svg = base64.b64decode(src).decode()
    assert "start 1" in svg and "einde 1" in svg
