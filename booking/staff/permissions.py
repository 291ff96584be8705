"""The one permission check of the staff pages: ``staff_required(*permissions)``.

Anonymous visitors go to the staff login page; a logged-in user without any of the given
permissions gets a 403 page. A citizen's manage token is never a credential here: staff pages
look appointments up by reference and only for users with a staff permission.

Public (other apps' staff pages use these too): ``staff_required``, ``user_can``, ``nav_items``,
``register_nav`` and ``staff_render`` (a page in the staff frame, with the navigation).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from . import roles

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def user_can(user, *permissions: str) -> bool:
    """True when the user is logged in, active and has at least one of the permissions."""
    return bool(user.is_authenticated and user.is_active and any(user.has_perm(p) for p in permissions))


def staff_required(*permissions: str) -> Callable:
    """Decorate a staff view: any one of ``permissions`` gives access (default: any staff role)."""
    permissions = permissions or roles.CUSTOM_PERMISSIONS

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_can(request.user, *permissions):
                return render(request, "staff/forbidden.html", {"nav": nav_items(request.user)}, status=403)
            return view(request, *args, **kwargs)

        return never_cache(wrapped)

    return decorator


NAV: tuple[tuple[str, StrOrPromise, tuple[str, ...]], ...] = (
    ("staff:board", _("Dagbord"), (roles.RUN_DESK,)),
    ("staff:phone", _("Telefoon"), (roles.BOOK_BY_PHONE,)),
    ("staff:schedules", _("Planning"), (roles.PLAN_SCHEDULES,)),
    ("staff:products", _("Producten"), (roles.MANAGE_PRODUCTS,)),
    ("staff:capacity", _("Capaciteit"), (roles.VIEW_CAPACITY,)),
)


_registered_nav: list[tuple[str, StrOrPromise, tuple[str, ...]]] = []


def register_nav(url_name: str, label: StrOrPromise, *permissions: str) -> None:
    """Add another app's staff page to the staff navigation (call from its ``AppConfig.ready``;
    booking never imports the other app)."""
    if all(name != url_name for name, _label, _perms in _registered_nav):
        _registered_nav.append((url_name, label, permissions))


def nav_items(user) -> list[tuple[str, StrOrPromise]]:
    """(url name, label) of the staff pages this user may open."""
    return [(name, label) for name, label, perms in (*NAV, *_registered_nav) if user_can(user, *perms)]


def staff_render(request: HttpRequest, template: str, context: dict | None = None, status: int = 200) -> HttpResponse:
    context = {"nav": nav_items(request.user), **(context or {})}
    return render(request, template, context, status=status)
