"""The cockpit's tables as plain rows (headers + values), for the exports. The pages render
the same selectors' results in their templates."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nudges.constants import Metric

from . import mix, portfolio, selectors
from .constants import FRAME_QUESTIONS, BoundStatus

# The words of the page (status.html), not the stored codes.
STATUS_LABELS = {
    BoundStatus.WITHIN: gettext_lazy("Binnen"),
    BoundStatus.CLOSE: gettext_lazy("Dichtbij"),
    BoundStatus.BREACHED: gettext_lazy("Overschreden"),
    BoundStatus.UNKNOWN: gettext_lazy("Geen gegevens"),
}


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list]


def _iv(interval) -> list:
    return [None, None, None] if interval is None else [interval.value, interval.low, interval.high]


def frame_question(anchor: str) -> tuple[str, Collection[str]] | None:
    """The title and bound kinds of one of the frame page's questions, by its anchor."""
    return next(((str(title), kinds) for a, title, _q, kinds in FRAME_QUESTIONS if a == anchor), None)


def frame_table(*, question: str = "") -> Table:
    """The bounds in force; ``question``: only those of that question's table on the page."""
    found = frame_question(question)
    rows = [
        [
            r.bound.get_kind_display(),
            r.scope,
            _("maximum") if r.is_maximum else _("minimum"),
            r.version.limit,
            r.unit,
            r.value,
            r.detail,
            STATUS_LABELS[BoundStatus(r.status)],
            timezone.localdate(r.open_breach.started_at) if r.open_breach else None,
        ]
        for r in selectors.bound_monitor()
        if found is None or r.bound.kind in found[1]
    ]
    headers = [_("Kader"), _("Voor"), _("Soort grens"), _("Grens"), _("Eenheid"), _("Nu"), _("Waar"), _("Status")]
    return Table("kaders", found[0] if found else _("Kaders"), [*headers, _("Overschreden sinds")], rows)


def history_table() -> Table:
    """Who set which limit when: the frame page's history, newest first."""
    rows = [
        [
            timezone.localtime(v.changed_at).strftime("%Y-%m-%d %H:%M"),
            v.changed_by.get_username() if v.changed_by else None,
            str(v.bound),
            v.limit,
            _("ja") if v.is_active else _("nee"),
            v.note,
        ]
        for v in selectors.bound_history(limit=50)
    ]
    headers = [_("Wanneer"), _("Wie"), _("Kader"), _("Grens"), _("Actief"), _("Toelichting")]
    return Table("kadergeschiedenis", _("Geschiedenis van de kaders"), headers, rows)


def mix_table(*, period: str, date_from: date, date_to: date, product_code: str = "") -> Table:
    found = mix.channel_mix(period=period, date_from=date_from, date_to=date_to, product_code=product_code)
    rows = []
    for p in found.periods:
        total = found.total(p)
        for code, name in found.channels:
            n = found.contacts.get((p, code), 0)
            rows.append([p, name, product_code or _("alle"), n, round(n / total, 4) if total else None])
    headers = [_("Periode vanaf"), _("Kanaal"), _("Product"), _("Contacten"), _("Aandeel")]
    return Table("kanaalmix", _("Kanaalmix"), headers, rows)


def appointments_table(*, period: str, date_from: date, date_to: date, product_code: str = "") -> Table:
    """Counter appointments per period and the channel they were booked through."""
    found = mix.channel_mix(period=period, date_from=date_from, date_to=date_to, product_code=product_code)
    rows = [
        [p, name, product_code or _("alle"), found.appointments.get((p, code), 0)]
        for p in found.periods
        for code, name in found.appointment_channels
    ]
    headers = [_("Periode vanaf"), _("Geboekt via"), _("Product"), _("Balieafspraken")]
    return Table("balieafspraken", _("Balieafspraken per boekingskanaal"), headers, rows)


def cost_table(*, date_from: date, date_to: date) -> Table:
    found = mix.cost_table(date_from=date_from, date_to=date_to)
    rows = []
    for row in found.rows:
        for (_code, name), cell in zip(found.channels, row.cells, strict=True):
            if cell.contacts or cell.cost_price is not None:
                rows.append([row.product_name, name, cell.contacts, cell.cost_price, cell.cost])
    headers = [_("Product"), _("Kanaal"), _("Contacten"), _("Kostprijs per contact"), _("Kosten")]
    return Table("kosten", _("Kosten per product per kanaal"), headers, rows)


def _portfolio(rows: list[portfolio.PortfolioRow], *, name: str, title: str) -> Table:
    found = [
        [
            row.experiment.name,
            ", ".join(row.products),
            arm.key,
            arm.principle,
            row.touchpoint,
            row.status,
            row.metric_label,
            row.planned_per_arm,
            arm.reached,
            row.control_reached,
            arm.n,
            *_iv(arm.effect),
            arm.p_adjusted,
            *_iv(arm.visits),
            row.per_label,
            *_iv(arm.minutes),
            *_iv(arm.euros),
            row.euro_label,
            portfolio.arm_verdict_label(row, arm),
        ]
        for row in rows
        for arm in row.arms
    ]
    headers = [
        _("Experiment"),
        _("Producten"),
        _("Variant"),
        _("EAST-principe"),
        _("Moment"),
        _("Status"),
        _("Maat"),
        _("Gepland per groep"),
        _("Bereikt (variant)"),
        _("Bereikt (controle)"),
        _("In de analyse (variant)"),
        _("Effect"),
        _("Effect 95%-BI laag"),
        _("Effect 95%-BI hoog"),
        _("p (Holm)"),
        _("Per 1.000"),
        _("laag"),
        _("hoog"),
        _("Wat dat getal per 1.000 telt"),
        _("Balieminuten per 1.000"),
        _("laag"),
        _("hoog"),
        _("Euro per 1.000"),
        _("laag"),
        _("hoog"),
        _("Wat die euro’s zijn"),
        _("Oordeel"),
    ]
    return Table(name, title, headers, found)


def portfolio_table() -> Table:
    """Every experiment's effect on its primary measure (the nudges page's main table)."""
    return _portfolio(portfolio.portfolio_cached(), name="nudges", title=_("Wat de nudges opleverden"))


def no_show_table() -> Table:
    """The reminder wordings' effect on no-shows (the nudges page's second table)."""
    rows = portfolio.portfolio_cached(metric_override=Metric.NO_SHOW)
    return _portfolio(rows, name="nietverschenen", title=_("Herinneringen en niet-verschijnen"))


def forest_table() -> Table:
    """The forest plot's data: effect per variant against its control, in percentage points."""
    rows = [
        [name, effect, low, high] for name, effect, low, high in portfolio.forest_rows(portfolio.portfolio_cached())
    ]
    headers = [_("Variant"), _("Effect (procentpunten)"), _("95%-BI laag"), _("95%-BI hoog")]
    return Table("effecten", _("Effect per variant"), headers, rows)
