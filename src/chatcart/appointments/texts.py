"""What the booking chat says, in Vietnamese, English and Tagalog, and how it writes days
and times (Babel's vi, en and fil data). Messages to customers, kept with the room like
shop/texts.py, not in the admin's Babel catalog."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from chatcart.kit.money import format_minor

_TEXTS: dict[str, dict[str, str]] = {
    "pick_service": {
        "vi": "Bạn muốn đặt lịch dịch vụ nào?",
        "en": "Which service would you like to book?",
        "tl": "Anong serbisyo ang gusto mong i-book?",
    },
    "minutes": {"vi": "{n} phút", "en": "{n} min", "tl": "{n} minuto"},
    "free": {"vi": "miễn phí", "en": "free", "tl": "libre"},
    "pick_day": {
        "vi": "{service}: bạn muốn hẹn ngày nào?",
        "en": "{service}: which day suits you?",
        "tl": "{service}: anong araw ang gusto mo?",
    },
    "pick_time": {
        "vi": "{service}, {day}: bạn chọn giờ nhé.",
        "en": "{service}, {day}: pick a time.",
        "tl": "{service}, {day}: pumili ng oras.",
    },
    "later": {"vi": "Giờ muộn hơn", "en": "Later times", "tl": "Mas huling oras"},
    "other_days": {"vi": "Ngày khác", "en": "Other days", "tl": "Ibang araw"},
    "today": {"vi": "Hôm nay", "en": "Today", "tl": "Ngayon"},
    "tomorrow": {"vi": "Ngày mai", "en": "Tomorrow", "tl": "Bukas"},
    "no_slots": {
        "vi": "Tiếc quá, {service} đã kín lịch từ giờ đến {day}. Bạn nhắn shop để được "
        "sắp xếp nhé.",
        "en": "Sorry, {service} is fully booked until {day}. Message us and we will find "
        "you a time.",
        "tl": "Pasensya na, puno na ang {service} hanggang {day}. Mag-message ka at hahanapan "
        "ka namin ng oras.",
    },
    "no_services": {
        "vi": "Shop chưa nhận đặt lịch qua chat.",
        "en": "We do not take bookings in chat yet.",
        "tl": "Hindi pa kami tumatanggap ng booking sa chat.",
    },
    "booked": {
        "vi": "✅ Đã đặt lịch {service} lúc {time}, {date}. Hẹn gặp bạn!",
        "en": "✅ Booked: {service} at {time} on {date}. See you then!",
        "tl": "✅ Naka-book na: {service} sa {time}, {date}. Kita tayo!",
    },
    "moved": {
        "vi": "✅ Đã đổi lịch {service} sang {time}, {date}.",
        "en": "✅ Moved: {service} is now at {time} on {date}.",
        "tl": "✅ Nailipat na: {service} sa {time}, {date}.",
    },
    "taken": {
        "vi": "Tiếc quá, {time} vừa có người đặt mất. Bạn chọn giờ khác nhé:",
        "en": "Sorry, {time} was just taken. Please pick another time:",
        "tl": "Pasensya na, may nakakuha na ng {time}. Pumili ng ibang oras:",
    },
    "taken_day": {
        "vi": "Tiếc quá, {time} vừa có người đặt mất và {day} đã kín lịch. Bạn chọn ngày khác nhé:",
        "en": "Sorry, {time} was just taken and {day} is now full. Please pick another day:",
        "tl": "Pasensya na, may nakakuha na ng {time} at puno na ang {day}. Pumili ng ibang araw:",
    },
    "mine_none": {
        "vi": "Bạn chưa có lịch hẹn nào sắp tới.",
        "en": "You have no upcoming appointments.",
        "tl": "Wala kang paparating na appointment.",
    },
    "mine": {
        "vi": "Lịch hẹn sắp tới của bạn:",
        "en": "Your upcoming appointments:",
        "tl": "Ang mga paparating mong appointment:",
    },
    "my_appointments": {"vi": "Lịch hẹn của tôi", "en": "My appointments", "tl": "Appointment ko"},
    "book": {"vi": "Đặt lịch", "en": "Book a time", "tl": "Mag-book"},
    "book_another": {"vi": "Đặt lịch mới", "en": "Book another", "tl": "Mag-book ulit"},
    "cancel_one": {"vi": "Huỷ lịch", "en": "Cancel", "tl": "Kanselahin"},
    "move_one": {"vi": "Đổi giờ", "en": "Change time", "tl": "Palitan ang oras"},
    "cancel_n": {"vi": "Huỷ lịch {n}", "en": "Cancel #{n}", "tl": "Kanselahin #{n}"},
    "move_n": {"vi": "Đổi giờ lịch {n}", "en": "Move #{n}", "tl": "Ilipat #{n}"},
    "cancel_question": {
        "vi": "Bạn muốn huỷ lịch {service} lúc {time}, {date}?",
        "en": "Cancel {service} at {time} on {date}?",
        "tl": "Kanselahin ang {service} sa {time}, {date}?",
    },
    "cancel_yes": {"vi": "Huỷ lịch", "en": "Yes, cancel", "tl": "Oo, kanselahin"},
    "keep": {"vi": "Giữ lịch", "en": "Keep it", "tl": "Huwag"},
    "kept": {
        "vi": "Dạ, lịch hẹn của bạn vẫn được giữ nguyên.",
        "en": "Your appointment stays as it is.",
        "tl": "Hindi binago ang appointment mo.",
    },
    "cancelled": {
        "vi": "Đã huỷ lịch {service} lúc {time}, {date}.",
        "en": "Cancelled: {service} at {time} on {date}.",
        "tl": "Nakansela na ang {service} sa {time}, {date}.",
    },
    "cancelled_by_shop": {
        "vi": "Shop rất tiếc phải huỷ lịch {service} lúc {time}, {date} của bạn. Bạn đặt giờ "
        "khác giúp shop nhé.",
        "en": "We are sorry: we had to cancel your {service} at {time} on {date}. Please book "
        "another time.",
        "tl": "Pasensya na, kinailangan naming kanselahin ang {service} mo sa {time}, {date}. "
        "Mag-book ng ibang oras.",
    },
    "gone": {
        "vi": "Không tìm thấy lịch hẹn này (có thể đã huỷ hoặc đã qua).",
        "en": "That appointment is no longer there (cancelled or past).",
        "tl": "Wala na ang appointment na iyon (nakansela o tapos na).",
    },
}

_BABEL = {"vi": "vi", "en": "en", "tl": "fil"}
_SHORT_DAY = {"vi": "EEE d/M", "en": "EEE, MMM d", "tl": "EEE, MMM d"}
_LONG_DAY = {"vi": "EEEE, d/M/y", "en": "EEEE, MMMM d, y", "tl": "EEEE, MMMM d, y"}


def say(key: str, language: str, **values: Any) -> str:
    text = _TEXTS[key]
    return text.get(language, text["en"]).format(**values)


def day_title(day: date, today: date, language: str) -> str:
    """A day chip: "Hôm nay 21/11", "Thứ 7 22/11"; "Today, Nov 21", "Sun, Nov 22"."""
    locale = _BABEL.get(language, "en")
    if (day - today).days in (0, 1):
        word = say("today" if day == today else "tomorrow", language)
        if language == "vi":
            return f"{word} {format_date(day, 'd/M', locale=locale)}"
        return f"{word}, {format_date(day, 'MMM d', locale=locale)}"
    return format_date(day, _SHORT_DAY.get(language, "EEE, MMM d"), locale=locale)


def long_day(day: date, language: str) -> str:
    locale = _BABEL.get(language, "en")
    return format_date(day, _LONG_DAY.get(language, "EEEE, MMMM d, y"), locale=locale)


def time_text(moment: datetime, timezone: str, language: str) -> str:
    """10:30 in Vietnamese, 10:30 AM in English and Tagalog (local time)."""
    local = moment.astimezone(ZoneInfo(timezone))
    text = format_time(local.time(), "short", locale=_BABEL.get(language, "en"))
    return text.replace("\u202f", " ")  # CLDR's narrow no-break space reads oddly in chat


def when(moment: datetime, timezone: str, language: str) -> dict[str, str]:
    """{time}, {date} of a booking in the shop's local time."""
    local = moment.astimezone(ZoneInfo(timezone))
    return {"time": time_text(moment, timezone, language), "date": long_day(local.date(), language)}


def service_line(name: str, minutes: int, price: int | None, currency: str, language: str) -> str:
    parts = [name, say("minutes", language, n=minutes)]
    if price is not None:
        parts.append(format_minor(price, currency) if price else say("free", language))
    return " · ".join(parts)
