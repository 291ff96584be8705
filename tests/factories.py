"""factory_boy factories for booking. Traits: AppointmentFactory(held=True), (cancelled=True)."""

from datetime import time, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from booking.cleaning import email_key
from booking.constants import AppointmentStatus, Channel
from booking.integrations import integration_client_create
from booking.models import Appointment, Closure, Desk, HolidayOpening, Location, OpeningHours, Product
from booking.services import new_reference, new_token

factory.Faker._DEFAULT_LOCALE = "nl_NL"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Stadskantoor {n}")
    street = factory.Faker("street_address")
    postcode = factory.Faker("postcode")
    city = factory.Faker("city")
    grid_minutes = 10


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"product-{n}")
    name_nl = factory.LazyAttribute(lambda o: o.code.replace("-", " ").capitalize())
    name_en = factory.LazyAttribute(lambda o: o.code.replace("-", " ").title())
    minutes_per_person = 10
    min_notice_minutes = 0
    booking_horizon_days = 120
    fee_counter = Decimal("9.40")
    cost_counter = Decimal("12.00")

    class Params:
        online = factory.Trait(
            fee_online=Decimal("6.90"),
            cost_online=Decimal("7.00"),
            online_url="https://formulieren.example.nl/uittreksel",
            online_requirements_nl="2 minuten met DigiD, direct klaar",
            online_requirements_en="2 minutes with DigiD, ready at once",
        )


class DeskFactory(factory.django.DjangoModelFactory):
    """A desk open Monday–Friday 09:00–17:00 from 2020 on, serving the given products."""

    class Meta:
        model = Desk
        skip_postgeneration_save = True

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Balie {n}")

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)

    @factory.post_generation
    def weekdays(self, create, extracted, **kwargs):
        if not create:
            return
        hours = extracted if extracted is not None else {wd: (time(9), time(17)) for wd in range(5)}
        for weekday, (opens, closes) in hours.items():
            OpeningHours.objects.create(
                desk=self,
                weekday=weekday,
                opens=opens,
                closes=closes,
                valid_from=timezone.localdate().replace(year=2020),
            )


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    desk = factory.SubFactory(DeskFactory, weekdays={})
    weekday = 0
    opens = time(9)
    closes = time(17)
    valid_from = factory.LazyFunction(lambda: timezone.localdate().replace(year=2020))


class ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    location = factory.SubFactory(LocationFactory)
    reason = "Verbouwing"


class HolidayOpeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HolidayOpening

    location = factory.SubFactory(LocationFactory)


class AppointmentFactory(factory.django.DjangoModelFactory):
    """A booked appointment written straight to the database (bypasses the services)."""

    class Meta:
        model = Appointment
        skip_postgeneration_save = True

    desk = factory.SubFactory(DeskFactory)
    start = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0) + timedelta(days=1))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=10))
    persons = 1
    channel = Channel.ONLINE
    status = AppointmentStatus.BOOKED
    reference = factory.LazyFunction(new_reference)
    manage_token = factory.LazyFunction(new_token)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"inwoner{n}@example.nl")
    email_key = factory.LazyAttribute(lambda o: email_key(o.email))

    class Params:
        held = factory.Trait(
            status=AppointmentStatus.HELD,
            name="",
            email="",
            hold_expires_at=factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=10)),
        )
        cancelled = factory.Trait(status=AppointmentStatus.CANCELLED)

    @factory.post_generation
    def products(self, create, extracted, **kwargs):
        if create and extracted:
            self.products.set(extracted)


_client_names = iter(range(1, 10**9))


def integration_token(*scopes: str, send_confirmation_emails: bool = False) -> str:
    """The Bearer token of a fresh integration client (scope ``appointments`` unless given)."""
    _client, token = integration_client_create(
        name=f"Koppeling {next(_client_names)}",
        scopes=scopes or ("appointments",),
        send_confirmation_emails=send_confirmation_emails,
    )
    return token
