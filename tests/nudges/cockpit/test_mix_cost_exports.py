"""Channel mix, cost per product per channel, the calculator, the exports (formula injection,
opened by LibreOffice) and the permission on every cockpit page."""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
import subprocess
from datetime import datetime, time, timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from nudges.channels.services import ContactInput, contacts_import
from nudges.cockpit import mix
from nudges.cockpit.rollups import rollups_refresh
from nudges.models import Experiment
from tests.factories import ProductFactory
from tests.nudges.conftest import build_experiment

pytestmark = pytest.mark.django_db

INJECTION = '=HYPERLINK("http://evil.example/","klik")'


@pytest.fixture
def products(db):
    brp = ProductFactory(
        code="uittreksel-brp",
        name_nl=INJECTION,
        online=True,
        cost_counter=Decimal("12.00"),
        cost_online=Decimal("7.00"),
        cost_phone=Decimal("9.00"),
        minutes_per_person=10,
    )
    return {"brp": brp}


def contacts(channel: str, n: int, *, days_ago: int, product: str = "uittreksel-brp", prefix: str = ""):
    moment = timezone.now() - timedelta(days=days_ago)
    contacts_import(
        rows=[
            ContactInput(
                channel=channel,
                moment=moment,
                outcome="answered",
                products=[product],
                external_id=f"{prefix or channel}-{days_ago}-{i}",
            )
            for i in range(n)
        ],
        source="csv",
    )


@pytest.fixture
def volumes(products):
    """Last month (days 35–40 ago is always in the previous month or the one before; we use the
    last full week instead, 7–13 days ago): 30 counter, 10 internet, 5 e-mail contacts."""
    today = timezone.localdate()
    last_week_start = today - timedelta(days=today.weekday() + 7)
    days_ago = (today - last_week_start).days - 1  # Tuesday of last week
    contacts("balie", 30, days_ago=days_ago)
    contacts("internet", 10, days_ago=days_ago)
    contacts("e-mail", 5, days_ago=days_ago)
    rollups_refresh(date_from=today - timedelta(days=60), date_to=today)
    return last_week_start


def test_cost_is_cost_price_times_contacts_and_unknown_is_not_zero(volumes):
    table = mix.cost_table(date_from=volumes, date_to=volumes + timedelta(days=6))
    [row] = [r for r in table.rows if r.product_code == "uittreksel-brp"]
    by_channel = dict(zip([c for c, _n in table.channels], row.cells, strict=True))
    assert by_channel["balie"].cost == Decimal("360.00")
    assert by_channel["internet"].cost == Decimal("70.00")
    assert by_channel["e-mail"].contacts == 5 and by_channel["e-mail"].cost is None
    assert row.cost == Decimal("430.00") and row.uncosted == 5


def test_channel_mix_counts_and_shares_per_week(volumes):
    found = mix.channel_mix(period=mix.WEEK, date_from=volumes, date_to=volumes + timedelta(days=6))
    [week] = found.periods
    assert found.total(week) == 45
    assert found.share(week, "balie") == pytest.approx(30 / 45)


def test_what_if_uses_the_measured_volumes(volumes):
    result = mix.what_if(
        product_code="uittreksel-brp", percent=Decimal(20), date_from=volumes, date_to=volumes + timedelta(days=6)
    )
    assert result.moved == Decimal("6.0")
    assert result.saving == Decimal("30.00")  # 6 × (12 − 7)
    assert result.minutes_freed == Decimal(60)
    assert result.online_share_now == pytest.approx(10 / 45)
    assert result.online_share_then == pytest.approx(16 / 45)


def test_the_cost_page_says_where_costs_can_go_down(client, manager, volumes):
    passport = ProductFactory(code="paspoort", requires_presence=True, cost_counter=Decimal("80.00"))
    contacts("balie", 12, days_ago=(timezone.localdate() - volumes).days - 1, product=passport.code, prefix="pp")
    rollups_refresh(date_from=volumes, date_to=timezone.localdate())
    table = mix.cost_table(date_from=volumes, date_to=volumes + timedelta(days=6))
    # The extract: 30 counter contacts × (12 − 7); the passport needs presence, so it is not listed.
    assert [(c.product_code, c.counter_contacts, c.at_most) for c in mix.cheaper_online(table)] == [
        ("uittreksel-brp", 30, Decimal("150.00"))
    ]
    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-cost"), {"period": "week"}).content.decode()
    assert "Waar kan het goedkoper?" in body and "30 baliecontacten, online € 5,00 goedkoper per contact" in body
    assert "hooguit € 150,00" in body and "product=uittreksel-brp&amp;percent=20#rekenhulp" in body


def test_rollups_rebuild_the_same_rows_when_run_twice(volumes):
    from nudges.models import DailyContactVolume

    first = sorted(DailyContactVolume.objects.values_list("day", "channel", "contacts"))
    rollups_refresh(date_from=volumes - timedelta(days=7), date_to=timezone.localdate())
    assert sorted(DailyContactVolume.objects.values_list("day", "channel", "contacts")) == first


# --- exports ---------------------------------------------------------------------------------


def export(client, name: str, fmt: str, **query):
    response = client.get(reverse("nudges:cockpit-export", kwargs={"name": name, "fmt": fmt}), query)
    assert response.status_code == 200, response.content[:300]
    return response


def test_csv_export_neutralises_a_formula_in_a_product_name(client, manager, volumes):
    client.force_login(manager)
    body = export(client, "kosten", "csv", period="week").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    names = {r[0] for r in rows[1:]}
    assert "'" + INJECTION in names
    assert not any(cell.startswith("=") for r in rows for cell in r)
    assert ["'" + INJECTION, "Balie", "30", "12.0", "360.0"] in rows


def test_xlsx_export_keeps_the_formula_as_text(client, manager, volumes):
    """A spreadsheet has string cells: the name is stored as it is, as text, not as a formula
    (no apostrophe in the cell's text, as the CSV needs)."""
    client.force_login(manager)
    book = openpyxl.load_workbook(io.BytesIO(export(client, "kosten", "xlsx", period="week").content))
    cells = [c for row in book.active.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert {c.data_type for c in cells if c.value == INJECTION} == {"s"}
    assert not any(str(c.value).startswith("'") for c in cells)


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="needs LibreOffice (apt-get install libreoffice-calc-nogui)"
)
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_libreoffice_opens_the_export(client, manager, volumes, tmp_path, fmt):
    client.force_login(manager)
    source = tmp_path / f"kosten.{fmt}"
    source.write_bytes(export(client, "kosten", fmt, period="week").content)
    subprocess.run(  # noqa: S603 - fixed arguments
        [  # noqa: S607 - soffice from PATH, as installed by .ci/run
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    rows = list(
        csv.reader((tmp_path / "out" / "kosten.csv").read_text(encoding="utf-8", errors="replace").splitlines())
    )
    assert rows[0][:3] == ["Product", "Kanaal", "Contacten"]
    # LibreOffice shows the original text, as text: not the link's "klik" (a formula it ran),
    # not an apostrophe in front of it.
    assert [INJECTION, "Balie", "30"] in [r[:3] for r in rows]
    assert not any(cell == "klik" or cell.startswith("'") for r in rows for cell in r)


@pytest.mark.parametrize(
    "name",
    ["kaders", "kadergeschiedenis", "kanaalmix", "balieafspraken", "kosten", "nudges", "nietverschenen", "effecten"],
)
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ods"])
def test_every_table_exports(client, manager, products, name, fmt):
    client.force_login(manager)
    response = export(client, name, fmt)
    assert response["Content-Disposition"].endswith(f'.{fmt}"')


def test_an_unknown_export_is_a_404(client, manager):
    client.force_login(manager)
    assert client.get(reverse("nudges:cockpit-export", kwargs={"name": "geheim", "fmt": "csv"})).status_code == 404
    assert client.get(reverse("nudges:cockpit-export", kwargs={"name": "kosten", "fmt": "exe"})).status_code == 404


# --- pages -----------------------------------------------------------------------------------

PAGES = ["cockpit-frame", "cockpit-channels", "cockpit-cost", "cockpit-nudges", "cockpit-report"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_needs_the_manager_role(client, desk_user, manager, volumes, page):
    url = reverse(f"nudges:{page}")
    assert client.get(url).status_code == 302
    client.force_login(desk_user)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code == 200
    assert b'href="/medewerkers/cockpit/"' in response.content  # the staff navigation


def test_channel_page_shows_chart_summary_and_table(client, manager, volumes):
    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-channels")).content.decode()
    # The chart is an SVG image (pygal's styles apply inside it under the page's CSP), no script.
    [src] = re.findall(
        r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)" alt="Contacten per kanaal per periode"', body
    )
    svg = base64.b64decode(src).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    assert "style=" not in body.replace(src, "")  # no style attribute in the page itself
    assert "45 contacten in deze periode" in body
    assert "géén effect van de nudge" in body


def test_the_chart_is_drawn_again_when_the_rolled_up_figures_change(client, manager, volumes):
    """Drawings are cached per figures: the same figures give the same image, figures changed
    by the roll-up job give a new one, never the cached drawing of the old figures."""
    client.force_login(manager)

    def chart() -> str:
        body = client.get(reverse("nudges:cockpit-channels"), {"period": "week"}).content.decode()
        [src] = re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)"', body)
        return base64.b64decode(src).decode()

    first = chart()
    assert chart() == first
    contacts("internet", 7, days_ago=(timezone.localdate() - volumes).days - 1, prefix="later")
    assert chart() == first  # the page reads the roll-ups, not the contacts
    rollups_refresh(date_from=volumes, date_to=timezone.localdate())
    again = chart()
    assert again != first
    assert ">17<" in again and ">17<" not in first  # internet: 10 + 7 contacts that week


def test_calculator_bad_input_is_shown_next_to_the_field(client, manager, volumes):
    client.force_login(manager)
    response = client.get(reverse("nudges:cockpit-cost"), {"product": "uittreksel-brp", "percent": "250"})
    assert response.status_code == 400
    assert "field--error" in response.content.decode()
    good = client.get(reverse("nudges:cockpit-cost"), {"period": "week", "product": "uittreksel-brp", "percent": "20"})
    assert "6 contacten minder aan de balie" in good.content.decode()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_channel_page_writes_marker_dates_out(client, manager, brp, interventions, online_history, language):
    """Dates are written out as on the rest of the site (7 december 2026 / 7 December 2026),
    not as an abbreviation that looks English in Dutch (7 Dec 2026)."""
    experiment = build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
    )
    day = timezone.localdate() - timedelta(days=10)
    started = timezone.make_aware(datetime.combine(day, time(12)))
    Experiment.objects.filter(pk=experiment.pk).update(started_at=started)
    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-channels"), {"period": "week"}, HTTP_ACCEPT_LANGUAGE=language)
    body = body.content.decode()
    with translation.override(language):
        written, abbreviated = date_format(day, "j F Y"), date_format(day, "j M Y")
    assert f"{written}: start" in body or f"{written}: {translation.gettext('start')}" in body
    assert f"{abbreviated}:" not in body


def test_appointments_per_booking_channel_export(client, manager, volumes):
    """The channel page's second table (appointments per booking channel), with its filter."""
    client.force_login(manager)
    body = export(client, "balieafspraken", "csv", period="week", product="uittreksel-brp").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["Periode vanaf", "Geboekt via", "Product", "Balieafspraken"]
    assert all(r[2] == "uittreksel-brp" for r in rows[1:])


@pytest.mark.parametrize(("language", "start"), [("nl", "start 1"), ("en", "start 1")])
def test_the_chart_marks_where_an_intervention_started(
    client, manager, brp, interventions, online_history, language, start
):
    """The start of an experiment is on the chart itself, under its week, numbered as in the list."""
    build_experiment(
        [brp],
        [
            {"key": "controle", "intervention": None, "weight": 1},
            {"key": "easy", "intervention": interventions["easy"], "weight": 1},
        ],
        name="Directe link",
    )
    day = timezone.localdate() - timedelta(days=10)
    Experiment.objects.update(started_at=timezone.make_aware(datetime.combine(day, time(12))))
    contacts("balie", 3, days_ago=10, product=brp.code)
    contacts("balie", 2, days_ago=30, product=brp.code, prefix="earlier")
    rollups_refresh(date_from=timezone.localdate() - timedelta(days=60), date_to=timezone.localdate())
    client.force_login(manager)
    body = client.get(reverse("nudges:cockpit-channels"), {"period": "week"}, HTTP_ACCEPT_LANGUAGE=language)
    body = body.content.decode()
    [src] = re.findall(r'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)"', body)
    svg = base64.b64decode(src).decode()
    week = day.isocalendar()[1]
    earlier = (timezone.localdate() - timedelta(days=30)).isocalendar()[1]
    with translation.override(language):
        label, other = (translation.gettext("wk %(w)s") % {"w": w} for w in (week, earlier))
    assert f">{label} ({start})<" in svg
    assert f">{other}<" in svg and f"{other} (" not in svg  # only under the week it started in
    assert f"{start} – Directe link" in body  # the list next to the chart, same number
    assert "géén effect van de nudge" in body or "not an effect of the nudge" in body
