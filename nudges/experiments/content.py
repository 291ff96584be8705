"""What a variant shows: its wording with the placeholders filled from live data.

Fees come from the product (and must pass the cost-price rule); the social-norm figure comes
from ``selectors.social_norm``. Nothing here writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from booking.models import Product
from nudges.constants import ContentKind
from nudges.models import Intervention

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class SocialFigure:
    """Share of residents who did a product online in the last ``period_days`` days:
    online completions reported by the online channel over those plus counter visits."""

    online_cases: int
    counter_cases: int
    period_days: int
    since: date
    until: date
    min_cases: int

    @property
    def cases(self) -> int:
        return self.online_cases + self.counter_cases

    @property
    def enough(self) -> bool:
        return self.cases >= self.min_cases and self.cases > 0

    @property
    def share(self) -> float | None:
        return self.online_cases / self.cases if self.cases else None


def fee_problems(product: Product) -> list[str]:
    """Why this product's fees may not be shown side by side (empty: they may). Leges are cost
    recovery: each channel's fee at most its cost price, and online never above the counter."""
    problems = []
    for channel, label in (("online", _("online")), ("counter", _("balie"))):
        fee, cost = product.fee(channel), product.cost(channel)
        if fee is None or cost is None:
            problems.append(
                _("%(product)s: leges en kostprijs %(channel)s moeten bekend zijn.")
                % {"product": product.name_nl, "channel": label}
            )
        elif fee > cost:
            problems.append(
                _("%(product)s: de leges %(channel)s liggen boven de kostprijs.")
                % {"product": product.name_nl, "channel": label}
            )
    online, counter = product.fee_online, product.fee_counter
    if not problems and online is not None and counter is not None and online > counter:
        problems.append(_("%(product)s: online is duurder dan de balie.") % {"product": product.name_nl})
    return problems


def euro(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return "€ " + number_format(amount, decimal_pos=2, use_l10n=True)


def percent(share: float | None) -> str:
    return "" if share is None else f"{round(share * 100)}%"


@dataclass(frozen=True)
class Content:
    kind: str
    principle: str
    headline: str
    message: str
    product: Product
    fee_online: Decimal | None = None
    fee_counter: Decimal | None = None
    figure: SocialFigure | None = None
    fallback: bool = False

    @property
    def discount(self) -> Decimal | None:
        if self.fee_online is None or self.fee_counter is None:
            return None
        return self.fee_counter - self.fee_online

    def as_dict(self) -> dict:
        # A fallback shows no figure (too few cases behind it).
        figure = None if self.fallback else self.figure
        share = figure.share if figure is not None else None
        return {
            "kind": self.kind,
            "principle": self.principle,
            "headline": self.headline,
            "message": self.message,
            "product": self.product.code,
            "requirements": self.product.online_requirements,
            "fees": (
                {
                    "online": str(self.fee_online),
                    "counter": str(self.fee_counter),
                    "discount": str(self.discount),
                }
                if self.kind == ContentKind.DIGITAL_DISCOUNT
                else None
            ),
            "social_norm": (
                {
                    "share": round(share, 4),
                    "online_cases": figure.online_cases,
                    "cases": figure.cases,
                    "period_days": figure.period_days,
                    "since": figure.since.isoformat(),
                    "until": figure.until.isoformat(),
                }
                if figure is not None and share is not None
                else None
            ),
            "fallback": self.fallback,
        }


def placeholders_fill(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def build_content(*, intervention: Intervention, product: Product, figure: SocialFigure | None) -> Content:
    values = {
        "product": product.name,
        "requirements": product.online_requirements,
        "fee_online": euro(product.fee_online),
        "fee_counter": euro(product.fee_counter),
        "discount": euro((product.fee_counter or Decimal(0)) - (product.fee_online or Decimal(0))),
    }
    kind = intervention.kind
    headline, message = intervention.headline, intervention.message
    fallback = False
    if kind == ContentKind.SOCIAL_NORM:
        if figure is not None and figure.enough:
            values.update(
                share=percent(figure.share),
                online_cases=str(figure.online_cases),
                cases=str(figure.cases),
                period_days=str(figure.period_days),
                since=date_format(figure.since, "j F Y"),
                until=date_format(figure.until, "j F Y"),
            )
        else:
            # Too few cases behind the figure: say nothing about others, only how it works.
            fallback = True
            headline = _("U kunt dit ook online regelen")
            message = _("Online: %(requirements)s.") % {"requirements": product.online_requirements}
    fees_shown = kind == ContentKind.DIGITAL_DISCOUNT
    if fees_shown and (product.fee_counter or 0) <= (product.fee_online or 0):
        # No difference to frame as a discount: say so plainly, with both fees still shown.
        headline = _("Online kost het hetzelfde als aan de balie, zonder reis- en wachttijd")
    return Content(
        kind=kind,
        principle=intervention.principle,
        headline=placeholders_fill(headline, values),
        message=placeholders_fill(message, values),
        product=product,
        fee_online=product.fee_online if fees_shown else None,
        fee_counter=product.fee_counter if fees_shown else None,
        figure=figure if kind == ContentKind.SOCIAL_NORM else None,
        fallback=fallback,
    )
