"""The manager's cockpit: the policy frame ("kaders") as a live monitor, channel mix and cost
per product per channel, and what each nudge achieved (treatment versus its own control).

Public: ``services`` (writes: ``bound_set``, ``bounds_check``), ``selectors`` (reads:
``bound_monitor``, ``bound_history``), ``views`` (manager pages). Booking facts come only
from booking's public selectors (``booking.selectors.counter_lead_times``,
``counter_capacity``, ``product_price_facts``, ``product_facts``).
"""
