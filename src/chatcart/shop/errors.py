"""The shop room's errors (each carries its HTTP status)."""

from __future__ import annotations

from chatcart.kit.errors import AppError


class PaymentNotFound(AppError):
    status_code = 404
    code = "payment_not_found"


class SignatureInvalid(AppError):
    status_code = 401
    code = "signature_invalid"


class StoreAccountUnknown(AppError):
    status_code = 404
    code = "store_account_unknown"


class StorePayloadInvalid(AppError):
    status_code = 422
    code = "store_payload_invalid"
