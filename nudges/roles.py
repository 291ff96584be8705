"""The manager permission on the staff groups. Migration 0002 grants it; this repairs it
where groups were made afresh (demo data, tests that empty the database)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

GROUPS_MANAGING_EXPERIMENTS = ("Manager", "Beheerder")


def nudges_roles_ensure() -> None:
    permission = Permission.objects.get(content_type__app_label="nudges", codename="manage_experiments")
    policy = Permission.objects.get(content_type__app_label="nudges", codename="manage_policy")
    for name in GROUPS_MANAGING_EXPERIMENTS:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(permission, policy)


# Desk staff and phone agents register the contacts they handle (nudges.channels).
GROUPS_REGISTERING_CONTACTS = ("Baliemedewerker", "KCC-medewerker", "Beheerder")


def contacts_roles_ensure() -> None:
    permission = Permission.objects.get(content_type__app_label="nudges", codename="register_contacts")
    for name in GROUPS_REGISTERING_CONTACTS:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)
