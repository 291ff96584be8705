"""Reminders before an appointment (e-mail, SMS): planned when booked, re-planned when moved,
cancelled with the appointment, all through the outbox.

- ``planning``: when and on which channels reminders go, and how one is built.
- ``wording``: which reminder text a unit gets (the reminder experiment's arms).
"""
