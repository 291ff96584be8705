"""Load the demo municipality and its channel-steering experiments (idempotent).

Lives in nudges because booking never imports nudges: this command calls booking's demo
(``booking.demo``, ``booking.staff.demo``) and then nudges' own (``nudges.demo``).
"""

from django.core.management.base import BaseCommand

from booking.demo import demo_summary, seed_appointments, seed_reference_data
from booking.staff.demo import DEMO_PASSWORD, DEMO_USERS, seed_staff_users, seed_today_appointments
from nudges.channels.demo import seed_contacts
from nudges.channels.services import contact_channels_ensure
from nudges.cockpit.demo import seed_cockpit
from nudges.demo import seed_nudges
from nudges.roles import contacts_roles_ensure


class Command(BaseCommand):
    help = (
        "Load the demo municipality (idempotent): locations, desks, opening hours, products, appointments, "
        "staff accounts, and the nudge experiments."
    )

    def handle(self, *args, **options):
        counts = seed_reference_data()
        created = seed_appointments()
        created += seed_today_appointments()
        summary = demo_summary()
        seed_staff_users()
        nudges = seed_nudges()
        contact_channels_ensure()
        contacts_roles_ensure()
        contacts = seed_contacts()
        cockpit = seed_cockpit()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['locations']} locations, {counts['desks']} desks, "
                f"{counts['products']} products; {created} appointments added, "
                f"{summary['future_appointments']} upcoming in total."
            )
        )
        self.stdout.write(
            "Staff pages at /medewerkers/: log in as "
            + ", ".join(username for username, *_rest in DEMO_USERS)
            + f" with password {DEMO_PASSWORD!r}."
        )
        self.stdout.write(
            f"Nudges: experiment '{nudges['running'].name}' running with variants "
            f"{', '.join(nudges['variants'])}; a finished pilot in the register at /transparantie/; "
            "results at /medewerkers/experimenten/ (log in as manager)."
        )
        self.stdout.write(
            f"Cockpit: {cockpit['contacts']} contacts of six months added; policy frame, channel mix, cost and "
            f"what the nudges achieved at /medewerkers/cockpit/ (log in as manager); "
            f"{cockpit['breaches_opened']} bound breached now (alert e-mailed to the managers)."
        )
        self.stdout.write(
            f"Contacts: {contacts} added (six months on every channel; none when already there); "
            "register one at /medewerkers/contacten/."
        )
