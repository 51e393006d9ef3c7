"""GraphState: everything the fake Graph API knows, plus the webhook emission methods.

Tests and the demo hold one GraphState, hand it to create_graph_app(), and use it directly
(in-process) or through the control API (`/_sandbox/`, control.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, TypedDict

from typing_extensions import Unpack

from chatcart.sandbox.graph import emit
from chatcart.sandbox.graph.clock import SandboxClock
from chatcart.sandbox.graph.emit import Emission, WebhookEvent
from chatcart.sandbox.graph.events import EventBuilder
from chatcart.sandbox.graph.model import (
    Account,
    FeedObject,
    Frequency,
    GraphConfig,
    Kind,
    OptinToken,
    RateLimits,
    SendRecord,
    User,
)
from chatcart.sandbox.graph.ratelimit import TokenBucket

DEFAULT_FEATURES = {"human_agent": False}


class EmitOptions(TypedDict, total=False):
    bad_signature: bool  # sign with a wrong key
    no_signature: bool  # send no signature headers
    duplicate: int  # POST the same bytes this many times


class GraphState:
    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        config: GraphConfig | None = None,
        rates: RateLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock or SandboxClock()
        self.config = config or GraphConfig()
        self.monotonic = monotonic
        self.build = EventBuilder(self)
        self._rates = rates or RateLimits()
        self._tasks: set[asyncio.Task[None]] = set()
        self.reset()

    def reset(self) -> None:
        """Forget everything except clock, config and rates."""
        self.features: dict[str, bool] = dict(DEFAULT_FEATURES)
        self.accounts: dict[str, Account] = {}
        self.revoked_tokens: set[str] = set()
        self.users: dict[tuple[str, str], User] = {}
        self.feed: dict[str, FeedObject] = {}
        self.tokens: dict[str, OptinToken] = {}
        self.optin_requests: dict[tuple[str, str, str], datetime] = {}
        self.log: list[SendRecord] = []
        self.buckets: dict[tuple[str, str], TokenBucket] = {}

    # ---- configuration ------------------------------------------------------------------

    @property
    def rates(self) -> RateLimits:
        return self._rates

    @rates.setter
    def rates(self, value: RateLimits) -> None:
        self._rates = value
        self.buckets.clear()

    def take_rate(self, account_id: str, bucket: str) -> bool:
        key = (account_id, bucket)
        if key not in self.buckets:
            rate, period = {
                "text": (self._rates.text_per_second, 1.0),
                "media": (self._rates.media_per_second, 1.0),
                "private_reply": (self._rates.private_replies_per_hour, 3600.0),
            }[bucket]
            self.buckets[key] = TokenBucket(rate, period, self.monotonic)
        return self.buckets[key].take()

    def set_feature(self, name: str, enabled: bool) -> None:
        self.features[name] = enabled

    # ---- accounts and users -------------------------------------------------------------

    def add_page(
        self,
        page_id: str,
        token: str,
        app_secret: str,
        callback_url: str | None = None,
        *,
        name: str = "",
        kind: Kind = "page",
        page_id_link: str | None = None,
        app_id: str = "1000000000000001",
        granted_profile_fields: Sequence[str] = (),
    ) -> Account:
        """Register a Page (kind "page", id = Page ID) or an Instagram account (kind
        "instagram", id = IG account id, `page_id_link` = its linked Page)."""
        account = Account(
            id=page_id,
            kind=kind,
            token=token,
            app_secret=app_secret,
            callback_url=callback_url,
            name=name or f"Page {page_id}",
            app_id=app_id,
            page_id=page_id_link,
            granted_profile_fields=set(granted_profile_fields),
        )
        self.accounts[page_id] = account
        self.revoked_tokens.discard(token)
        return account

    def account(self, account_id: str) -> Account:
        try:
            return self.accounts[account_id]
        except KeyError:
            raise KeyError(f"no page/account {account_id} in the sandbox") from None

    def accounts_for_token(self, token: str) -> list[Account]:
        return [a for a in self.accounts.values() if a.token == token]

    def revoke_token(self, account_id: str) -> None:
        """The Page's token stops working (190) until the page is registered again."""
        self.revoked_tokens.add(self.account(account_id).token)

    def add_user(self, account_id: str, user_id: str, **fields: Any) -> User:
        self.account(account_id)
        user = User(account_id=account_id, id=user_id, **fields)
        if user.last_interaction_at is not None:
            user.conversation_started = True
        self.users[(account_id, user_id)] = user
        return user

    def user(self, account_id: str, user_id: str) -> User | None:
        return self.users.get((account_id, user_id))

    def ensure_user(self, account_id: str, user_id: str) -> User:
        found = self.user(account_id, user_id)
        if found is not None:
            return found
        return self.add_user(account_id, user_id, first_name="User", last_name=user_id[-4:])

    def user_by_feed_id(self, account_id: str, feed_id: str) -> User | None:
        for user in self.users.values():
            if user.account_id == account_id and user.feed_id == feed_id:
                return user
        return None

    def user_by_ref(self, account_id: str, user_ref: str) -> User | None:
        for user in self.users.values():
            if user.account_id == account_id and user.user_ref == user_ref:
                return user
        return None

    def set_interaction(self, account_id: str, user_id: str, at: datetime | None = None) -> None:
        """Control: pretend the user's last message/postback was at `at` (default now)."""
        user = self.ensure_user(account_id, user_id)
        user.last_interaction_at = at or self.clock.now()
        user.conversation_started = True

    def set_unavailable(self, account_id: str, user_id: str, unavailable: bool = True) -> None:
        self.ensure_user(account_id, user_id).unavailable = unavailable

    def add_comment(
        self,
        account_id: str,
        comment_id: str,
        *,
        post_id: str,
        from_id: str,
        from_name: str = "",
        text: str = "",
        created_at: datetime | None = None,
        kind: Literal["comment", "post"] = "comment",
    ) -> FeedObject:
        """Control: a comment (or visitor post) that exists without a webhook."""
        obj = FeedObject(
            comment_id,
            self.account(account_id).id,
            kind,
            post_id,
            from_id,
            from_name,
            text,
            created_at or self.clock.now(),
        )
        self.feed[comment_id] = obj
        return obj

    # ---- the send log -------------------------------------------------------------------

    def record(self, **fields: Any) -> SendRecord:
        record = SendRecord(seq=len(self.log) + 1, at=self.clock.now(), **fields)
        self.log.append(record)
        return record

    def sends(
        self,
        page: str | None = None,
        user: str | None = None,
        *,
        accepted: bool | None = None,
    ) -> list[SendRecord]:
        return [
            r
            for r in self.log
            if (page is None or r.account_id == page)
            and (user is None or r.user_id == user)
            and (accepted is None or r.accepted == accepted)
        ]

    def accepted_messages(self, page: str, user: str) -> list[SendRecord]:
        return [r for r in self.sends(page, user, accepted=True) if r.message_id]

    def send_by_mid(self, message_id: str) -> SendRecord | None:
        for record in self.log:
            if record.accepted and record.message_id == message_id:
                return record
        return None

    # ---- webhook emission ---------------------------------------------------------------

    async def batch(
        self,
        events: Sequence[WebhookEvent],
        *,
        bad_signature: bool = False,
        no_signature: bool = False,
        duplicate: int = 1,
    ) -> Emission:
        """Apply the events' effects, then POST them in ONE signed body to the callback."""
        payload = emit.envelope(events)
        account = events[0].account
        if not account.callback_url:
            raise ValueError(f"page {account.id} has no webhook callback URL")
        for event in events:
            event.apply()
        body = emit.encode(payload)
        headers = emit.signature_headers(
            body, account.app_secret, bad=bad_signature, absent=no_signature
        )
        emission = Emission(account.callback_url, body, payload, headers, list(events))
        emission.deliveries = await emit.post(
            account.callback_url,
            body,
            headers,
            times=max(duplicate, 1),
            timeout_seconds=self.config.webhook_timeout_seconds,
        )
        return emission

    async def user_says(
        self,
        page: str,
        psid: str,
        text: str | None,
        quick_reply_payload: str | None = None,
        **options: Unpack[EmitOptions],
    ) -> Emission:
        return await self.batch(
            [self.build.user_says(page, psid, text, quick_reply_payload)], **options
        )

    async def user_postback(
        self,
        page: str,
        psid: str,
        payload: str,
        title: str,
        referral: str | None = None,
        **options: Unpack[EmitOptions],
    ) -> Emission:
        return await self.batch(
            [self.build.user_postback(page, psid, payload, title, referral)], **options
        )

    async def user_opens_ref_link(
        self, page: str, psid: str, ref: str, **options: Unpack[EmitOptions]
    ) -> Emission:
        return await self.batch([self.build.user_opens_ref_link(page, psid, ref)], **options)

    async def user_comments(
        self,
        page: str,
        post_id: str,
        text: str,
        from_id: str,
        from_name: str,
        **options: Unpack[EmitOptions],
    ) -> Emission:
        """Emission.comment_id is the new comment's id."""
        event = self.build.user_comments(page, post_id, text, from_id, from_name)
        return await self.batch([event], **options)

    async def user_posts(
        self, page: str, text: str, from_id: str, from_name: str, **options: Unpack[EmitOptions]
    ) -> Emission:
        return await self.batch([self.build.user_posts(page, text, from_id, from_name)], **options)

    async def user_optin_marketing(
        self,
        page: str,
        psid: str,
        frequency: Frequency,
        title: str,
        payload: str,
        *,
        timezone: str = "UTC",
        **options: Unpack[EmitOptions],
    ) -> Emission:
        """Emission.token is the notification_messages_token."""
        event = self.build.user_optin_marketing(
            page, psid, frequency, title, payload, timezone=timezone
        )
        return await self.batch([event], **options)

    async def user_stops_marketing(self, token: str, **options: Unpack[EmitOptions]) -> Emission:
        return await self.batch([self.build.user_stops_marketing(token)], **options)

    async def user_resumes_marketing(self, token: str, **options: Unpack[EmitOptions]) -> Emission:
        return await self.batch([self.build.user_stops_marketing(token, resume=True)], **options)

    async def delivery(
        self,
        page: str,
        psid: str,
        *,
        mids: list[str] | None = None,
        watermark: int | None = None,
        **options: Unpack[EmitOptions],
    ) -> Emission:
        return await self.batch([self.build.delivery(page, psid, mids, watermark)], **options)

    async def read(
        self, page: str, psid: str, *, watermark: int | None = None, **options: Unpack[EmitOptions]
    ) -> Emission:
        return await self.batch([self.build.read(page, psid, watermark)], **options)

    async def echo(self, message_id: str, **options: Unpack[EmitOptions]) -> Emission:
        return await self.batch([self.build.echo(message_id)], **options)

    async def story_mention(
        self, page: str, igsid: str, *, url: str | None = None, **options: Unpack[EmitOptions]
    ) -> Emission:
        return await self.batch([self.build.story_mention(page, igsid, url)], **options)

    async def story_reply(
        self,
        page: str,
        igsid: str,
        text: str,
        *,
        story_id: str | None = None,
        **options: Unpack[EmitOptions],
    ) -> Emission:
        return await self.batch([self.build.story_reply(page, igsid, text, story_id)], **options)

    # ---- automatic receipts after accepted sends (2.11 #6) ------------------------------

    def after_accepted_send(self, record: SendRecord) -> None:
        cfg = self.config
        if not record.message_id or not (cfg.auto_echo or cfg.auto_delivery or cfg.auto_read):
            return
        task = asyncio.get_running_loop().create_task(self._receipts(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _receipts(self, record: SendRecord) -> None:
        assert record.account_id is not None
        assert record.user_id is not None
        assert record.message_id is not None
        account = self.account(record.account_id)
        if self.config.auto_echo:
            await self.echo(record.message_id)
        if self.config.auto_delivery and account.kind == "page":
            await self.delivery(record.account_id, record.user_id, mids=[record.message_id])
        if self.config.auto_read:
            await self.read(record.account_id, record.user_id)

    async def drain(self) -> None:
        """Wait for automatic receipts still in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
