"""Counter appointments: locations, desks, products, schedules, appointments, availability.

Public surface: other apps import only these modules (``booking`` itself never imports them):

- ``booking.services``: writes (book, hold, cancel, book a held time in place of another),
  and ``contact_serialised`` (a transaction under booking's contact lock, for other apps'
  per-address checks; other apps never import ``booking.locks``).
- ``booking.selectors``: reads; for other apps, plain facts (``AppointmentFacts``), counts
  (``appointments_made_count``, ``counter_visits_count``), ids and starts, and the rows a
  page or e-mail shows (``appointment_get``, ``appointment_upcoming``, ``product_list``,
  ``location_list``). ``booking.availability``: the availability engine (reads, local time).
- ``booking.constants``, ``booking.exceptions``: the vocabulary and the error hierarchy
  (``DomainError`` is the root of every app's errors); ``booking.apis.errors``: the one
  mapping of errors to HTTP and the error schema, for every app's API.
- ``booking.converters`` (path converters for tokens, references and days) and
  ``booking.dates`` (the window of dates any input may name).
- Extension points, registered from ``AppConfig.ready``: ``booking.hooks`` (events),
  ``booking.flow`` (product step, page links), ``booking.retention`` (erasure steps),
  ``booking.staff.permissions.register_nav`` (staff navigation), ``booking.staff.panels``
  (panels on the desk and phone pages).
- ``booking.staff.permissions``: the staff frame for any app's staff pages (``staff_required``,
  ``user_can``, ``nav_items``, ``staff_render``); ``booking.staff.services``: the desk side's
  writes (closures with their cancellations, walk-ins), used by demo data.
- ``booking.cleaning`` (names and e-mail keys cleaned the one way every limit compares them) and
  ``booking.knowledge`` (a product's facts per channel, the one source the KCC answers from).
- ``booking.notifications`` (booking's own e-mails, rendered for an outbox) and
  ``booking.web`` (UI helpers for every app's pages: rate-limited page, form base, form
  errors, read-only admin base);
  ``booking.phones``, ``booking.ics`` (phone numbers, manage links); ``booking.demo`` and
  ``booking.staff.demo`` (demo data, for the ``seed_demo`` command).
- ``booking.integrations`` (integration clients: create, authenticate, ``register_scope`` for an
  app's own API scope) and ``booking.apis.auth`` (the DRF authentication, scope permission and
  per-client throttle for any app's API views).
- ``booking.models``: for foreign keys, type hints and rows handed out by booking's selectors
  only; other apps do not query booking's tables (no ``<booking model>.objects``).
"""
