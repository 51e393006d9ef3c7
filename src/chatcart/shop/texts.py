"""What the shop says in chat, in Vietnamese and English (Tagalog speakers get English,
which Taglish readers expect from shops). Kept with the room, like policy/texts.py: these
are messages to customers, not admin pages, so they do not go through the Babel catalog."""

from __future__ import annotations

from typing import Any

from chatcart.kit.money import format_minor

_TEXTS: dict[str, dict[str, str]] = {
    "categories": {
        "vi": "Bạn muốn xem nhóm sản phẩm nào?",
        "en": "Which category would you like to see?",
    },
    "no_categories": {"vi": "Shop chưa có sản phẩm nào.", "en": "The shop has no products yet."},
    "results": {"vi": "Shop có mấy mẫu này:", "en": "Here is what we have:"},
    "no_results": {
        "vi": "Shop chưa tìm thấy sản phẩm nào cho “{q}”.",
        "en": "We found nothing for “{q}”.",
    },
    "select": {"vi": "Chọn", "en": "Select"},
    "sold_out": {"vi": "{item} đã hết hàng.", "en": "{item} is sold out."},
    "pick_variant": {"vi": "{item}: bạn chọn loại nào?", "en": "{item}: which one would you like?"},
    "pick_quantity": {"vi": "Bạn lấy mấy {item}?", "en": "How many {item}?"},
    "bad_quantity": {
        "vi": "Bạn nhập số lượng từ 1 đến {n} giúp shop nhé.",
        "en": "Please type a quantity from 1 to {n}.",
    },
    "added": {"vi": "Đã thêm {n} × {item} vào giỏ.", "en": "Added {n} × {item} to your cart."},
    "cart_empty": {
        "vi": "Giỏ hàng của bạn đang trống.",
        "en": "Your cart is empty.",
    },
    "cart": {"vi": "Giỏ hàng của bạn:", "en": "Your cart:"},
    "subtotal": {"vi": "Tạm tính: {amount}", "en": "Subtotal: {amount}"},
    "checkout": {"vi": "Đặt hàng", "en": "Check out"},
    "more": {"vi": "Xem thêm", "en": "Keep shopping"},
    "edit": {"vi": "Sửa giỏ", "en": "Edit cart"},
    "remove": {"vi": "Bỏ {item}", "en": "Remove {item}"},
    "removed": {"vi": "Đã bỏ {item} khỏi giỏ.", "en": "{item} is out of your cart."},
    "edit_which": {"vi": "Bạn muốn bỏ món nào?", "en": "Which item should go?"},
    "ask_name": {"vi": "Cho shop xin tên người nhận ạ.", "en": "What name goes on the order?"},
    "ask_phone": {
        "vi": "Số điện thoại nhận hàng của bạn là gì?",
        "en": "What phone number should the courier call?",
    },
    "bad_phone": {
        "vi": "Số điện thoại chưa đúng. Bạn nhập lại giúp shop, ví dụ: {example}",
        "en": "That phone number does not look right. Please type it again, e.g. {example}",
    },
    "ask_address": {
        "vi": "Địa chỉ giao hàng của bạn (số nhà, đường, phường/xã, quận/huyện, tỉnh/thành)?",
        "en": "Your shipping address (street, district, city or province)?",
    },
    "short_address": {
        "vi": "Địa chỉ hơi ngắn, bạn ghi rõ hơn giúp shop nhé.",
        "en": "That address is too short; please add the street and the city.",
    },
    "ask_payment": {"vi": "Bạn muốn thanh toán thế nào?", "en": "How would you like to pay?"},
    "cod": {"vi": "Khi nhận hàng (COD)", "en": "Cash on delivery"},
    "link": {"vi": "Thanh toán online", "en": "Pay online"},
    "summary": {
        "vi": "Đơn hàng của bạn:\n{lines}\nTạm tính: {subtotal}\nPhí giao hàng: {shipping}\n"
        "Tổng cộng: {total}\nNgười nhận: {name}, {phone}\nGiao đến: {address}\n"
        "Thanh toán: {payment}",
        "en": "Your order:\n{lines}\nSubtotal: {subtotal}\nShipping: {shipping}\n"
        "Total: {total}\nRecipient: {name}, {phone}\nShip to: {address}\nPayment: {payment}",
    },
    "confirm_question": {
        "vi": "Bạn xác nhận đặt đơn này nhé?",
        "en": "Shall we place this order?",
    },
    "confirm": {"vi": "Xác nhận", "en": "Confirm"},
    "ship_to": {"vi": "Giao đến: {address}", "en": "Ship to: {address}"},
    "cancel": {"vi": "Huỷ", "en": "Cancel"},
    "free": {"vi": "Miễn phí", "en": "Free"},
    "price_changed": {
        "vi": "Giá {item} vừa đổi từ {old} thành {new}.",
        "en": "The price of {item} changed from {old} to {new}.",
    },
    "gone": {
        "vi": "{item} vừa hết hàng nên shop đã bỏ khỏi giỏ.",
        "en": "{item} just sold out, so it is out of your cart.",
    },
    "fewer": {
        "vi": "{item} chỉ còn {n}: shop đã sửa số lượng thành {n}.",
        "en": "Only {n} left of {item}: the quantity is now {n}.",
    },
    "placed": {
        "vi": "Cảm ơn bạn! Shop đã nhận đơn #{number} ({total}).",
        "en": "Thank you! Order #{number} ({total}) is placed.",
    },
    "pay_now": {
        "vi": "Bạn thanh toán {amount} cho đơn #{number} tại đây:",
        "en": "Pay {amount} for order #{number} here:",
    },
    "pay": {"vi": "Thanh toán", "en": "Pay now"},
    "paid": {
        "vi": "Shop đã nhận {amount} cho đơn #{number}. Cảm ơn bạn!",
        "en": "We received {amount} for order #{number}. Thank you!",
    },
    "checkout_cancelled": {
        "vi": "Đã huỷ đặt hàng; giỏ hàng vẫn được giữ.",
        "en": "Checkout cancelled; your cart is kept.",
    },
    "also_like": {"vi": "Có thể bạn cũng thích:", "en": "You may also like:"},
    "no_orders": {"vi": "Bạn chưa có đơn hàng nào.", "en": "You have no orders yet."},
    "orders": {"vi": "Đơn hàng gần đây của bạn:", "en": "Your latest orders:"},
    "reorder": {"vi": "Mua lại #{number}", "en": "Reorder #{number}"},
    "reordered": {
        "vi": "Các món của đơn #{number} đã vào lại giỏ.",
        "en": "The items of order #{number} are back in your cart.",
    },
    "tracking": {"vi": "Mã vận đơn: {code}", "en": "Tracking: {code}"},
    "status_changed": {"vi": "Đơn #{number}: {status}.", "en": "Order #{number}: {status}."},
    "quiz_none": {
        "vi": "Shop chưa có mẫu nào hợp đúng ý bạn, bạn xem thử mấy mẫu này nhé:",
        "en": "Nothing matches all of that; have a look at these:",
    },
    "quiz": {"vi": "Shop chọn cho bạn 3 mẫu:", "en": "Three picks for you:"},
}

_STATUS: dict[str, dict[str, str]] = {
    "pending": {"vi": "chờ xác nhận", "en": "awaiting confirmation"},
    "confirmed": {"vi": "đã xác nhận", "en": "confirmed"},
    "packed": {"vi": "đã đóng gói", "en": "packed"},
    "shipped": {"vi": "đang giao", "en": "shipped"},
    "delivered": {"vi": "đã giao", "en": "delivered"},
    "cancelled": {"vi": "đã huỷ", "en": "cancelled"},
    "returned": {"vi": "đã trả hàng", "en": "returned"},
}

# An example of a phone number as people of that country write it.
PHONE_EXAMPLES = {"VN": "0912 345 678", "PH": "0917 123 4567"}


def language_of(locale: str | None) -> str:
    return "vi" if (locale or "")[:2].lower() == "vi" else "en"


def say(key: str, language: str, **values: Any) -> str:
    text = _TEXTS[key]
    return text.get(language, text["en"]).format(**values)


def status_name(status: str, language: str) -> str:
    names = _STATUS.get(status, {})
    return names.get(language, names.get("en", status))


def money(amount: int, currency: str) -> str:
    # VND reads the Vietnamese way and PHP the Philippine way whatever the language.
    return format_minor(amount, currency)
