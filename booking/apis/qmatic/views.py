"""The calls Open Formulieren's Qmatic plugin makes, one view per operation. Each reads its
input, calls a selector or booking's services, and answers Qmatic's JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sized
from datetime import UTC, date, datetime, time

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from booking import services
from booking.availability import at_local
from booking.constants import Channel
from booking.exceptions import InvalidRequest

from . import selectors
from .base import TAG, QmaticApiView
from .matrix import parse_matrix, persons_from_additional
from .serializers import (
    AppointmentEnvelopeSerializer,
    AppointmentSerializer,
    BookRequestSerializer,
    BookResponseSerializer,
    BranchDetailSerializer,
    BranchListSerializer,
    BranchSerializer,
    BranchServiceGroupsSerializer,
    DatesSerializer,
    ErrorSerializer,
    ServiceGroupSerializer,
    ServiceListSerializer,
    ServiceSerializer,
    TimesSerializer,
)

BRANCH = OpenApiParameter(
    "branchPublicId", str, OpenApiParameter.PATH, description=_("Vestiging-id (publicId van de branch).")
)
SERVICE = OpenApiParameter("servicePublicId", str, OpenApiParameter.PATH, description=_("Productcode."))
MATRIX = OpenApiParameter(
    "matrix",
    str,
    OpenApiParameter.PATH,
    description=_(
        "Matrixparameters direct na het padsegment: ';servicePublicId=CODE' (herhaalbaar) en "
        "';numberOfCustomers=N' (extra personen naast de eerste, zoals in Qmatic: afwezig of 0 = 1 "
        "persoon, 1 = 2 personen); leeg mag waar ze niet verplicht zijn."
    ),
)
DATE = OpenApiParameter("date", str, OpenApiParameter.PATH, description="YYYY-MM-DD")
TIME = OpenApiParameter(
    "time", str, OpenApiParameter.PATH, description=_("HH:MM lokale tijd, of met UTC-verschil (09:00+01:00).")
)
APPOINTMENT = OpenApiParameter("publicId", str, OpenApiParameter.PATH, description=_("Referentie van de afspraak."))
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    429: ErrorSerializer,
}


def _meta(items: Sized) -> dict:
    return {"totalResults": len(items)}


def _service_list(products) -> Response:
    data = ServiceSerializer(products, many=True).data
    return Response({"serviceList": data, "meta": _meta(data)})


def _branch_list(locations) -> Response:
    data = BranchSerializer(locations, many=True).data
    return Response({"branchList": data, "meta": _meta(data)})


def _group(products) -> dict:
    return {"services": ServiceSerializer(products, many=True).data}


def _parse_day(raw: str) -> date:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(_("Geef de datum als JJJJ-MM-DD."), field="date") from None
    # Far outside any horizon (and away from the calendar's ends, where arithmetic overflows).
    if abs((day - timezone.localdate()).days) > 2 * selectors.MAX_DATES_DAYS:
        raise InvalidRequest(_("Deze datum ligt buiten de periode waarin u kunt boeken."), field="date")
    return day


def _parse_start(day: date, raw: str) -> datetime:
    """The booked instant: ``HH:MM`` is local time at the branch; with an offset it is taken as
    given (the form the times call answers)."""
    try:
        clock = time.fromisoformat(raw)
    except ValueError:
        raise InvalidRequest(_("Geef de tijd als UU:MM."), field="time") from None
    if clock.tzinfo is None:
        return at_local(day, clock)
    return datetime.combine(day, clock).astimezone(UTC)


class ServiceListApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_services",
        summary=_("Diensten (producten)"),
        responses={200: ServiceListSerializer, **ERRORS},
    )
    def get(self, request):
        return _service_list(selectors.services_offered())


class BranchServiceListApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_branch_services",
        summary=_("Diensten van een vestiging"),
        parameters=[BRANCH],
        responses={200: ServiceListSerializer, **ERRORS},
    )
    def get(self, request, branchPublicId):
        return _service_list(selectors.services_offered(branch=selectors.branch_get(branchPublicId)))


class ServiceGroupListApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_service_groups_v1",
        summary=_("Combineerbare diensten per vestiging (v1)"),
        description=_(
            "Een JSON-lijst (zonder omhulsel), één element per vestiging waar één balie alle gevraagde "
            "diensten doet: {branchPublicId, branchName, serviceGroups: [{services}]}, met de diensten "
            "die daar samen met alle gevraagde geboekt kunnen worden (de gevraagde zelf inbegrepen)."
        ),
        parameters=[MATRIX],
        responses={200: BranchServiceGroupsSerializer(many=True), **ERRORS},
    )
    def get(self, request, matrix):
        params = parse_matrix(matrix, request.query_params)
        groups = selectors.service_groups(services=selectors.services_get(params.service_ids))
        return Response(
            [
                {"branchPublicId": str(location.pk), "branchName": location.name, "serviceGroups": [_group(products)]}
                for location, products in groups
            ]
        )


class BranchServiceGroupsApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_service_groups_v2",
        summary=_("Combineerbare diensten op één vestiging (v2)"),
        description=_(
            "Een JSON-lijst (zonder omhulsel) van groepen {services}: hier één groep met de diensten die "
            "op deze vestiging samen met alle gevraagde geboekt kunnen worden; een lege lijst als geen "
            "balie ze allemaal doet."
        ),
        parameters=[BRANCH, MATRIX],
        responses={200: ServiceGroupSerializer(many=True), **ERRORS},
    )
    def get(self, request, branchPublicId, matrix):
        branch = selectors.branch_get(branchPublicId)
        params = parse_matrix(matrix, request.query_params)
        services_ = selectors.services_get(params.service_ids)
        groups = selectors.service_groups(services=services_, branch=branch)
        return Response([_group(products) for _location, products in groups])


class BranchListApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_branches",
        summary=_("Vestigingen"),
        responses={200: BranchListSerializer, **ERRORS},
    )
    def get(self, request):
        return _branch_list(selectors.branches_offered())


class ServiceBranchListApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_service_branches",
        summary=_("Vestigingen voor een dienst"),
        parameters=[SERVICE],
        responses={200: BranchListSerializer, **ERRORS},
    )
    def get(self, request, servicePublicId):
        return _branch_list(selectors.branches_offered(services=selectors.services_get([servicePublicId])))


class BranchDetailApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_branch",
        summary=_("Eén vestiging"),
        parameters=[BRANCH],
        responses={200: BranchDetailSerializer, **ERRORS},
    )
    def get(self, request, branchPublicId):
        return Response({"branch": BranchSerializer(selectors.branch_get(branchPublicId)).data})


class DatesApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_dates",
        summary=_("Dagen met vrije tijden"),
        parameters=[BRANCH, MATRIX],
        responses={200: DatesSerializer, **ERRORS},
    )
    def get(self, request, branchPublicId, matrix):
        branch = selectors.branch_get(branchPublicId)
        params = parse_matrix(matrix, request.query_params)
        days = selectors.free_dates(
            services=selectors.services_get(params.service_ids), persons=params.persons, branch=branch
        )
        return Response({"dates": [f"{day.isoformat()}T00:00:00" for day in days]})


class TimesApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_times",
        summary=_("Vrije tijden op een dag"),
        description=_(
            "Begintijden in lokale tijd mét UTC-verschil ('09:00+01:00'): time.fromisoformat geeft dan "
            "een tijd met tijdzone, welke tijdzone de client zelf ook heeft."
        ),
        parameters=[BRANCH, DATE, MATRIX],
        responses={200: TimesSerializer, **ERRORS},
    )
    def get(self, request, branchPublicId, date, matrix):
        branch = selectors.branch_get(branchPublicId)
        day = _parse_day(date)
        params = parse_matrix(matrix, request.query_params)
        starts = selectors.free_times(
            services=selectors.services_get(params.service_ids), persons=params.persons, branch=branch, day=day
        )
        # Not start.timetz(): a time with a ZoneInfo has no offset of its own and would print naive.
        return Response({"times": [start.isoformat(timespec="minutes")[11:] for start in starts]})


class BookApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_book",
        summary=_("Afspraak boeken"),
        description=_(
            "Boekt via dezelfde dienst als de eigen site (sloten en databaseregel). Aantal personen: het "
            "grootste van numberOfCustomers + 1 (matrix of body; numberOfCustomers telt de extra "
            "personen), het aantal klanten en hoe vaak één dienst herhaald wordt. De eerste klant is het "
            "contact. 409 als de tijd intussen bezet is."
        ),
        parameters=[BRANCH, DATE, TIME, MATRIX],
        request=BookRequestSerializer,
        responses={200: BookResponseSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request, branchPublicId, date, time, matrix):
        branch = selectors.branch_get(branchPublicId)
        start = _parse_start(_parse_day(date), time)
        params = parse_matrix(matrix, request.query_params)
        body = BookRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        service_ids = [entry["publicId"] for entry in data["services"]]
        persons = max(
            params.persons,
            persons_from_additional(data.get("numberOfCustomers") or 0),
            len(data["customers"]),
            max(Counter(service_ids).values()),
        )
        customer = data["customers"][0]
        client = request.auth
        appointment = services.appointment_book(
            products=selectors.services_get(service_ids),
            persons=persons,
            location=branch,
            start=start,
            name=f"{customer['firstName']} {customer['lastName']}".strip()[:150],
            email=customer["email"],
            phone=customer.get("phone") or "",
            channel=Channel.ONLINE,
            source_client=client,
            send_confirmation=client.send_confirmation_emails,
        )
        appointment = selectors.appointment_for_client(public_id=appointment.reference, client=client)
        payload = AppointmentSerializer(appointment).data
        return Response({"appointment": payload, "publicId": payload["publicId"]}, status=status.HTTP_200_OK)


class AppointmentApi(QmaticApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_appointment",
        summary=_("Afspraak lezen"),
        parameters=[APPOINTMENT],
        responses={200: AppointmentEnvelopeSerializer, **ERRORS},
    )
    def get(self, request, publicId):
        appointment = selectors.appointment_for_client(public_id=publicId, client=request.auth)
        return Response({"appointment": AppointmentSerializer(appointment).data})

    @extend_schema(
        tags=[TAG],
        operation_id="qmatic_appointment_cancel",
        summary=_("Afspraak annuleren"),
        description=_("Annuleert via de annuleerdienst; twee keer annuleren is onschuldig (204)."),
        parameters=[APPOINTMENT],
        responses={204: None, 409: ErrorSerializer, **ERRORS},
    )
    def delete(self, request, publicId):
        appointment = selectors.appointment_for_client(public_id=publicId, client=request.auth, include_cancelled=True)
        services.appointment_cancel(appointment=appointment, channel=Channel.ONLINE, client=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
