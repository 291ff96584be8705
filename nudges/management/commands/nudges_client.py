from django.core.management.base import BaseCommand, CommandError

from nudges.experiments.services import integration_client_create
from nudges.models import IntegrationClient


class Command(BaseCommand):
    help = "Create an integration client for the nudge API and print its token (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        if IntegrationClient.objects.filter(name=name).exists():
            raise CommandError(f"A client named {name!r} exists already.")
        _client, token = integration_client_create(name=name)
        self.stdout.write(f"Client {name!r} created. Token (shown once; send as 'Authorization: Bearer <token>'):")
        self.stdout.write(token)
