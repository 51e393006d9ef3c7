"""Order webhooks of an external shop (WooCommerce, Shopify): signed with the seller's
store secret; the order's status reaches the customer of our order with that number, or
else the contact whose phone the store order names."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from chatcart.shop.errors import SignatureInvalid, StorePayloadInvalid

# What each store's order status means for our customer.
WOO_STATUS = {
    "processing": "confirmed",
    "on-hold": "confirmed",
    "completed": "delivered",
    "cancelled": "cancelled",
    "refunded": "returned",
}
SHOPIFY_FULFILLMENT = {"fulfilled": "shipped", "partial": "shipped"}


def check_signature(secret: str, body: bytes, header: str | None) -> None:
    """Both stores sign the raw body: base64(HMAC-SHA256(secret, body))."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    if not header or not hmac.compare_digest(expected, header.strip()):
        raise SignatureInvalid("the store webhook's signature is not valid")


def read(kind: str, data: Any) -> tuple[str, str | None, str | None, str | None]:
    """(external order number, our status or None, phone, tracking code)."""
    if not isinstance(data, dict):
        raise StorePayloadInvalid("the webhook body is not a JSON object")
    if kind == "woocommerce":
        number = str(data.get("number") or data.get("id") or "")
        billing = data.get("billing") if isinstance(data.get("billing"), dict) else {}
        status = WOO_STATUS.get(str(data.get("status", "")))
        phone = billing.get("phone") if isinstance(billing, dict) else None
        tracking = None
    else:
        number = str(data.get("order_number") or data.get("name") or data.get("id") or "")
        number = number.lstrip("#")
        if data.get("cancelled_at"):
            status = "cancelled"
        else:
            status = SHOPIFY_FULFILLMENT.get(str(data.get("fulfillment_status") or ""))
        phone = data.get("phone") or (data.get("customer") or {}).get("phone")
        tracking = None
        for fulfillment in data.get("fulfillments") or []:
            if isinstance(fulfillment, dict) and fulfillment.get("tracking_number"):
                tracking = str(fulfillment["tracking_number"])
    if not number:
        raise StorePayloadInvalid("the order has no number")
    return number, status, str(phone) if phone else None, tracking
