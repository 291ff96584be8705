"""Experiments: interventions shown at a touchpoint, randomised per pseudonymous unit, with
exposures, outcomes and their statistics.

- ``unit``: the unit cookie, the current request's unit and ``NudgeUnitMiddleware``.
- ``assignment``: unit ids, keyed hashes and the deterministic arm assignment.
- ``content``: what a variant says (texts, social-norm figures); writes nothing.
- ``selectors``: who is in an experiment and what they see (assignment, decision, governance);
  ``results``: counting and analysing what was logged (fixed horizon).
- ``services``: managing experiments (create, start, pause, finish, the results look);
  ``logs``: logging exposures, exemptions, outcomes and online references.
- ``listeners``: booking-hook callbacks that record booked/cancelled/attended outcomes.
- ``statistics``: the tests and power calculations (pure functions).
- ``flow_step``: the step booking's citizen flow runs after the product choice.
- ``views`` (citizen step, register), ``manager_views`` and ``forms`` (staff pages).
"""
