"""Flaw 12: the unit hash key defaulted to the Django secret key, so rotating that secret
re-hashed every visitor into a new unit. It is its own setting, required in production."""

from __future__ import annotations

import os
import subprocess
import sys

from nudges.checks import unit_hash_key_check
from nudges.experiments.assignment import unit_hash


def test_rotating_the_django_secret_keeps_every_unit(settings):
    before = unit_hash("bezoeker-1")
    settings.SECRET_KEY = "een-heel-ander-geheim-na-rotatie-0123456789"
    assert unit_hash("bezoeker-1") == before


def test_the_deploy_check_refuses_a_missing_default_or_shared_key(settings):
    settings.NUDGES_UNIT_HASH_KEY = "insecure-local-only-unit-hash-key-change-me"
    assert [e.id for e in unit_hash_key_check()] == ["nudges.E001"]
    settings.NUDGES_UNIT_HASH_KEY = settings.SECRET_KEY = "x" * 50
    assert [e.id for e in unit_hash_key_check()] == ["nudges.E002"]
    settings.NUDGES_UNIT_HASH_KEY = "y" * 50
    assert unit_hash_key_check() == []


def test_production_settings_refuse_to_start_without_the_key():
    env = {k: v for k, v in os.environ.items() if k != "NUDGES_UNIT_HASH_KEY"}
    env.update(DJANGO_SECRET_KEY="z" * 50)
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings.production"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "NUDGES_UNIT_HASH_KEY" in result.stderr
