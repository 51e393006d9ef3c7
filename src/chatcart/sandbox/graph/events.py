"""Builders for Meta-shaped webhook events (platforms.md 2.4, 2.5, 2.6, 3).

Each builder returns a WebhookEvent without sending it; GraphState's emission methods send a
single event, GraphState.batch sends several in one POST. Window effects follow 2.2:
messages, quick-reply taps, postbacks and m.me referrals reopen the 24 h window; comments,
opt-ins, deliveries and reads do not. Instagram story mentions and story replies arrive as
messages and are treated as messages [U].

Timestamps: messaging events carry epoch milliseconds (2.5); feed / IG comment changes carry
epoch seconds in `entry.time` and `created_time`, as in the 2.6 example.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatcart.sandbox.graph.clock import epoch_ms, epoch_s
from chatcart.sandbox.graph.emit import WebhookEvent
from chatcart.sandbox.graph.marketing import TOKEN_LIFETIME
from chatcart.sandbox.graph.model import Account, FeedObject, Frequency, OptinToken, User

if TYPE_CHECKING:
    from chatcart.sandbox.graph.state import GraphState


def new_mid(account: Account) -> str:
    if account.kind == "instagram":
        return "aWdfZAG1f" + secrets.token_urlsafe(24)  # IG mids are opaque base64 [U]
    return "m_" + secrets.token_urlsafe(24)


def digits(n: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (n - 1)) + 10 ** (n - 1))


class EventBuilder:
    def __init__(self, state: GraphState) -> None:
        self.state = state

    # ---- helpers ------------------------------------------------------------------------

    def _messaging(
        self, account: Account, user: User, key: str, value: dict[str, Any], *, echo: bool = False
    ) -> tuple[dict[str, Any], int]:
        ts = epoch_ms(self.state.clock.now())
        sender, recipient = (account.id, user.id) if echo else (user.id, account.id)
        item = {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": ts}
        item[key] = value
        return item, ts

    def _opens_window(self, user: User) -> Callable[[], None]:
        at = self.state.clock.now()

        def apply() -> None:
            user.conversation_started = True
            user.last_interaction_at = at

        return apply

    # ---- Messenger and Instagram messaging ----------------------------------------------

    def user_says(
        self,
        page: str,
        psid: str,
        text: str | None,
        quick_reply_payload: str | None = None,
        *,
        attachments: list[dict[str, Any]] | None = None,
        reply_to_mid: str | None = None,
    ) -> WebhookEvent:
        """An inbound message (`messages` field); a quick-reply tap when a payload is given."""
        if text is None and not attachments:
            raise ValueError("a message needs text or attachments")
        account = self.state.account(page)
        user = self.state.ensure_user(page, psid)
        mid = new_mid(account)
        message: dict[str, Any] = {"mid": mid}
        if text is not None:
            message["text"] = text
        if quick_reply_payload is not None:
            message["quick_reply"] = {"payload": quick_reply_payload}
        if attachments:
            message["attachments"] = attachments
        if reply_to_mid:
            message["reply_to"] = {"mid": reply_to_mid}
        item, ts = self._messaging(account, user, "message", message)
        kind = "quick_reply" if quick_reply_payload is not None else "message"
        return WebhookEvent(account, kind, "messaging", item, ts, mid, self._opens_window(user))

    def user_postback(
        self, page: str, psid: str, payload: str, title: str, referral: str | None = None
    ) -> WebhookEvent:
        """`messaging_postbacks`; with `referral` = Get Started after an m.me?ref= link."""
        account = self.state.account(page)
        user = self.state.ensure_user(page, psid)
        mid = new_mid(account)
        postback: dict[str, Any] = {"mid": mid, "title": title, "payload": payload}
        if referral is not None:
            postback["referral"] = {"ref": referral, "source": "SHORTLINK", "type": "OPEN_THREAD"}
        item, ts = self._messaging(account, user, "postback", postback)
        return WebhookEvent(
            account, "postback", "messaging", item, ts, mid, self._opens_window(user)
        )

    def user_opens_ref_link(self, page: str, psid: str, ref: str) -> WebhookEvent:
        """m.me/<page>?ref=<ref>: into an existing thread → `messaging_referrals`; a new thread
        → the Get Started postback carrying the referral (2.5 "m.me links")."""
        account = self.state.account(page)
        user = self.state.ensure_user(page, psid)
        if not user.conversation_started:
            return self.user_postback(page, psid, account.get_started_payload, "Get Started", ref)
        referral = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
        item, ts = self._messaging(account, user, "referral", referral)
        return WebhookEvent(
            account, "referral", "messaging", item, ts, ref, self._opens_window(user)
        )

    def user_optin_marketing(
        self,
        page: str,
        psid: str,
        frequency: Frequency,
        title: str,
        payload: str,
        *,
        timezone: str = "UTC",
    ) -> WebhookEvent:
        """`messaging_optins` for marketing messages (2.4); does not open the window."""
        account = self.state.account(page)
        user = self.state.ensure_user(page, psid)
        now = self.state.clock.now()
        token = OptinToken(
            token=digits(19),
            account_id=account.id,
            user_id=user.id,
            frequency=frequency,
            title=title,
            payload=payload,
            timezone=timezone,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME[frequency],
        )
        optin = {
            "type": "notification_messages",
            "payload": payload,
            "notification_messages_token": token.token,
            "notification_messages_frequency": frequency,
            "notification_messages_timezone": timezone,
            "token_expiry_timestamp": epoch_ms(token.expires_at),
            "user_token_status": "NOT_REFRESHED",
            "title": title,
        }
        item, ts = self._messaging(account, user, "optin", optin)

        def apply() -> None:
            self.state.tokens[token.token] = token

        return WebhookEvent(account, "optin", "messaging", item, ts, token.token, apply)

    def user_stops_marketing(self, token: str, *, resume: bool = False) -> WebhookEvent:
        """The person stops (or resumes) marketing messages: `messaging_optins` with
        notification_messages_status (2.4 "on stop/resume")."""
        record = self.state.tokens[token]
        account = self.state.account(record.account_id)
        user = self.state.ensure_user(record.account_id, record.user_id)
        optin = {
            "type": "notification_messages",
            "payload": record.payload,
            "notification_messages_token": record.token,
            "notification_messages_status": "RESUME_NOTIFICATIONS"
            if resume
            else "STOP_NOTIFICATIONS",
            "notification_messages_frequency": record.frequency,
            "notification_messages_timezone": record.timezone,
            "token_expiry_timestamp": epoch_ms(record.expires_at),
            "title": record.title,
        }
        item, ts = self._messaging(account, user, "optin", optin)

        def apply() -> None:
            record.status = "ACTIVE" if resume else "STOPPED"

        return WebhookEvent(account, "optin", "messaging", item, ts, token, apply)

    def delivery(
        self, page: str, psid: str, mids: list[str] | None = None, watermark: int | None = None
    ) -> WebhookEvent:
        """`message_deliveries` (Messenger only): everything ≤ watermark delivered (2.5)."""
        account = self.state.account(page)
        if account.kind == "instagram":
            raise ValueError("Instagram sends no delivery events (3)")
        user = self.state.ensure_user(page, psid)
        sent = self.state.accepted_messages(page, psid)
        if mids is None:
            mids = [r.message_id for r in sent if r.message_id]
        if watermark is None:
            watermark = epoch_ms(sent[-1].at) if sent else epoch_ms(self.state.clock.now())
        value: dict[str, Any] = {"watermark": watermark}
        if mids:
            value["mids"] = mids
        item, ts = self._messaging(account, user, "delivery", value)
        return WebhookEvent(account, "delivery", "messaging", item, ts, None)

    def read(self, page: str, psid: str, watermark: int | None = None) -> WebhookEvent:
        """Messenger `message_reads` `{read: {watermark}}`; Instagram `messaging_seen`
        `{read: {mid}}` (3 [U exact IG keys])."""
        account = self.state.account(page)
        user = self.state.ensure_user(page, psid)
        sent = self.state.accepted_messages(page, psid)
        value: dict[str, Any]
        if account.kind == "instagram":
            if not sent or not sent[-1].message_id:
                raise ValueError("nothing was sent to this user")
            value = {"mid": sent[-1].message_id}
        else:
            if watermark is None:
                watermark = epoch_ms(sent[-1].at) if sent else epoch_ms(self.state.clock.now())
            value = {"watermark": watermark}
        item, ts = self._messaging(account, user, "read", value)
        return WebhookEvent(account, "read", "messaging", item, ts, None)

    def echo(self, message_id: str) -> WebhookEvent:
        """`message_echoes` of an accepted send: sender = Page, `is_echo`, `app_id`,
        `metadata` from the send (2.5). Instagram echoes arrive on `messages` (3)."""
        record = self.state.send_by_mid(message_id)
        if record is None or record.account_id is None or record.user_id is None:
            raise KeyError(f"no accepted send with message_id {message_id}")
        account = self.state.account(record.account_id)
        user = self.state.ensure_user(record.account_id, record.user_id)
        sent = record.message or {}
        message: dict[str, Any] = {
            "mid": message_id,
            "is_echo": True,
            "app_id": int(account.app_id),
        }
        if "metadata" in sent:
            message["metadata"] = sent["metadata"]
        if "text" in sent:
            message["text"] = sent["text"]
        if "attachment" in sent:
            att = sent["attachment"]
            message["attachments"] = [{"type": att.get("type"), "payload": att.get("payload")}]
        if "quick_replies" in sent:
            message["quick_replies"] = sent["quick_replies"]
        item, ts = self._messaging(account, user, "message", message, echo=True)
        return WebhookEvent(account, "echo", "messaging", item, ts, message_id)

    # ---- Instagram-only messages -------------------------------------------------------

    def story_mention(self, page: str, igsid: str, url: str | None = None) -> WebhookEvent:
        """IG story mention: a message whose attachment is `story_mention` (3 [V])."""
        self._require_ig(page)
        cdn = url or f"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id={digits(17)}"
        attachment = {"type": "story_mention", "payload": {"url": cdn}}
        event = self.user_says(page, igsid, None, attachments=[attachment])
        event.kind = "story_mention"
        return event

    def story_reply(
        self, page: str, igsid: str, text: str, story_id: str | None = None, url: str | None = None
    ) -> WebhookEvent:
        """IG story reply: `message.reply_to.story = {url, id}` (3 [S])."""
        self._require_ig(page)
        event = self.user_says(page, igsid, text)
        story = {
            "url": url or f"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id={digits(17)}",
            "id": story_id or digits(17),
        }
        event.item["message"]["reply_to"] = {"story": story}
        event.kind = "story_reply"
        return event

    def _require_ig(self, page: str) -> None:
        if self.state.account(page).kind != "instagram":
            raise ValueError(f"{page} is not an Instagram account")

    # ---- feed: comments and visitor posts ----------------------------------------------

    def user_comments(
        self,
        page: str,
        post_id: str,
        text: str,
        from_id: str,
        from_name: str,
        *,
        media_product_type: str = "FEED",
    ) -> WebhookEvent:
        """A comment. Page: `feed` change (2.6); Instagram: `comments` change (3), where
        `post_id` is the media id and `from_id` the commenter's IGSID. The event's `ref` is
        the comment id. Comments do not open the window."""
        account = self.state.account(page)
        now = self.state.clock.now()
        if account.kind == "instagram":
            comment_id = digits(17)
            value: dict[str, Any] = {
                "id": comment_id,
                "from": {"id": from_id, "username": from_name},
                "text": text,
                "media": {"id": post_id, "media_product_type": media_product_type},
            }
            change = {"field": "comments", "value": value}
        else:
            full_post = post_id if "_" in post_id else f"{account.id}_{post_id}"
            comment_id = f"{full_post.split('_')[-1]}_{digits(16)}"
            value = {
                "from": {"id": from_id, "name": from_name},
                "post": {"id": full_post, "status_type": "added_photos", "is_published": True},
                "message": text,
                "post_id": full_post,
                "comment_id": comment_id,
                "created_time": epoch_s(now),
                "item": "comment",
                "parent_id": full_post,
                "verb": "add",
            }
            change = {"field": "feed", "value": value}
        obj = FeedObject(comment_id, account.id, "comment", post_id, from_id, from_name, text, now)

        def apply() -> None:
            self.state.feed[obj.id] = obj

        return WebhookEvent(account, "comment", "changes", change, epoch_s(now), comment_id, apply)

    def user_posts(self, page: str, text: str, from_id: str, from_name: str) -> WebhookEvent:
        """A visitor post on the Page (`feed`, item "post" [U exact item]); private-replyable
        through `recipient.post_id` (2.6)."""
        account = self.state.account(page)
        if account.kind == "instagram":
            raise ValueError("visitor posts exist on Facebook Pages only")
        now = self.state.clock.now()
        post_id = f"{account.id}_{digits(16)}"
        value = {
            "from": {"id": from_id, "name": from_name},
            "message": text,
            "post_id": post_id,
            "created_time": epoch_s(now),
            "item": "post",
            "verb": "add",
            "published": 1,
        }
        obj = FeedObject(post_id, account.id, "post", post_id, from_id, from_name, text, now)

        def apply() -> None:
            self.state.feed[obj.id] = obj

        change = {"field": "feed", "value": value}
        return WebhookEvent(account, "post", "changes", change, epoch_s(now), post_id, apply)
