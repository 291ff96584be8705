"""The waiting-list links on booking's pages (``booking.flow`` page links): under the time
picker ("no suitable time?") and on the manage page of an appointment that can still change
("earlier?")."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from booking.flow import PageLink


def waitlist_join_link(*, products, location, persons: int) -> PageLink:
    query = urlencode(
        [("product", product.code) for product in products] + [("vestiging", location.pk), ("personen", persons)]
    )
    return PageLink(
        lead=_("Geen geschikte tijd?"),
        text=_("Zet u op de wachtlijst"),
        url=f"{reverse('nudges:waitlist-join')}?{query}",
    )


def waitlist_earlier_link(*, appointment) -> PageLink:
    return PageLink(
        lead=_("Eerder terecht?"),
        text=_("Zet u op de wachtlijst: komt er eerder een tijd vrij, dan mailen we u."),
        url=reverse("nudges:waitlist-appointment", args=[appointment.manage_token]),
    )
