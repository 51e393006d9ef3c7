"""Booking in a conversation: pick a service, then a day, then a time (quick replies); the
booking is confirmed in the customer's language, and a time taken meanwhile is offered
again with the times still free. "My appointments" lists what is booked, to move or cancel.

Every quick reply carries all it needs (`APPT:<verb>:<language>:<args>`), so no state is
kept between taps; every tap is checked again (the service, the booking's owner, the slot)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import booking, repository, rules
from chatcart.appointments.errors import BookingInvalid, BookingNotFound, SlotTaken
from chatcart.appointments.schemas import (
    BookingIn,
    BookingOut,
    BookingPlace,
    DaySlots,
    ServiceOut,
)
from chatcart.appointments.texts import day_title, say, service_line, time_text, when
from chatcart.channels.base import MessageContent, QuickReply
from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.ids import key_of
from chatcart.kit.textnorm import fold

PREFIX = "APPT:"
LANGUAGES = ("vi", "en", "tl")
MAX_DAYS = 7  # day chips in one message, then "Other days"
MAX_TIMES = 10  # time chips in one message, then "Later times" and "Other days"
MAX_LISTED = 3  # bookings with their own Move / Cancel chips
_TITLE = 20  # Messenger shows 20 characters of a quick reply

# Built-in intents, on folded text (no accents, lower case), with the language each is in
# (it answers in that language when nothing surer is known: a widget visitor has no locale).
_INTENTS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "mine",
        "vi",
        re.compile(
            r"\b(lich hen cua (toi|minh|em)|lich cua (toi|minh|em)|xem lich hen|kiem tra lich hen"
            r"|huy lich( hen)?|doi lich( hen)?|doi gio hen|lich hen (ko|khong))\b"
        ),
    ),
    (
        "mine",
        "en",
        re.compile(
            r"\b(my (appointments?|bookings?)|(cancel|reschedule|change|move) my "
            r"(appointment|booking))\b"
        ),
    ),
    ("mine", "tl", re.compile(r"\b((appointment|booking) ko|aking (appointment|booking))\b")),
    ("book", "vi", re.compile(r"\b(dat lich( hen)?|dat hen|hen lich)\b")),
    (
        "book",
        "en",
        re.compile(
            r"\b(book (an? )?(appointment|session|slot|time)|(make|schedule) an appointment)\b"
        ),
    ),
    ("book", "tl", re.compile(r"\b(magpa ?book|mag ?book|pa ?book|magpa ?appointment)\b")),
)


def payload(verb: str, language: str, *args: object) -> str:
    return PREFIX + ":".join([verb, language, *(str(a) for a in args)])


def _chip(title: str, verb: str, language: str, *args: object) -> QuickReply:
    return QuickReply(title=title[:_TITLE], payload=payload(verb, language, *args))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _read_stamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _read_day(text: str) -> date | None:
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def _today(place: BookingPlace) -> date:
    return utcnow().astimezone(ZoneInfo(place.timezone)).date()


# ---- entry points -------------------------------------------------------------------------


async def answer(
    session: AsyncSession,
    place: BookingPlace,
    text: str,
    tapped: str | None,
    *,
    intents: bool,
) -> list[MessageContent] | None:
    if tapped and tapped.startswith(PREFIX):
        return await _tap(session, place, tapped)
    if tapped or not intents:
        return None
    folded = fold(text).strip()
    for op, language, pattern in _INTENTS if folded else ():
        if not pattern.search(folded):
            continue
        if not place.language_sure:
            place = place.model_copy(update={"language": language})
        if op == "mine":
            if not await repository.services(session, place.workspace_id):
                return None  # this shop does not take bookings: not ours to answer
            return await mine(session, place)
        if not await repository.has_active_services(session, place.workspace_id):
            return None
        return await services(session, place)
    return None


async def act(
    session: AsyncSession, place: BookingPlace, op: str, service: str
) -> list[MessageContent]:
    """A flow's appointment step: `mine`, or `book` (straight to the days of `service`,
    named by id or by its Vietnamese or English name, when given)."""
    if op == "mine":
        return await mine(session, place)
    if service.strip():
        wanted = fold(service).strip()
        for item in await rules.list_services(session, place.workspace_id, active_only=True):
            names = {str(item.id), fold(item.name_vi).strip(), fold(item.name_en).strip()}
            if wanted in names:
                return await days(session, place, item, 0)
    return await services(session, place)


async def _tap(session: AsyncSession, place: BookingPlace, tapped: str) -> list[MessageContent]:
    parts = tapped.split(":")
    verb = parts[1] if len(parts) > 1 else ""
    if len(parts) > 2 and parts[2] in LANGUAGES:  # the language it was offered in
        place = place.model_copy(update={"language": parts[2]})
    args = parts[3:]

    def number(i: int) -> int | None:
        return key_of(args[i]) if len(args) > i else None

    first, moving = number(0), number(1) or 0  # the service (or the booking), the booking moved
    if verb == "MINE":
        return await mine(session, place)
    if verb == "KEEP":
        return [MessageContent(text=say("kept", place.language))]
    if verb in {"CANCEL", "CANCELOK", "MOVE"} and first is not None:
        return await _about_booking(session, place, verb, first)
    if verb in {"SVC", "DAY", "AT"} and first is not None:
        service_id = first
        found = await _service(session, place, service_id, moving)
        if found is None:
            return await services(session, place)
        if verb == "SVC":
            return await days(session, place, found, moving, _read_day(_arg(args, 2)))
        if verb == "DAY":
            day = _read_day(_arg(args, 2))
            if day is not None:
                return await times(session, place, found, moving, day, number(3) or 0)
            return await days(session, place, found, moving)
        start = _read_stamp(_arg(args, 2))
        if start is not None:
            return await take(session, place, found, moving, start)
        return await days(session, place, found, moving)
    return await services(session, place)


def _arg(args: list[str], i: int) -> str:
    return args[i] if len(args) > i else ""


async def _service(
    session: AsyncSession, place: BookingPlace, service_id: int, moving: int
) -> ServiceOut | None:
    row = await repository.service(session, place.workspace_id, service_id)
    # A booking being moved keeps its service even when it is no longer offered.
    if row is None or not (row.active or moving):
        return None
    return ServiceOut.model_validate(row)


# ---- service, day, time -------------------------------------------------------------------


async def services(session: AsyncSession, place: BookingPlace) -> list[MessageContent]:
    language = place.language
    offered = await rules.list_services(session, place.workspace_id, active_only=True)
    if not offered:
        return [MessageContent(text=say("no_services", language))]
    if len(offered) == 1:
        return await days(session, place, offered[0], 0)
    lines = [
        f"{n}. " + service_line(s.name(language), s.duration_minutes, s.price, s.currency, language)
        for n, s in enumerate(offered, start=1)
    ]
    return [
        MessageContent(
            text="\n".join([say("pick_service", language), *lines]),
            quick_replies=[_chip(s.name(language), "SVC", language, s.id, 0) for s in offered[:13]],
        )
    ]


async def _free(
    session: AsyncSession,
    place: BookingPlace,
    service: ServiceOut,
    moving: int,
    first: date | None = None,
    last: date | None = None,
) -> list[DaySlots]:
    return await booking.free_slots(
        session,
        place.workspace_id,
        service.id,
        first_day=first,
        last_day=last,
        timezone=place.timezone,
        leave_out=moving or None,
    )


async def days(
    session: AsyncSession,
    place: BookingPlace,
    service: ServiceOut,
    moving: int,
    first: date | None = None,
    note: str = "",
) -> list[MessageContent]:
    """The next days with a free time (MAX_DAYS of them, then "Other days")."""
    language = place.language
    free = await _free(session, place, service, moving, first)
    name = service.name(language)
    if not free:
        plan = await rules.rules_of(session, place.workspace_id)
        last = _today(place) + timedelta(days=plan.days_ahead)
        text = say("no_slots", language, service=name, day=day_title(last, _today(place), language))
        return [MessageContent(text="\n".join(filter(None, [note, text])))]
    today = _today(place)
    chips = [
        _chip(
            day_title(d.day, today, language),
            "DAY",
            language,
            service.id,
            moving,
            f"{d.day:%Y%m%d}",
        )
        for d in free[:MAX_DAYS]
    ]
    if len(free) > MAX_DAYS:
        after = free[MAX_DAYS].day
        chips.append(
            _chip(
                say("other_days", language), "SVC", language, service.id, moving, f"{after:%Y%m%d}"
            )
        )
    elif first is not None:  # paged to the end: back to the first days
        chips.append(_chip(say("other_days", language), "SVC", language, service.id, moving))
    text = say("pick_day", language, service=_with_length(service, language))
    return [MessageContent(text="\n".join(filter(None, [note, text])), quick_replies=chips)]


def _with_length(service: ServiceOut, language: str) -> str:
    return f"{service.name(language)} ({say('minutes', language, n=service.duration_minutes)})"


async def times(
    session: AsyncSession,
    place: BookingPlace,
    service: ServiceOut,
    moving: int,
    day: date,
    offset: int = 0,
    note: str = "",
) -> list[MessageContent]:
    """The free times of one day (MAX_TIMES at a time, then "Later times")."""
    language = place.language
    free = await _free(session, place, service, moving, day, day)
    starts = free[0].starts if free else []
    if not starts:
        return await days(session, place, service, moving, note=note)
    offset = min(max(offset, 0), max(len(starts) - 1, 0))
    shown = starts[offset : offset + MAX_TIMES]
    chips = [
        _chip(time_text(s, place.timezone, language), "AT", language, service.id, moving, _stamp(s))
        for s in shown
    ]
    if offset + MAX_TIMES < len(starts):
        chips.append(
            _chip(say("later", language), "DAY", language, service.id, moving,
                  f"{day:%Y%m%d}", offset + MAX_TIMES)
        )  # fmt: skip
    chips.append(_chip(say("other_days", language), "SVC", language, service.id, moving))
    title = day_title(day, _today(place), language)
    text = say("pick_time", language, service=_with_length(service, language), day=title)
    return [MessageContent(text="\n".join(filter(None, [note, text])), quick_replies=chips)]


async def take(
    session: AsyncSession,
    place: BookingPlace,
    service: ServiceOut,
    moving: int,
    start: datetime,
) -> list[MessageContent]:
    """Book the time tapped (or move the booking being moved to it). Taken meanwhile: the
    times still free that day, else the next days."""
    language = place.language
    try:
        if moving:
            done = await booking.reschedule(
                session, place.workspace_id, moving, start, contact_id=place.contact_id
            )
        else:
            phone = (await contacts.fields_of(session, place.contact_id)).get("phone")
            data = BookingIn(
                service_id=service.id,
                starts_at=start,
                customer_name=place.contact_name[:200],
                phone=str(phone or "")[:32],
                contact_id=place.contact_id,
            )
            done = await booking.book(
                session,
                place.workspace_id,
                data,
                source="chat",
                conversation_id=place.conversation_id,
            )
    except SlotTaken:
        local_day = start.astimezone(ZoneInfo(place.timezone)).date()
        at = time_text(start, place.timezone, language)
        free = await _free(session, place, service, moving, local_day, local_day)
        if free:
            return await times(session, place, service, moving, local_day,
                               note=say("taken", language, time=at))  # fmt: skip
        title = day_title(local_day, _today(place), language)
        note = say("taken_day", language, time=at, day=title)
        return await days(session, place, service, moving, note=note)
    except (BookingNotFound, BookingInvalid):
        return [MessageContent(text=say("gone", language))]
    key = "moved" if moving else "booked"
    text = say(
        key,
        language,
        service=service.name(language),
        **when(done.starts_at, place.timezone, language),
    )
    return [
        MessageContent(
            text=text, quick_replies=[_chip(say("my_appointments", language), "MINE", language)]
        )
    ]


# ---- the customer's bookings --------------------------------------------------------------


async def mine(session: AsyncSession, place: BookingPlace) -> list[MessageContent]:
    language = place.language
    upcoming = await booking.upcoming_of(
        session, place.workspace_id, place.contact_id, language=language
    )
    book_chip = _chip(say("book_another" if upcoming else "book", language), "BOOK", language)
    if not upcoming:
        return [MessageContent(text=say("mine_none", language), quick_replies=[book_chip])]
    lines = [
        f"{n}. {b.service_name} · {_when_text(b, place, language)}"
        for n, b in enumerate(upcoming, start=1)
    ]
    chips: list[QuickReply] = []
    if len(upcoming) == 1:
        only = upcoming[0]
        chips += [
            _chip(say("move_one", language), "MOVE", language, only.id),
            _chip(say("cancel_one", language), "CANCEL", language, only.id),
        ]
    else:
        for n, b in enumerate(upcoming[:MAX_LISTED], start=1):
            chips += [
                _chip(say("move_n", language, n=n), "MOVE", language, b.id),
                _chip(say("cancel_n", language, n=n), "CANCEL", language, b.id),
            ]
    return [
        MessageContent(
            text="\n".join([say("mine", language), *lines]), quick_replies=[*chips, book_chip]
        )
    ]


def _when_text(item: BookingOut, place: BookingPlace, language: str) -> str:
    parts = when(item.starts_at, place.timezone, language)
    return f"{parts['time']}, {parts['date']}"


async def _about_booking(
    session: AsyncSession, place: BookingPlace, verb: str, booking_id: int
) -> list[MessageContent]:
    language = place.language
    gone = [MessageContent(text=say("gone", language))]
    try:
        item = await booking.get_booking(session, place.workspace_id, booking_id, language)
    except BookingNotFound:
        return gone
    if item.contact_id != place.contact_id or item.status != "booked" or item.ends_at <= utcnow():
        return gone
    moment = when(item.starts_at, place.timezone, language)
    if verb == "MOVE":
        found = await _service(session, place, item.service_id, item.id)
        return gone if found is None else await days(session, place, found, item.id)
    if verb == "CANCEL":
        question = say("cancel_question", language, service=item.service_name, **moment)
        return [
            MessageContent(
                text=question,
                quick_replies=[
                    _chip(say("cancel_yes", language), "CANCELOK", language, item.id),
                    _chip(say("keep", language), "KEEP", language),
                ],
            )
        ]
    await booking.cancel(
        session, place.workspace_id, item.id, by="customer", contact_id=place.contact_id
    )
    return [
        MessageContent(
            text=say("cancelled", language, service=item.service_name, **moment),
            quick_replies=[_chip(say("book_another", language), "BOOK", language)],
        )
    ]


async def cancelled_by_shop(
    session: AsyncSession, workspace_id: int, item: BookingOut, language: str = "vi"
) -> MessageContent:
    """What the customer is told when the shop cancels their booking."""
    timezone = await rules.timezone_of(session, workspace_id)
    moment = when(item.starts_at, timezone, language)
    return MessageContent(
        text=say("cancelled_by_shop", language, service=item.service_name, **moment),
        quick_replies=[_chip(say("book", language), "BOOK", language)],
    )
