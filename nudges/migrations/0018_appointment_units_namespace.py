"""Reminder-experiment units move to a namespace of their own (nudges.experiments.assignment):
the rows already logged for reminder experiments get their unit rewritten from the old form
(``unit_hash("appointment:<id>")``, which a raw outside id could produce) to the new one, so a
running experiment keeps its units and their variants."""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations

DOMAIN = b"kanaalwijzer.nudges.appointment-unit.v2"
TABLES = ("Exposure", "Exemption", "Outcome")


def _old(key: bytes, appointment_id: int) -> str:
    return hmac.new(key, f"appointment:{appointment_id}".encode(), hashlib.sha256).hexdigest()


def _new(key: bytes, appointment_id: int) -> str:
    derived = hmac.new(key, DOMAIN, hashlib.sha256).digest()
    return hmac.new(derived, str(appointment_id).encode(), hashlib.sha256).hexdigest()


def rewrite(apps, schema_editor):
    key = settings.NUDGES_UNIT_HASH_KEY.encode()
    models = {name: apps.get_model("nudges", name) for name in TABLES}
    stored = set()
    for model in models.values():
        stored.update(model.objects.filter(experiment__touchpoint="reminder").values_list("unit_hash", flat=True))
    if not stored:
        return
    Appointment = apps.get_model("booking", "Appointment")
    last = Appointment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    mapping = {}
    for appointment_id in range(1, last + 1):
        old = _old(key, appointment_id)
        if old in stored:
            mapping[old] = _new(key, appointment_id)
    for model in models.values():
        for old, new in mapping.items():
            model.objects.filter(experiment__touchpoint="reminder", unit_hash=old).update(unit_hash=new)


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0017_online_links"),
        ("booking", "0009_abuse_limits"),
    ]

    operations = [migrations.RunPython(rewrite, migrations.RunPython.noop)]
