from django.db import migrations


def revoke_auth_permissions(apps, schema_editor):
    """No role changes users, groups or permissions (0003 gave the Beheerder "auth"): only
    superusers do, so a Beheerder cannot make itself superuser."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    using = schema_editor.connection.alias if schema_editor else "default"
    auth_permissions = Permission.objects.using(using).filter(content_type__app_label="auth")
    for group in Group.objects.using(using).filter(name="Beheerder"):
        group.permissions.remove(*auth_permissions)


class Migration(migrations.Migration):
    dependencies = [("booking", "0006_integration_client")]

    operations = [migrations.RunPython(revoke_auth_permissions, migrations.RunPython.noop)]
