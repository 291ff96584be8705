"""Number formatting for results: percentages, percentage points and p-values."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format as _truncating_number_format

register = template.Library()


def number_format(value, *, decimal_pos: int) -> str:
    """Django's number_format cuts off extra decimals (66.67 would show as 66,6): round half up
    first, then format in the active locale."""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimal_pos), rounding=ROUND_HALF_UP)
    return _truncating_number_format(rounded, decimal_pos=decimal_pos)


@register.filter
def pct(value) -> str:
    if value is None:
        return "–"
    return number_format(value * 100, decimal_pos=1) + "%"


@register.filter
def points(value) -> str:
    """A difference of proportions in percentage points, with its sign."""
    if value is None:
        return "–"
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return f"{sign}{number_format(abs(value) * 100, decimal_pos=1)} pp"


@register.filter
def pvalue(value) -> str:
    if value is None:
        return "–"
    if value < 0.001:
        return "< 0,001" if number_format(0.5, decimal_pos=1) == "0,5" else "< 0.001"
    return number_format(value, decimal_pos=3)
