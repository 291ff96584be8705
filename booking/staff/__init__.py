"""Staff pages and their logic: the desk's day board, walk-ins, bookings by phone, schedules,
closures, products, capacity and the audit trail, behind Django groups with permissions.

Public: ``services`` (writes), ``selectors`` (reads), ``roles`` (the groups and their
permissions), ``permissions.staff_required`` (the one check every staff view uses).
"""
