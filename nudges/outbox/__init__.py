"""The outbox: every e-mail and SMS nudges and booking send goes through ``ScheduledMessage``
rows, and this package is the only one that writes them.

- ``dispatch``: planning (``message_enqueue``, ``messages_replan``…), claiming and sending due
  rows, retries, and the registry of message kinds (``register_message_kind``).
- ``selectors``: what other features may ask about planned messages.
- ``sms``: SMS backends (``NUDGES_SMS_BACKEND``) and the SMS texts.
- ``confirmations``: booking's own mails (confirmation, closure apology) through the outbox.
"""
