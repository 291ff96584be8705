"""The SMS backends under the dotted paths deployments set in ``NUDGES_SMS_BACKEND``
(``nudges.sms.HttpGatewayBackend``, ``nudges.sms.DisabledBackend``, …). The code lives in
``nudges.outbox.sms``; this module only keeps those setting values working."""

from nudges.outbox.sms import (
    BaseSmsBackend,
    ConsoleBackend,
    DisabledBackend,
    FileBackend,
    HttpGatewayBackend,
    LocMemBackend,
)

__all__ = ["BaseSmsBackend", "ConsoleBackend", "DisabledBackend", "FileBackend", "HttpGatewayBackend", "LocMemBackend"]
