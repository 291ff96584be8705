"""Waiting list: people who want an earlier time are offered freed (cancelled) times.

- ``services``: join, confirm, leave, erasure; ``offers``: offers for a freed time, accept;
  ``selectors``: entries and offers by token, an offer's state.
- ``report``: the offer/confirm/taken e-mails and the manager's figures.
- ``links``: the waiting-list links on booking's time step and manage page.
- ``forms`` / ``views``: the citizen pages and the manager overview; ``demo``: demo entries.
"""
