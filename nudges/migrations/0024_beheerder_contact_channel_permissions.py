from django.db import migrations

# Frozen copy of nudges.roles.OUTBOX_GROUP / CHANNEL_PERMISSIONS.
GROUP = "Beheerder"
CODENAMES = ("view_contactchannel", "add_contactchannel", "change_contactchannel")


def grant(apps, schema_editor):
    """The Beheerder extends the list of contact channels in the admin (the README said so; it
    had no admin page)."""
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
    dependencies = [("nudges", "0023_experiment_snapshot_rows_counted")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
