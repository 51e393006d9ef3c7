"""All ORM tables, one module per aggregate, one metadata (Base.metadata)."""

from chatcart.models.appointment import (
    AppointmentDay,
    AppointmentService,
    AppointmentSetting,
    Booking,
)
from chatcart.models.base import Base
from chatcart.models.broadcast import Broadcast, BroadcastRecipient
from chatcart.models.catalog import (
    Category,
    Product,
    ProductCategoryLink,
    ProductGroupItem,
    ProductImage,
    ProductVariant,
)
from chatcart.models.channel import ChannelAccount
from chatcart.models.contact import (
    Contact,
    ContactConsent,
    ContactEvent,
    ContactFieldValue,
    ContactIdentity,
    ContactImport,
    ContactPoint,
    ContactTag,
    FieldDefinition,
    Tag,
)
from chatcart.models.conversation import Conversation, Message
from chatcart.models.engagement import OptinToken, PostComment
from chatcart.models.flow import FlowRow, FlowRun, FlowVersion
from chatcart.models.inbound import InboundEvent, WebhookDelivery
from chatcart.models.order import Order, OrderEvent, OrderItem
from chatcart.models.outbox import DeliveryAttempt, OutboundMessage
from chatcart.models.segment import Segment, SegmentMember
from chatcart.models.shop import Payment, ShopChat, ShopSetting
from chatcart.models.user import ApiToken, LoginFailure, Membership, User
from chatcart.models.workspace import Workspace

__all__ = [
    "ApiToken",
    "AppointmentDay",
    "AppointmentService",
    "AppointmentSetting",
    "Base",
    "Booking",
    "Broadcast",
    "BroadcastRecipient",
    "Category",
    "ChannelAccount",
    "Contact",
    "ContactConsent",
    "ContactEvent",
    "ContactFieldValue",
    "ContactIdentity",
    "ContactImport",
    "ContactPoint",
    "ContactTag",
    "Conversation",
    "DeliveryAttempt",
    "FieldDefinition",
    "FlowRow",
    "FlowRun",
    "FlowVersion",
    "InboundEvent",
    "LoginFailure",
    "Membership",
    "Message",
    "OptinToken",
    "Order",
    "OrderEvent",
    "OrderItem",
    "OutboundMessage",
    "Payment",
    "PostComment",
    "Product",
    "ProductCategoryLink",
    "ProductGroupItem",
    "ProductImage",
    "ProductVariant",
    "Segment",
    "SegmentMember",
    "ShopChat",
    "ShopSetting",
    "Tag",
    "User",
    "WebhookDelivery",
    "Workspace",
]
