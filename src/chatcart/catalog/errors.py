from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound, TooLarge, ValidationFailed


class ProductNotFound(NotFound):
    code = "product_not_found"


class CategoryNotFound(NotFound):
    code = "category_not_found"


class SkuTaken(Conflict):
    code = "sku_taken"


class HandleTaken(Conflict):
    code = "handle_taken"


class ProductInvalid(ValidationFailed):
    code = "product_invalid"


class ImageRejected(ValidationFailed):
    code = "image_rejected"


class ImageTooLarge(TooLarge):
    code = "image_too_large"


class ImportUnreadable(ValidationFailed):
    """The whole file cannot be read (encoding, quoting, missing columns): nothing imports."""

    code = "import_unreadable"
