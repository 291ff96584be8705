"""Matrix parameters (``;servicePublicId=a;servicePublicId=b;numberOfCustomers=1``), as the
Qmatic API takes them on a path segment. Query parameters with the same names are read too.

``numberOfCustomers`` counts the *additional* customers, as in Qmatic (duration = ``duration +
additionalCustomerDuration × numberOfCustomers``) and as Open Formulieren's plugin sends it
(``N - 1`` for N persons, and only when N > 1): absent or 0 is one person, 1 is two persons."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from django.conf import settings
from django.utils.translation import gettext as _

from booking.exceptions import InvalidRequest

SERVICE = "servicePublicId"
CUSTOMERS = "numberOfCustomers"
_MAX_SERVICES = 5
_MAX_LENGTH = 1000


@dataclass(frozen=True)
class MatrixParams:
    service_ids: list[str]
    persons: int  # the total: numberOfCustomers + 1


def parse_matrix(raw: str, query=None) -> MatrixParams:
    """Read the services and the number of persons. Unknown names are ignored (a newer client
    may send more); a malformed entry or value is an ``InvalidRequest`` (400)."""
    if len(raw) > _MAX_LENGTH or (raw and not raw.startswith(";")):
        raise InvalidRequest(_("Ongeldige matrixparameters."), field="matrix")
    pairs: list[tuple[str, str]] = []
    for part in raw.split(";")[1:]:
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidRequest(_("Ongeldige matrixparameter: %(part)s.") % {"part": part[:40]}, field="matrix")
        pairs.append((unquote(name), unquote(value)))
    if query is not None:
        pairs += [(name, value) for name in (SERVICE, CUSTOMERS) for value in query.getlist(name)]
    services = list(dict.fromkeys(value.strip() for name, value in pairs if name == SERVICE and value.strip()))
    if len(services) > _MAX_SERVICES:
        raise InvalidRequest(_("Kies hoogstens %(max)s diensten tegelijk.") % {"max": _MAX_SERVICES}, field=SERVICE)
    persons = 1
    counts = [value for name, value in pairs if name == CUSTOMERS]
    if counts:
        try:
            additional = int(counts[-1])
        except ValueError:
            raise InvalidRequest(_("numberOfCustomers moet een geheel getal zijn."), field=CUSTOMERS) from None
        persons = persons_from_additional(additional)
    return MatrixParams(service_ids=services, persons=persons)


def persons_from_additional(additional: int) -> int:
    """Persons for a ``numberOfCustomers`` (the customers besides the first); a 400 outside
    0 … BOOKING_MAX_PERSONS - 1."""
    if not 0 <= additional <= settings.BOOKING_MAX_PERSONS - 1:
        raise InvalidRequest(
            _("numberOfCustomers (extra personen) moet tussen 0 en %(max)s liggen.")
            % {"max": settings.BOOKING_MAX_PERSONS - 1},
            field=CUSTOMERS,
        )
    return additional + 1
