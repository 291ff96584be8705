"""Channel steering: interventions, experiments, exposures, outcomes, reminders, statistics.

Uses ``booking`` only through its services, selectors and hooks.
"""
