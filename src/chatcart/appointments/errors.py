from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed


class ServiceNotFound(NotFound):
    code = "service_not_found"


class BookingNotFound(NotFound):
    code = "booking_not_found"


class SlotTaken(Conflict):
    """The time is no longer free: someone booked the last place, or it is too soon, or
    outside the opening hours now."""

    code = "slot_taken"


class BookingInvalid(ValidationFailed):
    code = "booking_invalid"


class ServiceInUse(Conflict):
    """A service with bookings is not deleted (its bookings would go with it): deactivate it."""

    code = "service_in_use"
