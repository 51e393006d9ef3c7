from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class Contact(IdMixin, CreatedMixin, Base):
    __tablename__ = "contact"
    __table_args__ = (
        # Latest interaction first (walked backwards): the first page of a list or segment.
        Index("ix_contact_workspace_recent", "workspace_id", "last_interaction_at", "id"),
    )

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Where the first contact came from: {"channel": "webchat", "page_url": ...}.
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_interaction_at: Mapped[datetime | None]
    # Folded name, phones and emails: what the accent-insensitive search looks in.
    search_text: Mapped[str] = mapped_column(Text, default="")
    order_count: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[int] = mapped_column(default=0)  # minor units of the workspace currency
    last_order_at: Mapped[datetime | None]
    # A contact merged into another stays, pointing at the one that holds everything now.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )


class ContactIdentity(IdMixin, CreatedMixin, Base):
    """One person on one channel account (PSID, WhatsApp number, widget visitor...)."""

    __tablename__ = "contact_identity"
    __table_args__ = (
        UniqueConstraint("channel_account_id", "external_id"),
        # "Messageable now on channel X": identities of the account inside the window.
        Index(
            "ix_contact_identity_window",
            "channel_account_id",
            "last_inbound_at",
            "reachable",
            "contact_id",
        ),
    )

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    channel_account_id: Mapped[int] = mapped_column(
        ForeignKey("channel_account.id", ondelete="CASCADE")
    )
    external_id: Mapped[str] = mapped_column(String(200))
    # The clock of the platform's messaging window.
    last_inbound_at: Mapped[datetime | None]
    reachable: Mapped[bool] = mapped_column(default=True)
    unreachable_reason: Mapped[str | None] = mapped_column(Text)
    # What the platform's profile API said, when it was asked.
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    profile_fetched_at: Mapped[datetime | None]


class ContactPoint(IdMixin, Base):
    """A phone number or email of a contact, with where and when it was seen."""

    __tablename__ = "contact_point"
    __table_args__ = (
        UniqueConstraint("contact_id", "kind", "value"),
        Index("ix_contact_point_lookup", "workspace_id", "kind", "value"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # phone | email
    # E.164 for valid phones, lower-cased address for emails; the text as typed otherwise.
    value: Mapped[str] = mapped_column(String(320))
    raw: Mapped[str] = mapped_column(String(320))
    valid: Mapped[bool] = mapped_column(default=True)  # invalid phones: kept, never matched on
    source: Mapped[str] = mapped_column(String(20))  # message | import | profile | manual
    channel_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_account.id", ondelete="SET NULL")
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Tag(IdMixin, CreatedMixin, Base):
    __tablename__ = "tag"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(100))  # folded name: "Khách VIP" == "khach vip"


class ContactTag(Base):
    __tablename__ = "contact_tag"
    __table_args__ = (Index("ix_contact_tag_tag_id", "tag_id", "contact_id"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    tagged_at: Mapped[datetime] = mapped_column(default=utcnow)


class FieldDefinition(IdMixin, CreatedMixin, Base):
    """A custom contact field of a workspace (text, number, date, boolean, choice)."""

    __tablename__ = "field_definition"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(10))
    choices: Mapped[list[str] | None] = mapped_column(JSON)


class ContactFieldValue(Base):
    """One value per (contact, field), in the column of the field's type."""

    __tablename__ = "contact_field_value"
    __table_args__ = (
        Index("ix_contact_field_value_text", "field_id", "value_text"),
        Index("ix_contact_field_value_number", "field_id", "value_number"),
        Index("ix_contact_field_value_date", "field_id", "value_date"),
    )

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    field_id: Mapped[int] = mapped_column(
        ForeignKey("field_definition.id", ondelete="CASCADE"), primary_key=True
    )
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[float | None]
    value_date: Mapped[date | None]
    value_bool: Mapped[bool | None]


class ContactConsent(Base):
    """The current consent of a contact per purpose (the history is in contact_event)."""

    __tablename__ = "contact_consent"

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(30), primary_key=True)  # marketing | ...
    status: Mapped[str] = mapped_column(String(10))  # granted | revoked
    source: Mapped[str] = mapped_column(String(40))  # STOP keyword, opt-in, import, admin
    updated_at: Mapped[datetime]


class ContactEvent(IdMixin, Base):
    """The contact's timeline: created, merged, tagged, field set, consent changed..."""

    __tablename__ = "contact_event"
    __table_args__ = (Index("ix_contact_event_contact_at", "contact_id", "at"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str | None] = mapped_column(String(200))  # user email, "system", "import"
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ContactImport(IdMixin, CreatedMixin, Base):
    """A CSV import started from the admin: its progress while it runs (any web process
    can show it) and its report when it is done."""

    __tablename__ = "contact_import"
    __table_args__ = (Index("ix_contact_import_workspace_created", "workspace_id", "created_at"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="running")  # running | done | failed
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None]
    # ImportReport as JSON once done; the reason when the file could not be read.
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    # Moved on every batch: a running import whose clock stopped was interrupted.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
