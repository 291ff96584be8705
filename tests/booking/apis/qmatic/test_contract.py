"""The facade as Open Formulieren's Qmatic plugin calls it: every path and matrix parameter it
sends, every field it reads in the type it parses (through ``tests.qmatic_plugin``, requests
against the live server), and the answers it gets when something is wrong (4xx JSON)."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from booking.availability import availability_for_products
from booking.constants import AppointmentAction, AppointmentStatus, Channel
from booking.integrations import integration_client_create, register_scope
from booking.models import Appointment, AppointmentEvent
from tests.qmatic_plugin import QmaticPlugin

from .conftest import PREFIX, working_day

pytestmark = pytest.mark.django_db(transaction=True)
AMS = ZoneInfo("Europe/Amsterdam")


def ids(entries):
    return sorted(entry["publicId"] for entry in entries)


def customer(n=0, **extra):
    return {
        "firstName": "Jan",
        "lastName": f"Jansen {n}",
        "email": f"jan{n}@example.nl",
        "phone": "0612345678",
        **extra,
    }


def test_services_with_every_field_the_plugin_reads(plugin, town):
    services = plugin.products()
    assert ids(services) == ["id-kaart", "paspoort", "rijbewijs", "uittreksel"]  # no desk / inactive: absent
    paspoort = next(s for s in services if s["publicId"] == "paspoort")
    assert paspoort == {
        "publicId": "paspoort",
        "name": "Paspoort",
        "duration": 15,  # first person, with the buffer
        "additionalCustomerDuration": 10,
        "active": True,
        "publicEnabled": True,
        "custom": None,
    }
    for service in services:
        assert isinstance(service["duration"], int) and isinstance(service["additionalCustomerDuration"], int)


def test_services_of_one_branch(plugin, town):
    assert ids(plugin.products(str(town["noord"].pk))) == ["paspoort", "uittreksel"]
    assert ids(plugin.products(str(town["stadhuis"].pk))) == ["id-kaart", "paspoort", "rijbewijs", "uittreksel"]


SERVICE_KEYS = {"publicId", "name", "duration", "additionalCustomerDuration", "active", "publicEnabled", "custom"}


def get_json(api_root, forms_client, path):
    response = requests.get(api_root + path, headers={"Authorization": f"Bearer {forms_client.token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def assert_service_group(group):
    """What the plugin's ServiceGroupDict is: {"services": [ServiceDict]}; it reads services[].publicId."""
    assert set(group) == {"services"} and isinstance(group["services"], list)
    for service in group["services"]:
        assert set(service) == SERVICE_KEYS
        assert isinstance(service["publicId"], str) and isinstance(service["name"], str)
        assert isinstance(service["duration"], int) and isinstance(service["additionalCustomerDuration"], int)


def test_service_groups_v1_are_a_bare_list_of_branches_with_their_groups(plugin, api_root, forms_client, town):
    """Open Formulieren's client: ``branches = response.json()`` and
    ``sum((branch["serviceGroups"] for branch in branches), [])``."""
    stadhuis, noord = str(town["stadhuis"].pk), str(town["noord"].pk)
    body = get_json(api_root, forms_client, "v1/services/groups;servicePublicId=paspoort")
    assert isinstance(body, list) and len(body) == 2
    for branch in body:
        assert set(branch) == {"branchPublicId", "branchName", "serviceGroups"}
        assert isinstance(branch["branchPublicId"], str) and isinstance(branch["branchName"], str)
        assert isinstance(branch["serviceGroups"], list) and len(branch["serviceGroups"]) == 1
        for group in branch["serviceGroups"]:
            assert_service_group(group)
    groups = {b["branchPublicId"]: (b["branchName"], ids(b["serviceGroups"][0]["services"])) for b in body}
    assert groups == {
        stadhuis: ("Stadhuis", ["id-kaart", "paspoort", "rijbewijs"]),
        noord: ("Noord", ["paspoort", "uittreksel"]),
    }
    assert (
        get_json(api_root, forms_client, "v1/services/groups;servicePublicId=id-kaart;servicePublicId=uittreksel") == []
    )
    # Through the plugin: every group of every branch counts.
    assert ids(plugin.products_combinable(["paspoort"])) == ["id-kaart", "paspoort", "rijbewijs", "uittreksel"]
    # Two products: only where one desk serves both (desk A), and only what A also serves.
    assert ids(plugin.products_combinable(["paspoort", "rijbewijs"])) == ["id-kaart", "paspoort", "rijbewijs"]
    assert plugin.products_combinable(["id-kaart", "uittreksel"]) == []


def test_service_groups_v2_are_a_bare_list_of_groups(plugin, api_root, forms_client, town):
    """Open Formulieren's client returns ``response.json()`` as the list of groups."""
    noord = str(town["noord"].pk)
    body = get_json(api_root, forms_client, f"v2/branches/{noord}/services/groups;servicePublicId=paspoort")
    assert isinstance(body, list) and len(body) == 1
    assert_service_group(body[0])
    assert ids(body[0]["services"]) == ["paspoort", "uittreksel"]
    assert get_json(api_root, forms_client, f"v2/branches/{noord}/services/groups;servicePublicId=rijbewijs") == []
    assert ids(plugin.products_combinable(["paspoort"], noord)) == ["paspoort", "uittreksel"]
    assert plugin.products_combinable(["rijbewijs"], noord) == []
    stadhuis = str(town["stadhuis"].pk)
    assert ids(plugin.products_combinable(["uittreksel"], stadhuis)) == ["rijbewijs", "uittreksel"]


def test_branches_with_address_and_time_zone(plugin, town):
    branches = plugin.locations()
    assert [b["name"] for b in branches] == ["Noord", "Stadhuis"]
    stadhuis = next(b for b in branches if b["name"] == "Stadhuis")
    assert stadhuis == {
        "publicId": str(town["stadhuis"].pk),
        "name": "Stadhuis",
        "addressLine1": "Markt 1",
        "addressLine2": "",
        "addressCity": "Voorbeeldstad",
        "addressZip": "1234 AB",
        "addressState": "",
        "addressCountry": "Nederland",
        "timeZone": "Europe/Amsterdam",
    }
    assert plugin.location(str(town["noord"].pk))["addressZip"] == "1235 CD"
    # The branch filter: where a desk serves the product (the plugin asks for the first product only).
    assert [b["name"] for b in plugin.locations(["id-kaart"])] == ["Stadhuis"]
    assert [b["name"] for b in plugin.locations(["paspoort"])] == ["Noord", "Stadhuis"]
    assert [b["name"] for b in plugin.locations(["rijbewijs", "uittreksel"])] == ["Stadhuis"]


def test_dates_and_times_are_what_the_engine_offers_for_several_products_and_persons(
    plugin, api_root, forms_client, town
):
    branch, products = town["stadhuis"], [town["products"]["paspoort"], town["products"]["id-kaart"]]
    day = working_day()
    raw = get_json(api_root, forms_client, f"v2/branches/{branch.pk}/dates/{day}/times;servicePublicId=paspoort")
    assert set(raw) == {"times"} and isinstance(raw["times"], list)
    assert raw["times"] and all(re.fullmatch(r"\d\d:\d\d[+-]\d\d:\d\d", t) for t in raw["times"]), raw
    dates_raw = get_json(api_root, forms_client, f"v2/branches/{branch.pk}/dates;servicePublicId=paspoort")
    assert set(dates_raw) == {"dates"} and isinstance(dates_raw["dates"], list)
    assert f"{day.isoformat()}T00:00:00" in dates_raw["dates"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", d) for d in dates_raw["dates"])
    dates = plugin.dates(str(branch.pk), ["paspoort", "id-kaart"], customers=2)
    assert day in dates and all(d.weekday() < 5 for d in dates[:20])
    times = plugin.times(str(branch.pk), ["paspoort", "id-kaart"], day, customers=2)
    slots = availability_for_products(products=products, persons=2, location_id=branch.pk, date_from=day, date_to=day)
    assert times == [s.start for s in slots]
    # 2 persons × (10 + 10) + 5 minutes buffer = 45 minutes: the last start is 16:10.
    assert times[0] == datetime.combine(day, time(9), tzinfo=AMS)
    assert times[-1] == datetime.combine(day, time(16, 10), tzinfo=AMS)


def test_book_read_and_cancel_with_two_customers_and_two_services(plugin, forms_client, town):
    branch = str(town["stadhuis"].pk)
    day = working_day()
    start = plugin.times(branch, ["paspoort", "id-kaart"], day, customers=2)[3]
    contact = customer(1, dateOfBirth="1980-01-01", externalId="123456782")

    public_id = plugin.book(branch, ["paspoort", "id-kaart"], start, contact, customers=2, notes="Graag rolstoel")

    appointment = Appointment.objects.get()
    assert public_id == appointment.reference
    assert public_id != str(appointment.pk) and public_id not in appointment.manage_token
    assert (appointment.start, appointment.persons, appointment.channel) == (start, 2, Channel.ONLINE)
    assert appointment.end - appointment.start == timedelta(minutes=45)
    assert appointment.desk == town["desks"]["A"]
    assert (appointment.name, appointment.email, appointment.phone) == ("Jan Jansen 1", "jan1@example.nl", "0612345678")
    assert appointment.source_client == forms_client
    assert "123456782" not in str(Appointment.objects.filter(pk=appointment.pk).values().get())  # never a BSN
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert (event.action, event.client, event.channel) == (AppointmentAction.BOOKED, forms_client, Channel.ONLINE)

    details = plugin.details(public_id)
    assert details["start_at"] == start and details["end_at"] == start + timedelta(minutes=45)
    assert details["start"].endswith("+01:00") or details["start"].endswith("+02:00")
    assert ids(details["services"]) == ["id-kaart", "paspoort"]
    assert details["branch"]["publicId"] == branch and details["branch"]["addressZip"] == "1234 AB"
    assert details["notes"] == "" and details["numberOfCustomers"] == 1  # Qmatic's meaning: the additional ones
    assert details["customers"][0]["email"] == "jan1@example.nl"

    plugin.cancel(public_id)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert AppointmentEvent.objects.filter(appointment=appointment, action="cancelled", client=forms_client).exists()
    plugin.cancel(public_id)  # twice is harmless
    with pytest.raises(requests.HTTPError) as exc:
        plugin.details(public_id)
    assert exc.value.response.status_code == 404
    # The freed time is offered again.
    assert start in plugin.times(branch, ["paspoort", "id-kaart"], day, customers=2)


def test_the_plugin_sends_the_additional_customers_only_for_more_than_one_person():
    assert QmaticPlugin._matrix(["uittreksel"], 1) == ";servicePublicId=uittreksel"
    assert QmaticPlugin._matrix(["uittreksel"], 2) == ";servicePublicId=uittreksel;numberOfCustomers=1"
    assert QmaticPlugin._matrix(["a", "b"], 3) == ";servicePublicId=a;servicePublicId=b;numberOfCustomers=2"


def test_number_of_customers_counts_the_persons_besides_the_first(api_root, forms_client, town):
    """Absent or 0 is one person, 1 is two persons, 2 is three (Qmatic's additional customers).
    Paspoort takes 10 minutes a person plus 5 buffer, on a 10-minute grid, until 17:00."""
    branch, day = town["noord"], working_day()
    paspoort = town["products"]["paspoort"]

    def times(matrix):
        entries = get_json(api_root, forms_client, f"v2/branches/{branch.pk}/dates/{day}/times{matrix}")["times"]
        return [datetime.combine(day, time.fromisoformat(entry)) for entry in entries]

    def ours(persons):
        slots = availability_for_products(
            products=[paspoort], persons=persons, location_id=branch.pk, date_from=day, date_to=day
        )
        return [s.start for s in slots]

    def at(hour, minute):
        return datetime.combine(day, time(hour, minute), tzinfo=AMS)

    absent = times(";servicePublicId=paspoort")
    assert absent == ours(1) and absent[-1] == at(16, 40)  # 15 minutes
    assert times(";servicePublicId=paspoort;numberOfCustomers=0") == absent
    two = times(";servicePublicId=paspoort;numberOfCustomers=1")
    assert two == ours(2) and two[-1] == at(16, 30)  # 25 minutes
    three = times(";servicePublicId=paspoort;numberOfCustomers=2")
    assert three == ours(3) and three[-1] == at(16, 20)  # 35 minutes
    # Dates too (and the maximum: BOOKING_MAX_PERSONS - 1 additional customers).
    path = f"v2/branches/{branch.pk}/dates;servicePublicId=paspoort;numberOfCustomers=5"
    assert day.isoformat() + "T00:00:00" in get_json(api_root, forms_client, path)["dates"]


def test_three_persons_book_the_last_time_offered_for_three(plugin, forms_client, town):
    """The plugin asks for times with numberOfCustomers=2 and books with three customers: the
    latest time it is offered is exactly long enough for three persons, and the booking holds."""
    branch, day = str(town["noord"].pk), working_day()
    offered = plugin.times(branch, ["paspoort"], day, customers=3)
    assert day in plugin.dates(branch, ["paspoort"], customers=3)
    start = offered[-1]
    assert start == datetime.combine(day, time(16, 20), tzinfo=AMS)  # 3 × 10 + 5 minutes fit before 17:00

    public_id = plugin.book(branch, ["paspoort"], start, customer(3), customers=3)

    appointment = Appointment.objects.get(reference=public_id)
    assert (appointment.start, appointment.persons) == (start, 3)
    assert appointment.end == start + timedelta(minutes=35)
    assert appointment.source_client == forms_client
    details = plugin.details(public_id)
    assert details["numberOfCustomers"] == 2 and details["end_at"] == appointment.end
    assert start not in plugin.times(branch, ["paspoort"], day, customers=3)


def test_a_time_taken_meanwhile_is_a_clean_409(plugin, town):
    branch, day = str(town["noord"].pk), working_day()
    start = plugin.times(branch, ["paspoort"], day)[0]
    plugin.book(branch, ["paspoort"], start, customer(1, firstName="A" * 75, lastName="B" * 75))
    assert len(Appointment.objects.get().name) == 150  # the longest names fit
    with pytest.raises(requests.HTTPError) as exc:
        plugin.book(branch, ["paspoort"], start, customer(2))
    assert exc.value.response.status_code == 409
    assert exc.value.response.json()["code"] == "slot_unavailable"
    assert Appointment.objects.count() == 1


def test_a_client_sees_and_cancels_only_its_own_appointments(plugin, api_root, town):
    branch, day = str(town["noord"].pk), working_day()
    public_id = plugin.book(branch, ["paspoort"], plugin.times(branch, ["paspoort"], day)[0], customer())
    _other, token = integration_client_create(name="Ander formulier", scopes=["appointments"])
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(api_root + f"v1/appointments/{public_id}", headers=headers, timeout=10).status_code == 404
    assert requests.delete(api_root + f"v1/appointments/{public_id}", headers=headers, timeout=10).status_code == 404
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


BAD_REQUESTS = [
    ("get", "v1/unknown", None, 404),
    ("get", "v2/branches/{noord}/dates/2027-02-30/times;servicePublicId=paspoort", None, 400),
    ("get", "v2/branches/{noord}/dates;servicePublicId", None, 400),
    ("get", "v2/branches/{noord}/dates;servicePublicId=paspoort;numberOfCustomers=twee", None, 400),
    ("get", "v2/branches/{noord}/dates;servicePublicId=paspoort;numberOfCustomers=99", None, 400),
    ("get", "v2/branches/{noord}/dates;servicePublicId=paspoort;numberOfCustomers=6", None, 400),  # 7 persons
    ("get", "v2/branches/{noord}/dates;servicePublicId=paspoort;numberOfCustomers=-1", None, 400),
    ("get", "v2/branches/{noord}/dates", None, 400),
    ("get", "v2/branches/{noord}/datesXYZ", None, 400),
    ("get", "v2/branches/{noord}/dates;servicePublicId=bestaat-niet", None, 404),
    ("get", "v2/branches/999999/dates;servicePublicId=paspoort", None, 404),
    ("get", "v1/branches/niet-een-id", None, 404),
    ("get", "v1/services/bestaat-niet/branches", None, 404),
    (
        "get",
        "v1/services/groups;servicePublicId=a;servicePublicId=b;servicePublicId=c"
        ";servicePublicId=d;servicePublicId=e;servicePublicId=f",
        None,
        400,
    ),
    ("post", "v2/branches/{noord}/dates/{day}/times/25:00/book", {}, 400),
    ("post", "v2/branches/{noord}/dates/{day}/times/09:00/book", {"customers": []}, 400),
    ("post", "v2/branches/{noord}/dates/{day}/times/09:00/book", "not json", 400),
    (
        "post",
        "v2/branches/{noord}/dates/{day}/times/09:03/book",
        {"customers": [{"firstName": "A", "email": "a@example.nl"}], "services": [{"publicId": "paspoort"}]},
        400,
    ),
    (
        "post",
        "v2/branches/{noord}/dates/{day}/times/09:00/book",
        {"customers": [{"firstName": "A"}], "services": [{"publicId": "paspoort"}]},
        400,
    ),
    (
        "post",
        "v2/branches/{noord}/dates/2020-01-06/times/09:00/book",
        {"customers": [{"firstName": "A", "email": "a@example.nl"}], "services": [{"publicId": "paspoort"}]},
        400,
    ),
    ("delete", "v1/appointments/ONBEKEND", None, 404),
    ("put", "v1/appointments/ONBEKEND", None, 405),
]


def test_bad_requests_get_a_4xx_with_a_json_body(api_root, forms_client, town):
    for method, path, body, expected in BAD_REQUESTS:
        url = api_root + path.format(noord=town["noord"].pk, day=working_day().isoformat())
        kwargs = {"headers": {"Authorization": f"Bearer {forms_client.token}"}, "timeout": 10}
        if isinstance(body, str):
            kwargs["data"], kwargs["headers"]["Content-Type"] = body, "application/json"
        elif body is not None:
            kwargs["json"] = body
        response = getattr(requests, method)(url, **kwargs)
        assert response.status_code == expected, (path, response.text)
        assert response.headers["Content-Type"].startswith("application/json"), path
        assert response.json()["code"] and isinstance(response.json()["detail"], str), path


def test_only_clients_with_the_appointments_scope_get_in(live_server, town):
    url = live_server.url + PREFIX + "v1/services"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer fout"}, timeout=10).status_code == 401
    register_scope("contacts-test", "Contacten (test)")
    _client, token = integration_client_create(name="KCC", scopes=["contacts-test"])
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_requests_are_throttled_per_client(api_root, forms_client, town):
    forms_client.requests_per_minute = 3
    forms_client.save()
    _other, other_token = integration_client_create(name="Ander", scopes=["appointments"])

    def status(token):
        return requests.get(api_root + "v1/branches", headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert [status(forms_client.token).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert status(forms_client.token).json()["code"] == "throttled"
    assert status(other_token).status_code == 200  # another client has its own budget
