"""Citizens walking the booking flow into a running experiment (Django test client)."""

from __future__ import annotations

from itertools import count

from django.test import Client
from django.urls import reverse

from nudges.constants import UNIT_COOKIE
from nudges.experiments.assignment import unit_hash

_addresses = count()


def choose(client: Client, *codes: str, **extra):
    return client.post(reverse("booking:products"), {"products": list(codes), "persons": 1, **extra})


def unit_of(client: Client) -> str:
    return unit_hash(client.cookies[UNIT_COOKIE].value)


def new_visitor() -> Client:
    """A visitor from an address of their own (documentation range), as real visitors are: the
    citizen pages' per-address rate limit is not what a search for an arm should run into."""
    n = next(_addresses)
    return Client(REMOTE_ADDR=f"198.51.{100 + n // 254 % 100}.{n % 254 + 1}")


def visitor_in(variant_key: str, product_code: str, *, tries: int = 400) -> Client:
    """A fresh visitor who happens to be assigned ``variant_key`` (every arm goes through the
    nudge step, where its exposure is logged; control is sent on to the location step)."""
    for _ in range(tries):
        client = new_visitor()
        response = choose(client, product_code)
        assert response.url == reverse("nudges:step")
        page = client.get(response.url)
        if page.status_code == 302:
            assert page.url == reverse("booking:location")
            if variant_key == "controle":
                return client
        elif page.context["decision"].variant.key == variant_key:
            return client
    raise AssertionError(f"no visitor landed in {variant_key}")
