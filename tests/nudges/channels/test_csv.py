"""CSV import of a day's export: the staff page and the command; all or nothing, per-line errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from nudges.models import Contact

pytestmark = pytest.mark.django_db

HEADER = "external_id;channel;products;moment;outcome;handling_seconds\n"


def line(i, channel="e-mail", products="uittreksel-brp", moment=None, outcome="answered"):
    moment = moment or (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    return f"mail-{i};{channel};{products};{moment};{outcome};120\n"


def upload(content: bytes, name="export.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_a_days_export_is_imported_once(client, desk_user, brp):
    client.force_login(desk_user)
    data = (HEADER + "".join(line(i) for i in range(20)) + line(99, products="")).encode()

    first = client.post(reverse("contacts:import"), {"system": "mailtool", "file": upload(data)})
    again = client.post(reverse("contacts:import"), {"system": "mailtool", "file": upload(data)})

    assert first.status_code == again.status_code == 302
    assert Contact.objects.count() == 21
    assert set(Contact.objects.values_list("source", "channel__code").distinct()) == {("csv:mailtool", "e-mail")}


def test_bad_lines_store_nothing_and_are_named(client, desk_user, brp):
    client.force_login(desk_user)
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    data = (
        HEADER + line(1) + line(2, channel="fax") + line(3, products="nope") + line(4, moment=tomorrow) + line(1)
    ).encode()

    response = client.post(reverse("contacts:import"), {"system": "mailtool", "file": upload(data)})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Onbekend kanaal: fax." in page and "Onbekend product: nope." in page and "toekomst" in page
    assert "Dubbel kenmerk" in page
    assert "<td>2</td><td>channel</td>" in page
    assert not Contact.objects.exists()


def test_a_50_mb_file_is_refused_with_a_message(client, desk_user, brp):
    client.force_login(desk_user)
    big = HEADER.encode() + b"x" * (50 * 1024 * 1024)

    response = client.post(reverse("contacts:import"), {"system": "mailtool", "file": upload(big)})

    assert response.status_code == 400
    assert "groter dan 10 MB" in response.content.decode()
    assert not Contact.objects.exists()


def test_the_command_imports_and_reports_bad_lines(tmp_path, brp):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + line(1) + line(2))
    call_command("import_contacts", str(good), system="crm")
    assert Contact.objects.count() == 2

    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + line(3) + line(4, outcome="weet niet"))
    with pytest.raises(CommandError, match="1 bad line"):
        call_command("import_contacts", str(bad), system="crm")
    assert Contact.objects.count() == 2


def test_a_duplicate_in_another_batch_of_a_large_file_is_named_too(client, desk_user, brp, monkeypatch):
    """A large file is stored in batches; a reference repeated in a later batch is still a
    duplicate, named by its line, and nothing is stored."""
    from nudges.channels import csv_import

    monkeypatch.setattr(csv_import, "MAX_BATCH", 2)
    client.force_login(desk_user)
    data = (HEADER + line(1) + line(2) + line(3) + line(1)).encode()

    response = client.post(reverse("contacts:import"), {"system": "mailtool", "file": upload(data)})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Dubbel kenmerk: ook in regel 1." in page
    assert "<td>4</td><td>external_id</td>" in page
    assert not Contact.objects.exists()
