"""Channel steering, built on ``booking``: one package per feature.

- ``experiments/``: nudges at a touchpoint as randomised experiments (unit, assignment,
  content, exposures, outcomes, statistics, the flow step and the manager pages).
- ``outbox/``: every e-mail and SMS (booking's confirmations too); the only writer of
  ``ScheduledMessage``.
- ``reminders/``: reminders before a visit and their wording experiment.
- ``satisfaction/``: one question after a served visit.
- ``waitlist/``: freed times offered to people who want an earlier one.
- ``models/`` (one module per feature), ``apis/`` (integration and results API),
  ``tasks.py``, ``admin.py``, ``urls.py``; ``apps.py`` registers every hook on booking.

Uses ``booking`` only through the public modules listed in ``booking/__init__.py``: it never
queries booking's tables (booking's selectors give rows, counts and facts, e.g.
``appointment_get``, ``counter_visits_count``) nor takes booking's locks (the waiting list's
join serialises on the address with ``booking.services.contact_serialised``); booking's models
appear only in foreign keys and type hints.
"""
