"""The product knowledge base: one source for every channel.

``product_knowledge(product)`` gathers what a citizen, a phone agent or the desk needs to
know about a product — what it is, what to bring, the fee per channel, whether presence is
required, the online route and what it takes (DigiD, payment), and the text the KCC reads to
a caller — and ``templates/booking/includes/product_knowledge.html`` (``.txt`` for plain-text
e-mails) renders it. The citizen page, the confirmation and reminder e-mails, the KCC work
instruction and the desk all use these two, so they cannot disagree.

Public: ``product_knowledge``, ``product_changes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import Product

CHANNEL_LABELS = (
    ("online", "Online"),
    ("counter", "Aan de balie"),
    ("phone", "Telefonisch"),
    ("post", "Per post"),
)


@dataclass(frozen=True)
class Fee:
    channel: str
    label: str
    amount: Decimal

    @property
    def is_free(self) -> bool:
        return self.amount == 0


@dataclass(frozen=True)
class ProductKnowledge:
    code: str
    name: str
    description: str
    checklist: list[str]
    fees: list[Fee]
    requires_presence: bool
    online_url: str
    online_requirements: list[str]
    digital_discount: Decimal | None
    kcc_text: str

    @property
    def can_be_done_online(self) -> bool:
        return bool(self.online_url) and not self.requires_presence


def _en() -> bool:
    return (get_language() or "nl").startswith("en")


def product_knowledge(product: Product) -> ProductKnowledge:
    labels = {
        "online": _("Online"),
        "counter": _("Aan de balie"),
        "phone": _("Telefonisch"),
        "post": _("Per post"),
    }
    fees = [
        Fee(channel=channel, label=labels[channel], amount=amount)
        for channel, _label in CHANNEL_LABELS
        if (amount := product.fee(channel)) is not None and (channel != "online" or product.online_url)
    ]
    requirements = []
    if product.online_url:
        if product.online_requires_digid:
            requirements.append(_("Inloggen met DigiD"))
        if product.online_requires_payment:
            requirements.append(_("Betalen met iDEAL"))
        requirements += [line.strip() for line in product.online_requirements.splitlines() if line.strip()]
    discount = None
    if product.online_url and product.fee_online is not None and product.fee_counter is not None:
        difference = product.fee_counter - product.fee_online
        discount = difference if difference > 0 else None
    en = _en()
    return ProductKnowledge(
        code=product.code,
        name=product.name,
        description=(product.description_en or product.description_nl) if en else product.description_nl,
        checklist=product.checklist,
        fees=fees,
        requires_presence=product.requires_presence,
        online_url=product.online_url,
        online_requirements=requirements,
        digital_discount=discount,
        kcc_text=(product.kcc_text_en or product.kcc_text_nl) if en else product.kcc_text_nl,
    )


@dataclass(frozen=True)
class ProductChange:
    at: object
    user: object
    fields: list[str]


def product_changes(product: Product, *, limit: int = 20) -> list[ProductChange]:
    """The product's change history, newest first: when, who, which fields."""
    records = list(product.history.select_related("history_user").order_by("-history_date")[: limit + 1])
    changes: list[ProductChange] = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        if len(changes) == limit:
            break
        if older is None:
            fields = [_("aangemaakt")]
        else:
            fields = [
                str(getattr(Product._meta.get_field(c.field), "verbose_name", c.field))
                for c in newer.diff_against(older).changes
            ]
        changes.append(ProductChange(at=newer.history_date, user=newer.history_user, fields=fields))
    return changes
