"""The booking step, registered like the built-in ones: an `appointment` step has the
appointments room answer inside the flow — the services to pick from (or, for a service
named in the step, its next free days), or the customer's own bookings. Pure: the step only
asks; the conversation engine executes the AppointmentAction through the room's service,
and the room's quick replies (day, then time) carry the booking on from there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from chatcart.flows.document import Step
from chatcart.flows.registry import register
from chatcart.flows.schemas import AppointmentAction

if TYPE_CHECKING:
    from chatcart.flows.runtime import Run


class AppointmentStep(Step):
    """Offer free slots to book (`op: book`), or show the customer's upcoming bookings to
    move or cancel (`op: mine`). `service`: a service's id or its Vietnamese or English
    name, to skip the choice of service; takes {{variables}}."""

    type: Literal["appointment"]
    op: Literal["book", "mine"] = "book"
    service: str = Field(default="", max_length=120)


def appointment(run: Run, step: AppointmentStep) -> None:
    run.actions.append(
        AppointmentAction(op=step.op, service=run.fill(step.service), language=run.state.language)
    )
    run.go(step.next)


register(AppointmentStep, appointment)
