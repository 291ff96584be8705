from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MANAGE_POLICY = "nudges.manage_policy"
# A bound is "close" when the value is within this fraction of the limit on the safe side.
CLOSE_MARGIN = 0.10
TREND_WEEKS = 8
# Satisfaction bounds look at the answers of this many recent weeks.
SATISFACTION_WINDOW_DAYS = 91
# Desk capacity kept for walk-ins is measured over the coming working week.
CAPACITY_WINDOW_DAYS = 7


class BoundKind(models.TextChoices):
    SERVICE_PRESENCE = "service_presence", _("Balieafspraak binnen N werkdagen (verplicht verschijnen)")
    SERVICE_EXEMPT = "service_exempt", _("Balieafspraak binnen N werkdagen (vrijgestelde inwoners)")
    WALKIN_CAPACITY = "walkin_capacity", _("Balietijd vrij voor inloop (minimaal %)")
    LEAD_TIME = "lead_time", _("Wachttijd tot eerste vrije balietijd (maximaal dagen)")
    NOT_HANDLED = "not_handled", _("Contacten niet afgehandeld (maximaal %)")
    SATISFACTION_FLOOR = "satisfaction_floor", _("Tevredenheid per kanaal (minimaal, 1–5)")
    SATISFACTION_GAP = "satisfaction_gap", _("Verschil in tevredenheid met het beste kanaal (maximaal punten)")
    COST_RULE = "cost_rule", _("Leges nooit boven kostprijs (aantal overtredingen)")


# Whether the value must stay at or below the limit (max) or at or above it (min).
MAXIMUM_KINDS = {
    BoundKind.SERVICE_PRESENCE,
    BoundKind.SERVICE_EXEMPT,
    BoundKind.LEAD_TIME,
    BoundKind.NOT_HANDLED,
    BoundKind.SATISFACTION_GAP,
    BoundKind.COST_RULE,
}
UNITS: dict[str, StrOrPromise] = {
    BoundKind.SERVICE_PRESENCE: _("werkdagen"),
    BoundKind.SERVICE_EXEMPT: _("werkdagen"),
    BoundKind.WALKIN_CAPACITY: "%",
    BoundKind.LEAD_TIME: _("dagen"),
    BoundKind.NOT_HANDLED: "%",
    BoundKind.SATISFACTION_FLOOR: _("punten"),
    BoundKind.SATISFACTION_GAP: _("punten"),
    BoundKind.COST_RULE: _("overtredingen"),
}


class BoundStatus(models.TextChoices):
    WITHIN = "within", _("Binnen de kaders")
    CLOSE = "close", _("Dichtbij de grens")
    BREACHED = "breached", _("Overschreden")
    UNKNOWN = "unknown", _("Nog geen gegevens")


# The policy frame answers three of the manager's five questions (issue 13); the frame page
# shows its bounds per question: (anchor, heading, question, kinds).
FRAME_QUESTIONS = (
    (
        "minimale-dienstverlening",
        _("Minimale dienstverlening aan de balie"),
        _("Welke minimale dienstverlening houdt de balie voor wie het niet online kan, en lukt dat?"),
        (BoundKind.SERVICE_PRESENCE, BoundKind.SERVICE_EXEMPT, BoundKind.WALKIN_CAPACITY),
    ),
    (
        "ongemak",
        _("Acceptabel ongemak"),
        _("Hoeveel ongemak is acceptabel op de andere kanalen: hoe lang wachten op een balieafspraak?"),
        (BoundKind.LEAD_TIME, BoundKind.NOT_HANDLED),
    ),
    (
        "tevredenheid",
        _("Tevredenheid per kanaal"),
        _("Hoeveel lager mag de tevredenheid zijn, en op welk kanaal?"),
        (BoundKind.SATISFACTION_FLOOR, BoundKind.SATISFACTION_GAP),
    ),
    (
        "leges",
        _("Leges en kostprijs"),
        _("Zijn de leges nergens hoger dan de kostprijs?"),
        (BoundKind.COST_RULE,),
    ),
)
