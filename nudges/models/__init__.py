"""nudges' tables, one module per feature (app label ``nudges``; class names are the models' names,
so this package layout generates no migration):

- ``experiments``: interventions, experiments, variants and their append-only logs; the
  integration clients of the experiments API.
- ``outbox``: ``ScheduledMessage`` and ``DeliveryAttempt`` (written only by ``nudges.outbox``).
- ``satisfaction``: ``SatisfactionSurvey``.
- ``waitlist``: ``WaitlistEntry``, ``WaitlistOffer``.
- ``channels``: ``ContactChannel``, ``Contact``, ``OnlineLink`` (contacts on every channel).
- ``cockpit``: the manager's policy frame (bounds, their versions, measurements, breaches and
  alerts) and the daily roll-ups the cockpit reads.

Foreign keys to booking's models (``Product``, ``Location``) are the one place nudges names
booking's models; nudges code never queries booking's tables.
"""

from nudges.models.channels import (
    ChannelKind,
    Contact,
    ContactChannel,
    ContactOutcome,
    CostChannel,
    OnlineLink,
    ScriptAnswer,
)
from nudges.models.cockpit import (
    Bound,
    BoundMeasurement,
    BoundVersion,
    Breach,
    BreachAlert,
    DailyAppointmentVolume,
    DailyContactVolume,
    ExperimentCountsSnapshot,
)
from nudges.models.experiments import (
    AppendOnly,
    AppendOnlyQuerySet,
    Exemption,
    Experiment,
    Exposure,
    Intervention,
    MovedAppointment,
    OnlineCompletion,
    OnlineReference,
    Outcome,
    UnitAppointment,
    Variant,
    new_salt,
)
from nudges.models.outbox import DeliveryAttempt, ScheduledMessage
from nudges.models.satisfaction import SatisfactionSurvey
from nudges.models.waitlist import OfferStatus, WaitlistEntry, WaitlistOffer, WaitlistStatus

__all__ = [
    "Bound",
    "BoundMeasurement",
    "BoundVersion",
    "Breach",
    "BreachAlert",
    "DailyAppointmentVolume",
    "DailyContactVolume",
    "ExperimentCountsSnapshot",
    "ChannelKind",
    "Contact",
    "ContactChannel",
    "ContactOutcome",
    "CostChannel",
    "OnlineLink",
    "ScriptAnswer",
    "AppendOnly",
    "AppendOnlyQuerySet",
    "DeliveryAttempt",
    "Exemption",
    "Experiment",
    "Exposure",
    "Intervention",
    "MovedAppointment",
    "OfferStatus",
    "OnlineCompletion",
    "OnlineReference",
    "Outcome",
    "ScheduledMessage",
    "SatisfactionSurvey",
    "UnitAppointment",
    "Variant",
    "WaitlistEntry",
    "WaitlistOffer",
    "WaitlistStatus",
    "new_salt",
]
