"""Who may manage experiments: users with ``nudges.manage_experiments`` (the Manager and
Beheerder groups, see migration 0002 and ``roles.nudges_roles_ensure``). Their pages are
staff pages: ``manager_render`` shows them in the staff frame with the staff navigation."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from booking.staff.permissions import nav_items

MANAGE_EXPERIMENTS = "nudges.manage_experiments"


def can_manage(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(MANAGE_EXPERIMENTS))


def manager_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not can_manage(request.user):
            return manager_render(request, "nudges/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def manager_render(request, template: str, context: dict | None = None, *, status: int = 200):
    """Render a manager page in the staff frame (``staff/base.html``) with the staff navigation."""
    return render(request, template, {"nav": nav_items(request.user), **(context or {})}, status=status)
