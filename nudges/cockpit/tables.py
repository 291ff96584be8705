"""The cockpit's tables as plain rows (headers + values), for the exports. The pages render
the same selectors' results in their templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from . import mix, portfolio, selectors


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list]


def _iv(interval) -> list:
    return [None, None, None] if interval is None else [interval.value, interval.low, interval.high]


def frame_table() -> Table:
    rows = [
        [
            r.bound.get_kind_display(),
            r.scope,
            "max" if r.is_maximum else "min",
            r.version.limit,
            r.unit,
            r.value,
            r.detail,
            r.status,
            r.open_breach.started_at.date() if r.open_breach else None,
        ]
        for r in selectors.bound_monitor()
    ]
    headers = [_("Kader"), _("Voor"), _("Soort grens"), _("Grens"), _("Eenheid"), _("Nu"), _("Waar"), _("Status")]
    return Table("kaders", _("Kaders"), [*headers, _("Overschreden sinds")], rows)


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


def cost_table(*, date_from: date, date_to: date) -> Table:
    found = mix.cost_table(date_from=date_from, date_to=date_to)
    rows = []
    for row in found.rows:
        for (_code, name), cell in zip(found.channels, row.cells, strict=True):
            if cell.contacts or cell.cost_price is not None:
                rows.append([row.product_name, name, cell.contacts, cell.cost_price, cell.cost])
    headers = [_("Product"), _("Kanaal"), _("Contacten"), _("Kostprijs per contact"), _("Kosten")]
    return Table("kosten", _("Kosten per product per kanaal"), headers, rows)


def portfolio_table() -> Table:
    rows = []
    for row in portfolio.portfolio_cached():
        for arm in row.arms:
            rows.append(
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
                    *_iv(arm.minutes),
                    *_iv(arm.euros),
                    row.verdict or _("nog geen oordeel"),
                ]
            )
    headers = [
        _("Experiment"),
        _("Producten"),
        _("Variant"),
        _("EAST-principe"),
        _("Moment"),
        _("Status"),
        _("Primaire maat"),
        _("Gepland per groep"),
        _("Bereikt (variant)"),
        _("Bereikt (controle)"),
        _("In de analyse (variant)"),
        _("Effect"),
        _("Effect 95%-BI laag"),
        _("Effect 95%-BI hoog"),
        _("p (Holm)"),
        _("Baliebezoeken per 1.000"),
        _("laag"),
        _("hoog"),
        _("Balieminuten per 1.000"),
        _("laag"),
        _("hoog"),
        _("Euro per 1.000"),
        _("laag"),
        _("hoog"),
        _("Oordeel"),
    ]
    return Table("nudges", _("Wat de nudges opleverden"), headers, rows)
