"""Manager pages of the cockpit, in the staff frame; every page checks ``nudges.manage_policy``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from booking.staff.permissions import staff_render, staff_required
from booking.web import add_domain_error
from nudges.constants import Metric
from nudges.exceptions import NudgeError

from . import charts, exports, mix, portfolio, selectors, services, tables
from .constants import FRAME_QUESTIONS, MANAGE_POLICY, BoundStatus
from .forms import BoundForm, WhatIfForm

cockpit_required = staff_required(MANAGE_POLICY)


@dataclass
class FrameGroup:
    """The bounds that answer one of the manager's questions (``FRAME_QUESTIONS``)."""

    anchor: str
    title: str
    question: str
    rows: list[selectors.BoundRow]

    @property
    def breached_rows(self) -> list[selectors.BoundRow]:
        return [r for r in self.rows if r.status == BoundStatus.BREACHED]

    @property
    def close_rows(self) -> list[selectors.BoundRow]:
        return [r for r in self.rows if r.status == BoundStatus.CLOSE]

    @property
    def breached(self) -> int:
        return len(self.breached_rows)

    @property
    def unknown(self) -> int:
        return sum(r.status == BoundStatus.UNKNOWN for r in self.rows)


PAGES = (
    ("nudges:cockpit-frame", gettext_lazy("Kaders")),
    ("nudges:cockpit-channels", gettext_lazy("Kanaalmix")),
    ("nudges:cockpit-cost", gettext_lazy("Kosten")),
    ("nudges:cockpit-nudges", gettext_lazy("Wat de nudges opleverden")),
    ("nudges:cockpit-report", gettext_lazy("Maandrapport")),
)


def cockpit_render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return staff_render(request, template, {"cockpit_pages": PAGES, **context}, status=status)


@cockpit_required
@require_http_methods(["GET", "POST"])
def frame(request: HttpRequest) -> HttpResponse:
    form = BoundForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.bound_set(user=request.user, **form.cleaned_data)
        except NudgeError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Kader vastgelegd. De nieuwe grens geldt vanaf de volgende meting."))
            return redirect("nudges:cockpit-frame")
    rows = selectors.bound_monitor()
    groups = [
        FrameGroup(anchor, str(title), str(question), [r for r in rows if r.bound.kind in kinds])
        for anchor, title, question, kinds in FRAME_QUESTIONS
    ]
    achieved = portfolio.portfolio_cached()
    return cockpit_render(
        request,
        "nudges/cockpit/frame.html",
        {
            "rows": rows,
            "groups": groups,
            "nudge_summary": portfolio.verdict_summary(achieved),
            "form": form,
            "summary": form.error_summary(),
            "history": selectors.bound_history(limit=50),
            "breached": sum(r.status == BoundStatus.BREACHED for r in rows),
        },
        status=400 if form.is_bound else 200,
    )


@cockpit_required
@require_POST
def measure_now(request: HttpRequest) -> HttpResponse:
    result = services.bounds_check()
    messages.success(request, _("%(n)s kaders gemeten.") % {"n": result.measured})
    return redirect("nudges:cockpit-frame")


# --- channel mix and cost -------------------------------------------------------------------


def _period(request: HttpRequest) -> str:
    return mix.MONTH if request.GET.get("period") == mix.MONTH else mix.WEEK


def _periods_back(period: str) -> int:
    return 6 if period == mix.MONTH else 12


def _label(period: str, start) -> str:
    return date_format(start, "F Y") if period == mix.MONTH else _("wk %(w)s") % {"w": start.isocalendar()[1]}


def _marked(label: str, start, found: mix.ChannelMix) -> str:
    """The period's label on the chart with the interventions that started or stopped in it
    ("wk 12 (start 1, einde 2)"), numbered as in the list next to the chart."""
    marks = [
        (_("start %(n)s") if m.kind == "start" else _("einde %(n)s")) % {"n": m.number}
        for m in found.markers
        if m.period_start(found.period) == start
    ]
    return f"{label} ({', '.join(marks)})" if marks else label


@cockpit_required
@require_GET
def channels(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    products = dict(mix.product_choices())
    product_code = request.GET.get("product", "")
    product_code = product_code if product_code in products else ""
    date_from, date_to = mix.period_range(period=period, periods=_periods_back(period))
    found = mix.channel_mix(period=period, date_from=date_from, date_to=date_to, product_code=product_code)
    labels = [_label(period, p) for p in found.periods]
    chart = charts.stacked_bars(
        label=_("Contacten per kanaal per periode"),
        x_labels=[_marked(label, p, found) for label, p in zip(labels, found.periods, strict=True)],
        series=[(name, [found.contacts.get((p, code), 0) for p in found.periods]) for code, name in found.channels],
        y_title=_("contacten"),
    )
    totals = mix.per_channel_totals(found)
    grand = sum(totals.values())
    top = max(found.channels, key=lambda c: totals.get(c[0], 0), default=None)
    return cockpit_render(
        request,
        "nudges/cockpit/channels.html",
        {
            "mix": found,
            "rows": list(zip(labels, found.rows(), strict=True)),
            "chart": chart,
            "period": period,
            "products": products,
            "product_code": product_code,
            "date_from": date_from,
            "date_to": date_to,
            "grand_total": grand,
            "top_channel": top[1] if top and grand else None,
            "top_share": totals.get(top[0], 0) / grand if top and grand else None,
            "export_query": urlencode({"period": period, "product": product_code}),
        },
    )


def _last_full(period: str) -> tuple:
    today = timezone.localdate()
    if period == mix.MONTH:
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    start = today - timedelta(days=today.weekday() + 7)
    return start, start + timedelta(days=6)


@cockpit_required
@require_GET
def cost(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    date_from, date_to = _last_full(period)
    table = mix.cost_table(date_from=date_from, date_to=date_to)
    form = WhatIfForm(request.GET if "percent" in request.GET else None, products=mix.product_choices())
    what_if = None
    if form.is_bound and form.is_valid():
        what_if = mix.what_if(
            product_code=form.cleaned_data["product"],
            percent=form.cleaned_data["percent"],
            date_from=date_from,
            date_to=date_to,
        )
    shown = [r for r in table.rows if r.contacts]
    chart = charts.stacked_bars(
        label=_("Kosten per product per kanaal"),
        x_labels=[r.product_name for r in shown],
        series=[
            (name, [float(cost) if (cost := r.cells[i].cost) is not None else None for r in shown])
            for i, (_code, name) in enumerate(table.channels)
        ],
        y_title=_("euro"),
    )
    return cockpit_render(
        request,
        "nudges/cockpit/cost.html",
        {
            "table": table,
            "rows": shown,
            "channel_totals": table.channel_totals(),
            "chart": chart,
            "period": period,
            "form": form,
            "summary": form.error_summary(),
            "what_if": what_if,
            "most_expensive": max(shown, key=lambda r: r.cost, default=None),
            "cheaper": mix.cheaper_online(table),
            "export_query": urlencode({"period": period}),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- what the nudges achieved ---------------------------------------------------------------


@cockpit_required
@require_GET
def nudges(request: HttpRequest) -> HttpResponse:
    rows = portfolio.portfolio_cached()
    no_shows = portfolio.portfolio_cached(metric_override=Metric.NO_SHOW)
    forest = portfolio.forest_rows(rows)
    chart = (
        charts.forest(
            label=_("Effect per variant ten opzichte van de eigen controlegroep, met 95%-betrouwbaarheidsinterval"),
            rows=forest,
            x_title=_("verschil met controle (procentpunten)"),
        )
        if forest
        else None
    )
    return cockpit_render(
        request,
        "nudges/cockpit/nudges.html",
        {"rows": rows, "no_shows": no_shows, "forest": forest, "chart": chart, "per": portfolio.PER},
    )


# --- exports and the monthly report ---------------------------------------------------------


def _mix_arguments(request: HttpRequest) -> dict:
    """The channel mix page's period, range and product, as its tables are exported."""
    period = _period(request)
    date_from, date_to = mix.period_range(period=period, periods=_periods_back(period))
    product = request.GET.get("product", "")
    product_code = product if product in dict(mix.product_choices()) else ""
    return {"period": period, "date_from": date_from, "date_to": date_to, "product_code": product_code}


EXPORTS = {
    "kaders": lambda request: tables.frame_table(question=request.GET.get("vraag", "")),
    "kadergeschiedenis": lambda request: tables.history_table(),
    "kanaalmix": lambda request: tables.mix_table(**_mix_arguments(request)),
    "balieafspraken": lambda request: tables.appointments_table(**_mix_arguments(request)),
    "kosten": lambda request: tables.cost_table(
        **dict(zip(("date_from", "date_to"), _last_full(_period(request)), strict=True))
    ),
    "nudges": lambda request: tables.portfolio_table(),
    "nietverschenen": lambda request: tables.no_show_table(),
    "effecten": lambda request: tables.forest_table(),
}


@cockpit_required
@require_GET
def export(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    if name not in EXPORTS or fmt not in exports.FORMATS:
        raise Http404
    table = EXPORTS[name](request)
    return exports.export_response(
        title=table.title,
        headers=table.headers,
        rows=table.rows,
        name=f"{table.name}-{timezone.localdate():%Y-%m-%d}",
        fmt=fmt,
    )


@cockpit_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    date_from, date_to = _last_full(mix.MONTH)
    found = mix.channel_mix(period=mix.WEEK, date_from=date_from, date_to=date_to)
    totals = mix.per_channel_totals(found)
    grand = sum(totals.values())
    cost_table = mix.cost_table(date_from=date_from, date_to=date_to)
    rows = portfolio.portfolio_cached()
    forest = portfolio.forest_rows(rows)
    return cockpit_render(
        request,
        "nudges/cockpit/report.html",
        {
            "date_from": date_from,
            "date_to": date_to,
            "bounds": selectors.bound_monitor(),
            "channel_totals": [
                (name, totals.get(code, 0), totals.get(code, 0) / grand if grand else None)
                for code, name in found.channels
            ],
            "grand_total": grand,
            "cost": cost_table,
            "cost_rows": [r for r in cost_table.rows if r.contacts],
            "portfolio": rows,
            "chart": charts.forest(
                label=_("Effect per variant ten opzichte van de eigen controlegroep"),
                rows=forest,
                x_title=_("procentpunten"),
            )
            if forest
            else None,
            "forest": forest,
        },
    )
