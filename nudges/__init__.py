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

Uses ``booking`` only through the public modules listed in ``booking/__init__.py``; foreign
keys to booking's models are meant to be the one place it names booking's models directly.
Not there yet (still query booking's tables, to move behind booking selectors):
``waitlist/services.py`` and ``waitlist/report.py``, ``reminders/planning.py``
(``reminders_plan_missing``, ``reminder_build``), ``reminders/wording.py``,
``experiments/selectors.social_norm``, ``experiments/forms.py`` and ``demo.py``.
"""
