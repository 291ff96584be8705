"""Demo staff accounts, one per role, so a newcomer can log in and look around.

Idempotent: running it again repairs the groups and memberships but keeps a password that
was changed since. Never run this in production (``seed_demo`` is for demo databases only).
"""

from __future__ import annotations

import random
from datetime import datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.availability import availability_for_products, local_tz
from booking.constants import Channel
from booking.demo import DEMO_EMAIL_DOMAIN, FIRST_NAMES, LAST_NAMES
from booking.exceptions import BookingError
from booking.models import Appointment, Location, Product
from booking.services import appointment_book

from . import roles
from .selectors import local_day_bounds

DEMO_PASSWORD = "kanaalwijzer-demo"  # noqa: S105 - documented demo password, demo databases only
# The demo Manager and Beheerder need a TOTP code (booking.staff.accounts): their app is set up
# with this published key (RFC 6238's test key), so `manage.py demo_code` can print the current
# code. Demo databases only; a real account sets up its own secret on the enrol page.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_TOTP_DEVICE = "demo"

DEMO_USERS = [
    # username, first name, role, may use the Django admin
    ("balie", "Bente (balie)", roles.DESK_STAFF, False),
    ("kcc", "Karim (KCC)", roles.PHONE_AGENT, False),
    ("planner", "Pim (planner)", roles.PLANNER, False),
    ("manager", "Mila (manager)", roles.MANAGER, False),
    ("beheerder", "Bas (beheerder)", roles.ADMINISTRATOR, True),
]


@transaction.atomic
def seed_staff_users(*, password: str = DEMO_PASSWORD) -> list[str]:
    """Create the role groups and one demo user per role; returns the user names created."""
    groups = roles.roles_ensure()
    user_model = get_user_model()
    created = []
    for username, first_name, role, is_staff in DEMO_USERS:
        user, was_created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": first_name, "email": f"{username}@voorbeeldstad.example"}
        )
        if was_created:
            user.set_password(password)
            created.append(username)
        user.is_staff = is_staff
        user.is_active = True
        user.save()
        user.groups.set([groups[role]])
        if role in settings.STAFF_MFA_REQUIRED_GROUPS:
            TOTPDevice.objects.get_or_create(
                user=user, name=DEMO_TOTP_DEVICE, defaults={"key": DEMO_TOTP_KEY, "confirmed": True}
            )
    return created


def demo_codes() -> dict[str, str]:
    """The current TOTP code of every demo account that has the demo device."""
    devices = TOTPDevice.objects.filter(name=DEMO_TOTP_DEVICE, key=DEMO_TOTP_KEY).select_related("user")
    return {
        device.user.get_username(): f"{totp(device.bin_key, device.step, device.t0, device.digits):0{device.digits}d}"
        for device in devices
    }


def seed_today_appointments(*, share: float = 0.4, rng: random.Random | None = None) -> int:
    """Give today's day board something to show: book about ``share`` of today's times at
    every location through the real booking service (as if booked this morning), unless demo
    appointments for today exist already. Nothing on a day the offices are closed."""
    today = timezone.now().astimezone(local_tz()).date()
    day_start, day_end = local_day_bounds(today)
    if Appointment.objects.filter(
        email__endswith="@" + DEMO_EMAIL_DOMAIN, start__gte=day_start, start__lt=day_end
    ).exists():
        return 0
    rng = rng or random.Random(today.toordinal())  # noqa: S311 - demo data, not security
    morning = datetime.combine(today, time(7), tzinfo=local_tz())
    products = list(Product.objects.filter(is_active=True))
    created = 0
    for location in Location.objects.filter(is_active=True):
        for product in products:
            slots = availability_for_products(
                products=[product],
                persons=1,
                location_id=location.pk,
                date_from=today,
                date_to=today,
                now=morning,
                use_cache=False,
            )
            for slot in rng.sample(slots, k=int(len(slots) * share / max(1, len(products)))):
                try:
                    appointment_book(
                        products=[product],
                        persons=rng.choice([1, 1, 1, 2]),
                        location=location,
                        start=slot.start,
                        name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                        email=f"inwoner{rng.randrange(10**6)}@{DEMO_EMAIL_DOMAIN}",
                        channel=rng.choice([Channel.ONLINE, Channel.ONLINE, Channel.PHONE]),
                        now=morning,
                    )
                    created += 1
                except BookingError:
                    continue  # taken by an earlier demo booking: skip
    return created
