from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from nudges.channels.csv_import import MAX_CSV_BYTES, contacts_import_csv
from nudges.channels.services import ContactsRejected
from nudges.exceptions import NudgeError


class Command(BaseCommand):
    help = "Import a channel system's day export (CSV) as contacts; all or nothing, idempotent per system."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--system", required=True, help="The system the export comes from (idempotency key).")

    def handle(self, *args, file, system, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        if path.stat().st_size > MAX_CSV_BYTES:
            raise CommandError("The file is larger than 10 MB; split the export per day.")
        try:
            result = contacts_import_csv(data=path.read_bytes(), system=system)
        except ContactsRejected as rejected:
            for line, fields in sorted(rejected.errors.items()):
                for name, messages in fields.items():
                    self.stderr.write(f"line {line}: {name}: {' '.join(str(m) for m in messages)}")
            raise CommandError(f"{len(rejected.errors)} bad line(s); nothing stored.") from None
        except NudgeError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"{result.created} contacts imported, {result.unchanged} already known.")
