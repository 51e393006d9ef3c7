"""Payment links through a PaymentProvider. The sandbox provider serves its own pay page
and calls back signed, the way VNPay or PayMongo return to the shop: the browser brings
back the result with an HMAC of its fields, which the shop checks before believing it."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.kit.crypto import hmac_sha256_hex, random_token, same
from chatcart.models import Payment
from chatcart.orders.schemas import OrderOut
from chatcart.shop import repository
from chatcart.shop.errors import PaymentNotFound, SignatureInvalid

log = logging.getLogger(__name__)

# The fields a callback signs, in this order.
SIGNED = ("token", "amount", "currency", "status", "reference")


class PaymentProvider(Protocol):
    name: str

    def pay_url(self, public_url: str, token: str) -> str:
        """Where the customer pays."""
        ...

    def sign(self, fields: dict[str, str]) -> str: ...

    def verify(self, fields: dict[str, str], signature: str) -> bool: ...


class SandboxProvider:
    """A provider that is part of chatcart itself, for the demo and the tests."""

    name = "sandbox"

    def __init__(self, secret_key: str) -> None:
        # Its own key, derived: a leaked pay page never reveals the app's secret.
        self._key = hmac_sha256_hex(secret_key, b"chatcart.payments.sandbox")

    def pay_url(self, public_url: str, token: str) -> str:
        return self.pay_address(public_url, token)

    @staticmethod
    def pay_address(public_url: str, token: str) -> str:
        return f"{public_url.rstrip('/')}/pay/{token}"

    def sign(self, fields: dict[str, str]) -> str:
        message = "|".join(fields.get(name, "") for name in SIGNED).encode()
        return hmac_sha256_hex(self._key, message)

    def verify(self, fields: dict[str, str], signature: str) -> bool:
        return same(self.sign(fields), signature)


async def open_link(
    session: AsyncSession, workspace_id: int, public_url: str, order: OrderOut, *, now: datetime
) -> str:
    """A pay page for the order's total; its random token is the page's address."""
    token = random_token(24)
    session.add(
        Payment(
            workspace_id=workspace_id,
            order_id=order.id,
            provider="sandbox",
            token=token,
            amount=order.total,
            currency=order.currency,
            created_at=now,
        )
    )
    await session.flush()
    return SandboxProvider.pay_address(public_url, token)


async def payment(session: AsyncSession, token: str) -> Payment:
    row = await repository.payment_by_token(session, token)
    if row is None:
        raise PaymentNotFound("no such payment")
    return row


def check_callback(provider: PaymentProvider, fields: dict[str, str], signature: str) -> None:
    if not provider.verify(fields, signature):
        log.warning(
            "payment callback with a bad signature rejected (token %s, status %s)",
            fields.get("token", "")[:8],
            fields.get("status"),
        )
        raise SignatureInvalid("the payment callback's signature is not valid")
