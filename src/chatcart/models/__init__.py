"""All ORM tables, one module per aggregate, one metadata (Base.metadata)."""

from chatcart.models.base import Base
from chatcart.models.channel import ChannelAccount
from chatcart.models.contact import (
    Contact,
    ContactConsent,
    ContactEvent,
    ContactFieldValue,
    ContactIdentity,
    ContactPoint,
    ContactTag,
    FieldDefinition,
    Tag,
)
from chatcart.models.conversation import Conversation, Message
from chatcart.models.engagement import OptinToken, PostComment
from chatcart.models.inbound import InboundEvent, WebhookDelivery
from chatcart.models.outbox import DeliveryAttempt, OutboundMessage
from chatcart.models.segment import Segment, SegmentMember
from chatcart.models.user import ApiToken, LoginFailure, Membership, User
from chatcart.models.workspace import Workspace

__all__ = [
    "ApiToken",
    "Base",
    "ChannelAccount",
    "Contact",
    "ContactConsent",
    "ContactEvent",
    "ContactFieldValue",
    "ContactIdentity",
    "ContactPoint",
    "ContactTag",
    "Conversation",
    "DeliveryAttempt",
    "FieldDefinition",
    "InboundEvent",
    "LoginFailure",
    "Membership",
    "Message",
    "OptinToken",
    "OutboundMessage",
    "PostComment",
    "Segment",
    "SegmentMember",
    "Tag",
    "User",
    "WebhookDelivery",
    "Workspace",
]
