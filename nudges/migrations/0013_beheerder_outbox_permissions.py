from django.db import migrations

# Frozen copy of nudges.roles.OUTBOX_GROUP / OUTBOX_PERMISSIONS.
GROUP = "Beheerder"
CODENAMES = ("view_scheduledmessage", "change_scheduledmessage", "view_deliveryattempt")


def grant(apps, schema_editor):
    """The Beheerder looks into the outbox in the admin (the README promised it; it got a 403)."""
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias if schema_editor else "default"
    app_config = apps.get_app_config("nudges")
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.using(using).get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.using(using).filter(content_type__app_label="nudges", codename__in=CODENAMES)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0012_moved_appointment"),
        ("booking", "0007_beheerder_without_auth_permissions"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
