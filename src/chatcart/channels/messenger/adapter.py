"""Messenger adapter: a Facebook Page's inbox and feed comments (platforms.md §2).

AccountRef: `external_id` = the Page id, `credentials["page_token"]` = the Page token.
Webhooks arrive with `object: "page"`; split them with `chatcart.channels.meta.webhook`.
"""

from __future__ import annotations

from typing import ClassVar

from chatcart.channels.base import AccountRef, Capabilities
from chatcart.channels.meta.graph import GraphAdapter
from chatcart.channels.meta.webhook import WebhookObject

CAPABILITIES = Capabilities(
    max_text_chars=2000,  # §2.1
    quick_replies=13,
    buttons=3,
    attachments=True,
    cards=10,
    receipt=True,
    sender_actions=True,  # §2.1
)


class MessengerAdapter(GraphAdapter):
    kind = "messenger"
    webhook_object: ClassVar[WebhookObject] = "page"
    capabilities = CAPABILITIES
    # §2.7: locale and timezone need more than the base grant; without it, ask again plainly.
    profile_fields: ClassVar[tuple[str, ...]] = (
        "first_name",
        "last_name",
        "profile_pic",
        "locale",
        "timezone",
    )
    basic_profile_fields: ClassVar[tuple[str, ...] | None] = (
        "first_name",
        "last_name",
        "profile_pic",
    )

    def sender_node(self, account: AccountRef) -> str:
        return account.external_id
