"""Contacts on every channel: the desk, the phone (KCC), e-mail, internet, social media,
WhatsApp and post, one row per citizen contact (``nudges.models.Contact``).

Public: ``services`` (``contacts_import``, ``contact_register``, ``contacts_correct``, the
booking hook listeners), ``selectors`` (``contact_counts_per_day``: the per-day roll-up the
manager's cockpit reads; ``contact_channels``). Appointments and online completions become
contacts here, through booking's hooks and the online-completion report, so every contact is
one row of one table and a roll-up is one GROUP BY.
"""
