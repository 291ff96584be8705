"""Run the AVG retention job now (the same as the nightly Celery beat entry) and print how many
records were erased. With --dry-run nothing changes: it prints how many would be."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from booking.retention import personal_data_erase_expired


class Command(BaseCommand):
    help = (
        "Erase personal data BOOKING_RETENTION_DAYS after the appointment (names, e-mail addresses, "
        "phone numbers; other apps' registered steps too). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what would be erased; change nothing.")

    def handle(self, *args, dry_run: bool = False, **options):
        report = personal_data_erase_expired(dry_run=dry_run)
        verb = "would be anonymised" if dry_run else "anonymised"
        self.stdout.write(
            f"Appointments that ended before {timezone.localtime(report.cutoff):%Y-%m-%d %H:%M}: {report.appointments} {verb}."
        )
        for name, count in report.steps.items():
            self.stdout.write(f"{name}: {count} {'would be erased' if dry_run else 'erased'}.")
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
