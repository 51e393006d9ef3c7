"""The appointments room's only door: services, booking rules and dates with other hours
(rules.py), free slots and bookings — never more than `capacity` at once, also when
customers race (booking.py) —, the shop cancelling a booking and telling its customer, and
the room's answers in chat (chat.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.appointments import booking, chat, rules
from chatcart.appointments.schemas import BookingOut, BookingPlace
from chatcart.channels.base import MessageContent
from chatcart.contacts import service as contacts
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.workspaces import service as workspaces

# services, rules and dates with other hours
list_services = rules.list_services
get_service = rules.get_service
save_service = rules.save_service
delete_service = rules.delete_service
rules_of = rules.rules_of
save_rules = rules.save_rules
special_days = rules.special_days
save_special_day = rules.save_special_day
delete_special_day = rules.delete_special_day

# free slots and bookings
free_slots = booking.free_slots
book = booking.book
reschedule = booking.reschedule
cancel = booking.cancel
get_booking = booking.get_booking
list_bookings = booking.list_bookings
upcoming_of = booking.upcoming_of


def language_of(locale: str | None) -> str:
    """vi, en or tl from a locale such as vi_VN, en_US, tl or fil_PH (else en)."""
    code = (locale or "")[:3].lower().rstrip("_-")
    if code in {"fil", "tl"}:
        return "tl"
    return "vi" if code == "vi" else "en"


async def _customer_language(session: AsyncSession, workspace_id: int, item: BookingOut) -> str:
    locale = None
    if item.contact_id is not None:
        try:
            locale = (await contacts.get(session, workspace_id, item.contact_id)).locale
        except AppError:
            locale = None
    return language_of(locale or (await workspaces.get(session, workspace_id)).locale)


async def cancel_and_tell(
    session: AsyncSession,
    effects: Effects,
    workspace_id: int,
    booking_id: int,
    *,
    by: str,
) -> BookingOut:
    """The shop cancels a booking; its customer is told in the conversation it was made
    in, through the outbox (policy decides whether it may go now, as for order news)."""
    before = await booking.get_booking(session, workspace_id, booking_id)
    out = await booking.cancel(session, workspace_id, booking_id, by=by)
    if before.status == "booked" and out.conversation_id is not None:
        from chatcart.conversations import service as conversations  # it calls this room

        language = await _customer_language(session, workspace_id, out)
        named = await booking.get_booking(session, workspace_id, booking_id, language)
        await conversations.post(
            session,
            effects,
            workspace_id=workspace_id,
            conversation_id=out.conversation_id,
            content=await chat.cancelled_by_shop(session, workspace_id, named, language),
            key=f"appointment:{out.id}:cancelled",
            purpose="event_reminder",
        )
    return out


async def answer(
    session: AsyncSession,
    place: BookingPlace,
    text: str,
    payload: str | None,
    *,
    intents: bool,
) -> list[MessageContent] | None:
    """The room's answer to an APPT: tap, or (with `intents`) to typed words such as
    "đặt lịch" or "lịch hẹn của tôi"; None when it is not for this room."""
    return await chat.answer(session, place, text, payload, intents=intents)


async def act(
    session: AsyncSession, place: BookingPlace, op: str, service: str = ""
) -> list[MessageContent]:
    """What a flow's appointment step shows: the services (or the days of the one named),
    or the customer's bookings."""
    return await chat.act(session, place, op, service)
