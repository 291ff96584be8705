from django.db import migrations

# Frozen copy of nudges.roles.GROUPS_MANAGING_EXPERIMENTS.
GROUPS = ("Manager", "Beheerder")


def grant(apps, schema_editor):
    """Give the manager permission to the Manager and Beheerder groups (created here if the
    staff migration has not made them: order never matters)."""
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    app_config = apps.get_app_config("nudges")
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.using(using).get(content_type__app_label="nudges", codename="manage_experiments")
    for name in GROUPS:
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="nudges", codename="manage_experiments"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0001_initial"),
        ("booking", "0003_staff_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
