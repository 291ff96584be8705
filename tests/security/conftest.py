"""Helpers for the security tests."""


def otp_verified_login(client, user) -> None:
    """Log ``user`` in as if the password and a one-time code had both been given (the suite's
    ``force_login`` completes the code step, see tests/conftest.py)."""
    client.force_login(user)
