"""Qmatic's JSON, field by field as Open Formulieren's plugin reads it. Times carry their UTC
offset; ids are strings."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from booking.apis.appointments import phone_validator
from booking.availability import appointment_duration

COUNTRY = "Nederland"


@extend_schema_serializer(component_name="QmaticService")
class ServiceSerializer(serializers.Serializer):
    publicId = serializers.CharField(source="code")
    name = serializers.CharField()
    duration = serializers.SerializerMethodField(help_text=_("Minuten voor de eerste persoon (met buffer)."))
    additionalCustomerDuration = serializers.IntegerField(
        source="minutes_per_person", help_text=_("Minuten voor elke volgende persoon.")
    )
    active = serializers.BooleanField(source="is_active")
    publicEnabled = serializers.SerializerMethodField()
    custom = serializers.SerializerMethodField()

    def get_duration(self, product) -> int:
        return int(appointment_duration([product], 1).total_seconds() // 60)

    def get_publicEnabled(self, product) -> bool:
        return True

    def get_custom(self, product) -> str | None:
        return None


@extend_schema_serializer(component_name="QmaticBranch")
class BranchSerializer(serializers.Serializer):
    publicId = serializers.SerializerMethodField()
    name = serializers.CharField()
    addressLine1 = serializers.CharField(source="street")
    addressLine2 = serializers.SerializerMethodField()
    addressCity = serializers.CharField(source="city")
    addressZip = serializers.CharField(source="postcode")
    addressState = serializers.SerializerMethodField()
    addressCountry = serializers.SerializerMethodField()
    timeZone = serializers.SerializerMethodField()

    def get_publicId(self, location) -> str:
        return str(location.pk)

    def get_addressLine2(self, location) -> str:
        return ""

    def get_addressState(self, location) -> str:
        return ""

    def get_addressCountry(self, location) -> str:
        return COUNTRY

    def get_timeZone(self, location) -> str:
        return settings.TIME_ZONE


@extend_schema_serializer(component_name="QmaticMeta")
class MetaSerializer(serializers.Serializer):
    totalResults = serializers.IntegerField()


@extend_schema_serializer(component_name="QmaticServiceList")
class ServiceListSerializer(serializers.Serializer):
    serviceList = ServiceSerializer(many=True)
    meta = MetaSerializer()


@extend_schema_serializer(component_name="QmaticBranchList")
class BranchListSerializer(serializers.Serializer):
    branchList = BranchSerializer(many=True)
    meta = MetaSerializer()


@extend_schema_serializer(component_name="QmaticBranchDetail")
class BranchDetailSerializer(serializers.Serializer):
    branch = BranchSerializer()


@extend_schema_serializer(component_name="QmaticServiceGroup")
class ServiceGroupSerializer(serializers.Serializer):
    """One group: services that can be booked together. The plugin reads ``services[].publicId``."""

    services = ServiceSerializer(many=True)


@extend_schema_serializer(component_name="QmaticBranchServiceGroups")
class BranchServiceGroupsSerializer(serializers.Serializer):
    """v1 ``services/groups`` answers a bare JSON list of these, one per branch; the plugin reads
    ``[*].serviceGroups[*].services[*].publicId``. (v2, for one branch, answers a bare list of
    ``ServiceGroupSerializer``.)"""

    branchPublicId = serializers.CharField()
    branchName = serializers.CharField()
    serviceGroups = ServiceGroupSerializer(many=True)


@extend_schema_serializer(component_name="QmaticDates")
class DatesSerializer(serializers.Serializer):
    dates = serializers.ListField(child=serializers.CharField(), help_text="YYYY-MM-DDT00:00:00")


@extend_schema_serializer(component_name="QmaticTimes")
class TimesSerializer(serializers.Serializer):
    times = serializers.ListField(child=serializers.CharField(), help_text=_("HH:MM met UTC-verschil, bv. 09:00+01:00"))


@extend_schema_serializer(component_name="QmaticCustomerInput")
class CustomerSerializer(serializers.Serializer):
    """Only name, e-mail and phone are kept; anything else (date of birth, externalId, which
    may be a BSN) is read past and never stored."""

    firstName = serializers.CharField(max_length=75, required=False, allow_blank=True, default="")
    lastName = serializers.CharField(max_length=75, required=False, allow_blank=True, default="")
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True, default="", validators=[phone_validator]
    )


@extend_schema_serializer(component_name="QmaticServiceRef")
class ServiceRefSerializer(serializers.Serializer):
    publicId = serializers.CharField(max_length=40)


@extend_schema_serializer(component_name="QmaticBookRequest")
class BookRequestSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    customers = serializers.ListField(child=CustomerSerializer(), min_length=1, max_length=settings.BOOKING_MAX_PERSONS)
    services = serializers.ListField(child=ServiceRefSerializer(), min_length=1, max_length=10)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, allow_null=True)
    numberOfCustomers = serializers.IntegerField(
        min_value=0,
        max_value=settings.BOOKING_MAX_PERSONS - 1,
        required=False,
        help_text=_("Extra personen naast de eerste (Qmatic): afwezig of 0 = 1 persoon, 1 = 2 personen."),
    )


@extend_schema_serializer(component_name="QmaticCustomer")
class CustomerOutputSerializer(serializers.Serializer):
    firstName = serializers.CharField()
    lastName = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()


@extend_schema_serializer(component_name="QmaticAppointment")
class AppointmentSerializer(serializers.Serializer):
    publicId = serializers.CharField(source="reference")
    status = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    created = serializers.DateTimeField(source="created_at")
    updated = serializers.DateTimeField(source="updated_at")
    title = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()
    numberOfCustomers = serializers.SerializerMethodField(
        help_text=_("Extra personen naast de eerste, zoals in de aanvraag: personen - 1.")
    )
    services = ServiceSerializer(source="products", many=True)
    branch = BranchSerializer(source="desk.location")
    customers = serializers.SerializerMethodField()

    def get_numberOfCustomers(self, appointment) -> int:
        return appointment.persons - 1

    def get_title(self, appointment) -> str:
        return ", ".join(p.name for p in appointment.products.all())

    def get_notes(self, appointment) -> str:
        # Not stored (free text may hold personal data we do not need).
        return ""

    @extend_schema_field(CustomerOutputSerializer(many=True))
    def get_customers(self, appointment):
        first, _sep, last = appointment.name.partition(" ")
        customer = {"firstName": first, "lastName": last, "email": appointment.email, "phone": appointment.phone}
        return CustomerOutputSerializer([customer], many=True).data


@extend_schema_serializer(component_name="QmaticAppointmentEnvelope")
class AppointmentEnvelopeSerializer(serializers.Serializer):
    appointment = AppointmentSerializer()


@extend_schema_serializer(component_name="QmaticBookResponse")
class BookResponseSerializer(AppointmentEnvelopeSerializer):
    publicId = serializers.CharField(help_text=_("Ook hier, voor clients die het op het hoogste niveau lezen."))


@extend_schema_serializer(component_name="QmaticError")
class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    # Qmatic-side name; DRF's metaclass takes declared fields out of the class, so this does
    # not shadow Serializer.fields at run time.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
