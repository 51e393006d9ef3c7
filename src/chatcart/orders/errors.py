from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    code = "order_not_found"


class OutOfStock(Conflict):
    """Some lines cannot be had in that quantity; details.lines says what is left."""

    code = "out_of_stock"


class PriceChanged(Conflict):
    """Prices moved since the customer saw them; details.lines has the new ones."""

    code = "price_changed"


class NotForSale(ValidationFailed):
    code = "not_for_sale"


class StatusChangeRefused(Conflict):
    code = "status_change_refused"


class CheckoutInvalid(ValidationFailed):
    code = "checkout_invalid"
