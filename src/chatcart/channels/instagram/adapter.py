"""Instagram adapter, "Messenger API for Instagram" flavour (platforms.md §3).

The professional account is linked to a Facebook Page and sends through that Page:
`POST {graph}/{version}/{page_id}/messages` with the Page token. AccountRef:
`external_id` = the IG professional account id (entry.id in webhooks, `object: "instagram"`),
`settings["page_id"]` = the linked Page, `credentials["page_token"]` = the Page token.

The other flavour, "Instagram API with Instagram Login" (no Page: `graph.instagram.com`,
`POST /{ig_id}/messages` with an Instagram user token — `settings.instagram_api_url`), takes
the same bodies; it is not wired here.
"""

from __future__ import annotations

from typing import ClassVar

from chatcart.channels.base import AccountRef, Capabilities, SendError
from chatcart.channels.meta.graph import GraphAdapter
from chatcart.channels.meta.webhook import WebhookObject

CAPABILITIES = Capabilities(
    max_text_chars=1000,  # §3
    quick_replies=13,
    buttons=3,
    attachments=True,
    cards=10,
    receipt=False,
)


class InstagramAdapter(GraphAdapter):
    kind = "instagram"
    webhook_object: ClassVar[WebhookObject] = "instagram"
    capabilities = CAPABILITIES
    profile_fields: ClassVar[tuple[str, ...]] = ("name", "username", "profile_pic")

    def sender_node(self, account: AccountRef) -> str:
        page_id = account.settings.get("page_id")
        if not page_id:
            raise SendError(
                "reauth",
                "no_page_id",
                f"instagram account {account.id} has no linked page_id in its settings",
            )
        return str(page_id)
