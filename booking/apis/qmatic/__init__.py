"""A Qmatic-Orchestra-Calendar-compatible facade, so Open Formulieren's Qmatic appointment plugin
books in Kanaalwijzer unchanged. Mounted at ``/qmatic/calendar-backend/public/api/``.

Mapping (see the README, "Using Kanaalwijzer from Open Formulieren"):

- a Qmatic *service* is a product (``publicId`` = the product code), a *branch* is a location
  (``publicId`` = the location's id as a string), an appointment's ``publicId`` is its public
  reference (never the database id, never the manage token);
- services "in one group" can be booked together: at least one desk serves all of them;
- ``numberOfCustomers`` counts the customers *besides the first*, as in Qmatic and as the plugin
  sends it (``N - 1`` for N persons, only when N > 1): absent or 0 is one person, 1 is two;
- service groups answer bare JSON lists: v1 ``[{branchPublicId, branchName, serviceGroups:
  [{services}]}]``, v2 (one branch) ``[{services}]``;
- every time is answered with its UTC offset (``"09:00+01:00"``), so a client that reads it
  with ``time.fromisoformat`` gets the right instant whatever its own time zone.

Only integration clients with the ``appointments`` scope get in; a client sees and cancels
only the appointments it booked.
"""
