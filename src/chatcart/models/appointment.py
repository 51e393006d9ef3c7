"""Appointments: the services a shop books (a styling session, a hem), its booking rules
(opening hours per weekday, capacity, slot step, notice, horizon), dates with other hours,
and the bookings. Times are stored UTC; the workspace's time zone says what they mean."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class AppointmentService(IdMixin, CreatedMixin, Base):
    """Something a customer books: its name in Vietnamese and English, how long it takes
    and, optionally, its price (minor units)."""

    __tablename__ = "appointment_service"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120), default="")
    duration_minutes: Mapped[int]
    price: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="VND")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)  # the order customers see them in


class AppointmentSetting(IdMixin, Base):
    """A workspace's booking rules. Its row is also what bookings lock, one at a time per
    workspace, so two customers cannot both take the last place (PostgreSQL; SQLite
    transactions begin IMMEDIATE and are one at a time anyway)."""

    __tablename__ = "appointment_setting"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # {"mon": [["09:00", "12:00"], ["13:30", "18:00"]], ...}: local wall-clock times.
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    capacity: Mapped[int] = mapped_column(default=1)  # bookings that may overlap (staff, chairs)
    step_minutes: Mapped[int] = mapped_column(default=30)
    min_notice_minutes: Mapped[int] = mapped_column(default=120)
    days_ahead: Mapped[int] = mapped_column(default=14)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppointmentDay(IdMixin, Base):
    """A date with other hours than its weekday's: closed (no hours) or special hours."""

    __tablename__ = "appointment_day"
    __table_args__ = (UniqueConstraint("workspace_id", "day"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    day: Mapped[date]
    hours: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"hours": [[from, to], ...]}
    note: Mapped[str] = mapped_column(String(200), default="")


class Booking(IdMixin, CreatedMixin, Base):
    """One booked appointment. Cancelled ones stay, with who cancelled them."""

    __tablename__ = "appointment_booking"
    __table_args__ = (Index("ix_appointment_booking_time", "workspace_id", "starts_at"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_service.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversation.id", ondelete="SET NULL")
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="booked")  # booked | cancelled
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    source: Mapped[str] = mapped_column(String(10), default="chat")  # chat | admin | api
    rescheduled_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
