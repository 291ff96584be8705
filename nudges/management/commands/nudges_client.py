"""Kept for the README's habit: ``manage.py nudges_client NAME`` is
``manage.py integration_client NAME --scope nudges --no-confirmation-emails``."""

from django.core.management.base import BaseCommand, CommandError

from booking.exceptions import BookingError
from booking.integrations import integration_client_create
from nudges.constants import SCOPE_NUDGES


class Command(BaseCommand):
    help = "Create an integration client (booking's) with the nudges scope and print its token (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        try:
            _client, token = integration_client_create(name=name, scopes=[SCOPE_NUDGES], send_confirmation_emails=False)
        except BookingError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(f"Client {name!r} created. Token (shown once; send as 'Authorization: Bearer <token>'):")
        self.stdout.write(token)
