from django.core.management.base import BaseCommand, CommandError

from booking.exceptions import InvalidRequest
from booking.integrations import integration_client_create, known_scopes


class Command(BaseCommand):
    help = "Create an integration client with scopes and print its token (shown once, stored only as a hash)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            required=True,
            help=f"A scope it may use (repeatable); known now: {', '.join(sorted(known_scopes()))}.",
        )
        parser.add_argument(
            "--no-confirmation-emails",
            action="store_true",
            help="Do not e-mail citizens a confirmation of what this client books (its platform confirms).",
        )

    def handle(self, *args, name, scopes, no_confirmation_emails, **options):
        try:
            client, token = integration_client_create(
                name=name, scopes=scopes, send_confirmation_emails=not no_confirmation_emails
            )
        except InvalidRequest as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            f"Client {client.name!r} created with scopes {', '.join(client.scopes)}. "
            "Token (shown once; send as 'Authorization: Bearer <token>'):"
        )
        self.stdout.write(token)
