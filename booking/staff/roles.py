"""Staff roles: one Django group per role, with the booking permissions it needs.

The data migration ``booking/0003_staff_roles`` creates these groups from a frozen copy of
this table; ``roles_ensure`` (used by ``seed_demo`` and the tests) creates or repairs them
from this module. A test checks the two agree.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

RUN_DESK = "booking.run_desk"
BOOK_BY_PHONE = "booking.book_by_phone"
PLAN_SCHEDULES = "booking.plan_schedules"
MANAGE_PRODUCTS = "booking.manage_products"
VIEW_CAPACITY = "booking.view_capacity"
CUSTOM_PERMISSIONS = (RUN_DESK, BOOK_BY_PHONE, PLAN_SCHEDULES, MANAGE_PRODUCTS, VIEW_CAPACITY)

DESK_STAFF = "Baliemedewerker"
PHONE_AGENT = "KCC-medewerker"
PLANNER = "Planner"
MANAGER = "Manager"
ADMINISTRATOR = "Beheerder"

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    DESK_STAFF: (RUN_DESK,),
    PHONE_AGENT: (BOOK_BY_PHONE,),
    PLANNER: (PLAN_SCHEDULES, MANAGE_PRODUCTS, VIEW_CAPACITY),
    MANAGER: (MANAGE_PRODUCTS, VIEW_CAPACITY),
    ADMINISTRATOR: CUSTOM_PERMISSIONS,
}
# The administrator also gets every model permission of these apps (the Django admin). Never
# "auth": only superusers change users, groups or permissions (a Beheerder could otherwise
# make itself superuser); migration 0006 takes them away where 0003 gave them.
ADMINISTRATOR_MODEL_APPS = ("booking",)


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


@transaction.atomic
def roles_ensure() -> dict[str, Group]:
    """Create the role groups (or repair their permissions); idempotent."""
    groups = {}
    for name, permission_names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(permission_names))
        groups[name] = group
    groups[ADMINISTRATOR].permissions.add(
        *Permission.objects.filter(content_type__app_label__in=ADMINISTRATOR_MODEL_APPS)
    )
    for group in groups.values():
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="auth"))
    return groups
