"""A stand-in for Open Formulieren's Qmatic appointment plugin: the same calls (requests on a
base URL, relative paths with matrix parameters), ``raise_for_status()`` and ``.json()``, and the
same parsing of what comes back. Nothing Django in here: it also runs as a script in a
subprocess with another process time zone (``TZ=UTC``), like Open Formulieren in its container.

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

    def _get(self, path: str) -> dict:
        response = self.session.get(self.api_root + path, timeout=30)
        response.raise_for_status()
        return response.json()

    @staticmethod
    def _matrix(product_ids, customers: int | None = None) -> str:
        params = "".join(f";servicePublicId={pid}" for pid in product_ids)
        return params + (f";numberOfCustomers={customers}" if customers is not None else "")

    # products
    def products(self, location_id: str = "") -> list[dict]:
        path = f"v1/branches/{location_id}/services" if location_id else "v1/services"
        return [s for s in self._get(path)["serviceList"] if s["publicEnabled"] and s["active"]]

    def products_combinable(self, product_ids, location_id: str = "") -> list[dict]:
        if location_id:
            groups = self._get(f"v2/branches/{location_id}/services/groups{self._matrix(product_ids)}")["serviceGroups"]
        else:
            groups = self._get(f"v1/services/groups{self._matrix(product_ids)}")["serviceGroupList"]
        found = {service["publicId"]: service for group in groups for service in group["services"]}
        return list(found.values())

    # locations
    def locations(self, product_ids=()) -> list[dict]:
        if not product_ids:
            return self._get("v1/branches")["branchList"]
        per_product = [self._get(f"v1/services/{pid}/branches")["branchList"] for pid in product_ids]
        common = set.intersection(*({b["publicId"] for b in branches} for branches in per_product))
        return [b for b in per_product[0] if b["publicId"] in common]

    def location(self, location_id: str) -> dict:
        branch = self._get(f"v1/branches/{location_id}")["branch"]
        assert branch["addressZip"], "the plugin needs a postcode"
        return branch

    # dates and times
    def dates(self, location_id: str, product_ids, customers: int = 1) -> list[date]:
        entries = self._get(f"v2/branches/{location_id}/dates{self._matrix(product_ids, customers)}")["dates"]
        return [datetime.fromisoformat(entry).date() for entry in entries]

    def times(self, location_id: str, product_ids, day: date, customers: int = 1) -> list[datetime]:
        branch_tz = ZoneInfo(self.location(location_id)["timeZone"])
        path = f"v2/branches/{location_id}/dates/{day.isoformat()}/times{self._matrix(product_ids, customers)}"
        return [
            datetime.combine(day, time.fromisoformat(entry)).astimezone(branch_tz) for entry in self._get(path)["times"]
        ]

    # appointments
    def book(self, location_id: str, product_ids, start: datetime, customers: list[dict], notes: str = "") -> str:
        branch_tz = ZoneInfo(self.location(location_id)["timeZone"])
        local = start.astimezone(branch_tz)
        path = f"v2/branches/{location_id}/dates/{local.date().isoformat()}/times/{local:%H:%M}/book"
        body = {
            "title": "Open Formulieren",
            "customers": customers,
            "services": [{"publicId": pid} for pid in product_ids],
            "notes": notes,
        }
        response = self.session.post(self.api_root + path, json=body, timeout=60)
        response.raise_for_status()
        return response.json()["appointment"]["publicId"]

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
            public_id = plugin.book(command["branch"], command["services"], chosen, [customer])
            result["booked"] = {
                "chosen": chosen.isoformat(),
                "start": plugin.details(public_id)["start_at"].isoformat(),
            }
        answer["days"][raw] = result
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
