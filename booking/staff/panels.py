"""Panels other apps add to booking's staff pages, without booking knowing them.

An app registers, in its ``AppConfig.ready``, a template to include on a staff page and a
context function: ``register_panel("phone_book", "x/panel.html", context, "app.perm")``. The
page calls ``panels_for(request, page, **facts)``; each panel whose permission the user has
and whose context function returns a dict (None: nothing to show) is included with that dict
as ``panel``. Pages and their facts:

- ``board``: the desk's day board (``location_id``, ``day``);
- ``phone``: the phone agent's search page;
- ``phone_book``: booking for a caller (``product_ids``: the products asked for, may be empty).

Public: ``register_panel``, ``panels_for``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from .permissions import user_can

logger = logging.getLogger(__name__)

PAGES = ("board", "phone", "phone_book")


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]


_panels: dict[str, list[tuple[str, Callable[..., dict | None], tuple[str, ...]]]] = {page: [] for page in PAGES}


def register_panel(page: str, template: str, context: Callable[..., dict | None], *permissions: str) -> None:
    if page not in _panels:
        raise ValueError(f"Unknown staff page {page!r}")
    if all(existing != template for existing, _ctx, _perms in _panels[page]):
        _panels[page].append((template, context, permissions))


def panels_for(request: HttpRequest, page: str, **facts: Any) -> list[Panel]:
    found = []
    for template, context, permissions in _panels[page]:
        if permissions and not user_can(request.user, *permissions):
            continue
        try:
            data = context(request, **facts)
        except Exception:
            # Another app's panel never breaks the desk or the phone.
            logger.exception("Staff panel %s failed on %s", template, page)
            continue
        if data is not None:
            found.append(Panel(template=template, context=data))
    return found
