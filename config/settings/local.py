"""Laptop settings: debug on, everything else from base.py (SQLite and a file broker)."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
