"""Counter appointments: locations, desks, products, schedules, appointments, availability.

Public surface for other apps (``nudges`` included): ``booking.services`` (writes),
``booking.selectors`` and ``booking.availability`` (reads), ``booking.exceptions`` and
``booking.hooks`` (explicit notifications out of booking; booking never imports nudges),
``booking.converters`` (path converters for tokens, references and dates) and
``booking.apis.errors`` (the one mapping of errors to HTTP, for every app's API).
"""
