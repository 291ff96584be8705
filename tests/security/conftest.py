"""Helpers for the security tests."""


def otp_verified_login(client, user) -> None:
    """Log ``user`` in as if the password and a one-time code had both been given."""
    client.force_login(user)
