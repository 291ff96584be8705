"""Plan the reminders of booked appointments that have none (after the first deploy with
reminders, or to check the hourly safety net by hand). Safe to run any time."""

from django.core.management.base import BaseCommand

from nudges.reminders.planning import reminders_plan_missing


class Command(BaseCommand):
    help = "Plan reminders for upcoming booked appointments that have none."

    def handle(self, *args, **options) -> None:
        planned = reminders_plan_missing()
        self.stdout.write(f"{planned} reminder(s) planned.")
