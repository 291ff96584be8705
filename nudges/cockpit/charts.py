"""Charts of the cockpit, drawn on the server as SVG with pygal (no JavaScript: pygal's
optional script and its configuration block are left out). Every chart is shown in a
``<figure>`` with a text summary and its data table next to it (templates), so the SVG itself
is one labelled image for screen readers.

The SVG is an ``<img>`` with a ``data:`` address, not inline markup: pygal styles its drawing
with a ``<style>`` element and ``style`` attributes, which the Content-Security-Policy
(``style-src 'self'``) refuses in the page but which apply inside an image (``img-src`` allows
``data:``; an SVG image runs no script).

Drawing costs pygal a tenth of a second or more per chart, so each drawing is cached under a
digest of everything it is drawn from: the same figures (the roll-ups change every
``COCKPIT_ROLLUP_MINUTES``) give the cached image, other figures a new one."""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import ParamSpec

import pygal
from django.core.cache import cache
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

# High-contrast colours, distinguishable for the common colour-vision deficiencies
# (Okabe–Ito), darkened where needed for 3:1 against white.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#8A6D00", "#56B4E9", "#000000", "#E69F00")
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#6b6b6b",
    colors=COLOURS,
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=16,
    value_font_size=12,
)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
CACHE_SECONDS = 3600
P = ParamSpec("P")


def _cached(draw: Callable[P, SafeString]) -> Callable[P, SafeString]:
    """The drawing from the cache when the same chart was drawn from the same figures before."""

    @functools.wraps(draw)
    def cached(*args: P.args, **kwargs: P.kwargs) -> SafeString:
        given = repr((draw.__name__, args, sorted(kwargs.items())))
        key = f"cockpit:chart:{hashlib.sha256(given.encode()).hexdigest()}"
        image = cache.get(key)
        if image is None:
            image = str(draw(*args, **kwargs))
            cache.set(key, image, timeout=CACHE_SECONDS)
        return mark_safe(image)  # noqa: S308 - an image built by _svg, which escapes the label

    return cached


def _config(**extra) -> dict:
    return {
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "width": 800,
        "height": 400,
        "legend_at_bottom": True,
        "truncate_legend": -1,
        "print_values": False,
        **extra,
    }


def _svg(chart, label: str) -> SafeString:
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    width, height = chart.config.width, chart.config.height
    # One image with a name; the data table next to it carries the figures.
    return mark_safe(  # noqa: S308 - base64 of pygal's markup; the label is escaped
        f'<img class="chart" src="data:image/svg+xml;base64,{encoded}" alt="{escape(label)}" '
        f'width="{width}" height="{height}">'
    )


@_cached
def stacked_bars(
    *, label: str, x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], y_title: str = ""
) -> SafeString:
    chart = pygal.StackedBar(**_config(x_label_rotation=30, y_title=y_title))
    chart.x_labels = list(x_labels)
    for name, values in series:
        chart.add(name, list(values))
    return _svg(chart, label)


@_cached
def lines(
    *, label: str, x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], y_title: str = ""
) -> SafeString:
    chart = pygal.Line(**_config(x_label_rotation=30, y_title=y_title, allow_interruptions=True))
    chart.x_labels = list(x_labels)
    for name, values in series:
        chart.add(name, list(values))
    return _svg(chart, label)


@_cached
def forest(*, label: str, rows: Sequence[tuple[str, float, float, float]], x_title: str) -> SafeString:
    """A forest plot: per row its effect (a dot) and its 95% interval (a line), and the line of
    no effect at zero. ``rows``: (name, effect, low, high), top to bottom."""
    n = len(rows)
    chart = pygal.XY(
        **_config(
            height=max(200, 70 + 40 * n),
            show_legend=False,
            x_title=x_title,
            stroke=True,
            dots_size=5,
            show_y_guides=False,
            range=(-0.5, n - 0.5),
            y_labels=[{"label": name, "value": n - 1 - i} for i, (name, *_r) in enumerate(rows)],
        )
    )
    chart.add("0", [(0, -0.5), (0, n - 0.5)], stroke_style={"dasharray": "4,4"}, show_dots=False)
    for i, (name, effect, low, high) in enumerate(rows):
        y = n - 1 - i
        chart.add(name, [(low, y), (effect, y), (high, y)], stroke_style={"width": 3})
    return _svg(chart, label)
