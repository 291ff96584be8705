"""Satisfaction: one question (1–5) after a served visit, its answer page, the per-channel
figures for managers, and the erasure of old comments.

- ``services``: planning and building the question, answering, erasure.
- ``selectors``: the per-channel figures (manager overview, cockpit bounds).
- ``views``: the citizen's answer page and the manager overview.
"""
