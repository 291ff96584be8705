from django.db import migrations

# Frozen copies of nudges.channels.CHANNELS and nudges.roles.GROUPS_REGISTERING_CONTACTS.
CHANNELS = (
    # code, name NL, name EN, kind, cost channel, position
    ("balie", "Balie", "Counter", "counter", "counter", 10),
    ("telefoon", "Telefoon", "Phone", "phone", "phone", 20),
    ("e-mail", "E-mail", "E-mail", "email", "", 30),
    ("internet", "Internet", "Internet", "web", "online", 40),
    ("social-media", "Sociale media", "Social media", "social", "", 50),
    ("whatsapp", "WhatsApp", "WhatsApp", "messaging", "", 60),
    ("post", "Post", "Post", "post", "post", 70),
)
GROUPS = ("Baliemedewerker", "KCC-medewerker", "Beheerder")


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias
    ContactChannel = apps.get_model("nudges", "ContactChannel")
    for code, name_nl, name_en, kind, cost_channel, position in CHANNELS:
        ContactChannel.objects.using(using).get_or_create(
            code=code,
            defaults={
                "name_nl": name_nl,
                "name_en": name_en,
                "kind": kind,
                "cost_channel": cost_channel,
                "position": position,
            },
        )
    app_config = apps.get_app_config("nudges")
    if getattr(app_config, "models_module", None) is None:
        app_config.models_module = True
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.using(using).get(content_type__app_label="nudges", codename="register_contacts")
    for name in GROUPS:
        group, _created = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("nudges", "0014_contacts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
