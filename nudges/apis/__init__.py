"""Nudge API under /api/v1/: decisions, exposures and outcomes for integration clients
(``Authorization: Bearer <token>``), experiment results for managers (session)."""
