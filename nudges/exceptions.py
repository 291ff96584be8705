"""The domain errors of nudges, one small hierarchy. Each carries a translated message, a
code and, where it applies, a field. They derive from booking's ``DomainError``: the one
mapping to HTTP is ``booking.apis.errors``; the forms show them as form errors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from booking.exceptions import DomainError


class NudgeError(DomainError):
    code = "nudge_error"
    default_message = _("Dit kon niet worden verwerkt.")


class InvalidInput(NudgeError):
    code = "invalid"
    default_message = _("De invoer is niet geldig.")


class NotFound(NudgeError):
    http_status = 404
    code = "not_found"
    default_message = _("Niet gevonden.")


class ExperimentLocked(NudgeError):
    """A started experiment's design (variants, weights, salt, hypothesis, metric, sample) is
    frozen: changing it would mix two experiments in one set of numbers."""

    http_status = 409
    code = "experiment_locked"
    default_message = _(
        "Dit experiment is gestart: varianten, gewichten, salt, hypothese, primaire maat en "
        "geplande steekproef liggen vast. Maak een nieuw experiment om iets anders te testen."
    )


class InvalidTransition(NudgeError):
    http_status = 409
    code = "invalid_transition"
    default_message = _("Deze statuswijziging kan niet.")


class CannotStart(NudgeError):
    """Starting needs a complete, honest design; ``problems`` lists every missing piece."""

    http_status = 409
    code = "cannot_start"
    default_message = _("Het experiment kan nog niet starten.")

    def __init__(self, problems: list, **kwargs: Any) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__(" ".join(self.problems), **kwargs)
