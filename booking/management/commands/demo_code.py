"""Print the current two-step code of the demo Manager and Beheerder (demo databases only)."""

from django.core.management.base import BaseCommand

from booking.staff.demo import demo_codes


class Command(BaseCommand):
    help = "Print the current TOTP code of the demo accounts (manager, beheerder). Demo databases only."

    def handle(self, *args, **options):
        codes = demo_codes()
        if not codes:
            self.stderr.write("No demo accounts with the demo code device (run seed_demo first).")
            return
        for username, code in sorted(codes.items()):
            self.stdout.write(f"{username}: {code}")
