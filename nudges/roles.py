"""nudges' permissions on the staff groups: the experiments for Manager and Beheerder
(migration 0002), the outbox and the contact channels in the admin for Beheerder (migrations
0013 and 0024). This repairs
them where groups were made afresh (demo data, tests that empty the database)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

GROUPS_MANAGING_EXPERIMENTS = ("Manager", "Beheerder")
# Looking into the outbox and sending failed rows again (the admin's one action needs "change").
OUTBOX_GROUP = "Beheerder"
OUTBOX_PERMISSIONS = ("view_scheduledmessage", "change_scheduledmessage", "view_deliveryattempt")
# The list of contact channels is data the Beheerder extends in the admin (migration 0024); a
# channel in use is switched off rather than deleted (contacts keep pointing at it).
CHANNEL_PERMISSIONS = ("view_contactchannel", "add_contactchannel", "change_contactchannel")


def nudges_roles_ensure() -> None:
    permission = Permission.objects.get(content_type__app_label="nudges", codename="manage_experiments")
    policy = Permission.objects.get(content_type__app_label="nudges", codename="manage_policy")
    for name in GROUPS_MANAGING_EXPERIMENTS:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(permission, policy)
    outbox, _created = Group.objects.get_or_create(name=OUTBOX_GROUP)
    outbox.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="nudges", codename__in=OUTBOX_PERMISSIONS + CHANNEL_PERMISSIONS
        )
    )


# Desk staff and phone agents register the contacts they handle (nudges.channels).
GROUPS_REGISTERING_CONTACTS = ("Baliemedewerker", "KCC-medewerker", "Beheerder")


def contacts_roles_ensure() -> None:
    permission = Permission.objects.get(content_type__app_label="nudges", codename="register_contacts")
    for name in GROUPS_REGISTERING_CONTACTS:
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(permission)
