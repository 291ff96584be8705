"""Waiting list: people who want an earlier time are offered freed (cancelled) times.

- ``services``: join, confirm, leave, offers for a freed time, accept, erasure.
- ``report``: the offer/confirm/taken e-mails and the manager's figures.
- ``links``: the waiting-list links on booking's time step and manage page.
- ``forms`` / ``views``: the citizen pages and the manager overview.
"""
