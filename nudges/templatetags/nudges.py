"""Number formatting for results: percentages, percentage points and p-values.

Rates and differences of counts come in as exact fractions (``ArmResult.rate_exact``,
``Analysis.diff_exact``) and are rounded half up from the exact value; interval bounds are
irrational anyway and come in as floats."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from django import template
from django.utils.formats import number_format as _truncating_number_format

from nudges.experiments.statistics import round_half_up

register = template.Library()


def number_format(value, *, decimal_pos: int) -> str:
    """Django's number_format cuts off extra decimals (66.67 would show as 66,6): round half up
    first (exactly for a Fraction), then format in the active locale."""
    if isinstance(value, Fraction):
        rounded = round_half_up(value, decimal_pos)
    else:
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
def points_size(value) -> str:
    """A size in percentage points, without a sign (a minimal detectable effect)."""
    if value is None:
        return "–"
    return f"{number_format(abs(value) * 100, decimal_pos=1)} pp"


@register.filter
def pvalue(value) -> str:
    """A p-value as a phrase that reads after "p": "0,012" or "< 0,001" (templates write
    "p = {{ x }}" only through ``p_phrase``, never "p = < 0,001")."""
    if value is None:
        return "–"
    if value < 0.001:
        return "< " + number_format(Fraction(1, 1000), decimal_pos=3)
    return number_format(value, decimal_pos=3)


@register.filter
def p_phrase(value) -> str:
    """ "p = 0,012" or "p < 0,001"."""
    if value is None:
        return "–"
    text = pvalue(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


@register.simple_tag
def diff_exact(analysis, arm):
    return analysis.diff_exact(arm)


@register.simple_tag
def arm_verdict(row, arm) -> str:
    """A portfolio variant's verdict in the words the exports use too (one place for them)."""
    from nudges.cockpit.portfolio import arm_verdict_label

    return arm_verdict_label(row, arm)
