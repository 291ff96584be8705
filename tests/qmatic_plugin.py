"""A stand-in for Open Formulieren's Qmatic appointment plugin (``openforms.appointments.contrib.
qmatic``: ``client.py`` and ``plugin.py``): the same calls (requests on a base URL, relative paths
with matrix parameters), ``raise_for_status()`` and ``.json()``, and the same parsing of what comes
back. Like the plugin:

- ``numberOfCustomers`` is sent as ``N - 1`` for N persons, and only when N > 1;
- service groups are read as bare lists: v1 a list of branches, each with
  ``serviceGroups[*].services``; v2 a list of groups with ``services``; the services offered are
  the active, public ones whose ``publicId`` is in those groups;
- locations for products use only the first product, and only branches with a postcode;
- a booking repeats the one customer N times, names each service once, and reads the top-level
  ``publicId`` of the answer.

Nothing Django in here: it also runs as a script in a subprocess with another process time
zone (``TZ=UTC``), like Open Formulieren in its container.

Script use: a JSON command on stdin, the JSON answer on stdout (see ``main``).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import requests


class QmaticPlugin:
    def __init__(self, api_root: str, token: str):
        self.api_root = api_root.rstrip("/") + "/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _get(self, path: str):
        response = self.session.get(self.api_root + path, timeout=30)
        response.raise_for_status()
        return response.json()

    @staticmethod
    def _matrix(product_ids, customers: int = 1) -> str:
        """``customers`` is the total number of persons; Qmatic takes the additional ones."""
        assert customers > 0, "need at least one customer"
        params = [f"servicePublicId={pid}" for pid in product_ids]
        if customers > 1:
            params.append(f"numberOfCustomers={customers - 1}")
        return ";" + ";".join(params)

    # products
    def products(self, location_id: str = "") -> list[dict]:
        path = f"v1/branches/{location_id}/services" if location_id else "v1/services"
        return [s for s in self._get(path)["serviceList"] if s["publicEnabled"] and s["active"]]

    def service_groups(self, product_ids, location_id: str = "") -> list[dict]:
        if location_id:
            # v2: a bare list of groups
            return self._get(f"v2/branches/{location_id}/services/groups{self._matrix(product_ids)}")
        # v1: a bare list of branches, each with its groups
        branches = self._get(f"v1/services/groups{self._matrix(product_ids)}")
        return sum((branch["serviceGroups"] for branch in branches), [])

    def products_combinable(self, product_ids, location_id: str = "") -> list[dict]:
        allowed = {
            service["publicId"]
            for group in self.service_groups(product_ids, location_id)
            for service in group["services"]
        }
        return [service for service in self.products(location_id) if service["publicId"] in allowed]

    # locations
    def locations(self, product_ids=()) -> list[dict]:
        # The plugin cannot ask for several services: it uses the first one.
        path = f"v1/services/{product_ids[0]}/branches" if product_ids else "v1/branches"
        return [branch for branch in self._get(path)["branchList"] if branch["addressZip"]]

    def location(self, location_id: str) -> dict:
        return self._get(f"v1/branches/{location_id}")["branch"]

    # dates and times
    def dates(self, location_id: str, product_ids, customers: int = 1) -> list[date]:
        branch_tz = ZoneInfo(self.location(location_id)["timeZone"])
        entries = self._get(f"v2/branches/{location_id}/dates{self._matrix(product_ids, customers)}")["dates"]
        return [datetime.fromisoformat(entry).replace(tzinfo=branch_tz).date() for entry in entries]

    def times(self, location_id: str, product_ids, day: date, customers: int = 1) -> list[datetime]:
        branch_tz = ZoneInfo(self.location(location_id)["timeZone"])
        path = f"v2/branches/{location_id}/dates/{day.isoformat()}/times{self._matrix(product_ids, customers)}"
        return [
            datetime.combine(day, time.fromisoformat(entry)).astimezone(branch_tz) for entry in self._get(path)["times"]
        ]

    # appointments
    def book(
        self, location_id: str, product_ids, start: datetime, customer: dict, customers: int = 1, notes: str = ""
    ) -> str:
        """``customers`` persons; the plugin has one set of contact details and repeats it."""
        branch_tz = ZoneInfo(self.location(location_id)["timeZone"])
        local = start.astimezone(branch_tz)
        path = f"v2/branches/{location_id}/dates/{local.date().isoformat()}/times/{local:%H:%M}/book"
        unique_ids = list(dict.fromkeys(product_ids))
        body = {
            "title": f"Open Formulieren: {', '.join(sorted(unique_ids))}",
            "customers": [{key: value for key, value in customer.items() if value}] * customers,
            "services": [{"publicId": pid} for pid in unique_ids],
            "notes": notes,
        }
        response = self.session.post(self.api_root + path, json=body, timeout=60)
        response.raise_for_status()
        return response.json()["publicId"]

    def details(self, public_id: str) -> dict:
        appointment = self._get(f"v1/appointments/{public_id}")["appointment"]
        return {
            **appointment,
            "start_at": datetime.fromisoformat(appointment["start"]),
            "end_at": datetime.fromisoformat(appointment["end"]),
        }

    def cancel(self, public_id: str) -> None:
        response = self.session.delete(self.api_root + f"v1/appointments/{public_id}", timeout=30)
        response.raise_for_status()


def _local_tz_name() -> str:
    import time as clock

    return clock.tzname[0]


def main() -> None:
    """stdin: {"api_root", "token", "branch", "services", "customers", "days", "book_index"}.
    stdout: per day the offered times (ISO, with offset) and, when asked, the booked one read
    back. Runs in whatever time zone the process has (TZ)."""
    command = json.load(sys.stdin)
    plugin = QmaticPlugin(command["api_root"], command["token"])
    offered_days = plugin.dates(command["branch"], command["services"], command["customers"])
    answer = {"local_tz": _local_tz_name(), "days": {}}
    for n, raw in enumerate(command["days"]):
        day = date.fromisoformat(raw)
        times = plugin.times(command["branch"], command["services"], day, command["customers"])
        result = {"offered": day in offered_days, "times": [t.isoformat() for t in times]}
        if times and command.get("book_index") is not None:
            chosen = times[min(command["book_index"], len(times) - 1)]
            customer = {"firstName": "Test", "lastName": f"Dag {n}", "email": f"dag{n}@example.nl", "phone": ""}
            public_id = plugin.book(command["branch"], command["services"], chosen, customer, command["customers"])
            result["booked"] = {
                "chosen": chosen.isoformat(),
                "start": plugin.details(public_id)["start_at"].isoformat(),
            }
        answer["days"][raw] = result
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
