from django.core.management.base import BaseCommand

from booking.demo import demo_summary, seed_appointments, seed_reference_data


class Command(BaseCommand):
    help = "Load the demo municipality (idempotent): locations, desks, opening hours, products, appointments."

    def handle(self, *args, **options):
        counts = seed_reference_data()
        created = seed_appointments()
        summary = demo_summary()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['locations']} locations, {counts['desks']} desks, "
                f"{counts['products']} products; {created} appointments added, "
                f"{summary['future_appointments']} upcoming in total."
            )
        )
