"""Products: times, leges and cost prices per channel."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from booking.exceptions import (
    InvalidRequest,
)
from booking.models import Product
from booking.staff.services._common import invalidate_on_commit

logger = logging.getLogger(__name__)

CHANNELS = ("counter", "online", "phone", "post")


def product_price_problems(values: dict[str, Any]) -> dict[str, str]:
    """Field → message for every price rule the values break (leges are cost recovery: no fee
    above its cost price; the online fee not above the counter fee)."""
    problems: dict[str, str] = {}
    for channel in CHANNELS:
        fee, cost = values.get(f"fee_{channel}"), values.get(f"cost_{channel}")
        if fee is not None and cost is None:
            problems[f"cost_{channel}"] = _("Vul de kostprijs in: de leges mogen die niet overschrijden.")
        elif fee is not None and cost is not None and Decimal(fee) > Decimal(cost):
            problems[f"fee_{channel}"] = _("De leges mogen niet hoger zijn dan de kostprijs (€ %(cost)s).") % {
                "cost": cost
            }
    fee_online, fee_counter = values.get("fee_online"), values.get("fee_counter")
    if (
        fee_online is not None
        and fee_counter is not None
        and Decimal(fee_online) > Decimal(fee_counter)
        and "fee_online" not in problems
    ):
        problems["fee_online"] = _("De online leges mogen niet hoger zijn dan de leges aan de balie (€ %(fee)s).") % {
            "fee": fee_counter
        }
    return problems


def product_save(*, actor: Any, product: Product | None = None, values: dict[str, Any]) -> Product:
    """Create or change a product (times, leges and cost prices per channel, online alternative)."""
    problems = product_price_problems(values)
    if problems:
        field, message = next(iter(problems.items()))
        raise InvalidRequest(message, field=field, problems=problems)
    product = product or Product()
    for name, value in values.items():
        setattr(product, name, value)
    try:
        with transaction.atomic():
            product.save()
            invalidate_on_commit(None)
    except IntegrityError as exc:
        # The check constraints say the same as product_price_problems; a unique code may clash.
        if Product.objects.filter(code=product.code).exclude(pk=product.pk).exists():
            raise InvalidRequest(_("Er bestaat al een product met deze code."), field="code") from exc
        raise InvalidRequest(_("De leges en kostprijzen passen niet bij elkaar."), field="fee_counter") from exc
    logger.info("Product %s saved (user %s)", product.code, getattr(actor, "pk", None))
    return product
