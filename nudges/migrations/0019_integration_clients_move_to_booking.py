"""The nudge API's clients become booking's integration clients with the ``nudges`` scope (one
kind of client for every API): name, token hash and prefix, active flag and dates are copied,
so existing tokens keep working; then nudges' own table goes."""

from django.db import migrations

SCOPE = "nudges"


def copy_clients(apps, schema_editor):
    Old = apps.get_model("nudges", "IntegrationClient")
    New = apps.get_model("booking", "IntegrationClient")
    for old in Old.objects.all():
        same_token = New.objects.filter(token_hash=old.token_hash).first()
        if same_token is not None:
            if SCOPE not in (same_token.scopes or []):
                same_token.scopes = [*(same_token.scopes or []), SCOPE]
                same_token.save(update_fields=["scopes"])
            continue
        name = old.name
        if New.objects.filter(name=name).exists():
            name = f"{old.name[:90]} (nudges)"
        new = New.objects.create(
            name=name,
            token_hash=old.token_hash,
            token_prefix=old.token_prefix,
            scopes=[SCOPE],
            is_active=old.is_active,
            send_confirmation_emails=False,
            last_used_at=old.last_used_at,
        )
        New.objects.filter(pk=new.pk).update(created_at=old.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0018_appointment_units_namespace"),
        ("booking", "0009_abuse_limits"),
    ]

    operations = [
        migrations.RunPython(copy_clients, migrations.RunPython.noop),
        migrations.DeleteModel(name="IntegrationClient"),
    ]
