"""The dispatcher's status machine: sent, retried with backoff, failed with the code,
stopped by policy — one delivery_attempt row per try."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from chatcart.channels.base import (
    AccountRef,
    Capabilities,
    InboundEvent,
    MessageContent,
    OutboundEnvelope,
    SendError,
    SendResult,
)
from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.models import DeliveryAttempt, OutboundMessage
from chatcart.outbox import service as outbox
from chatcart.policy.packs import PACKS, window_only
from chatcart.runtime import Runtime
from chatcart.worker.loops import Worker
from tests.helpers.factory import make_shop


class ScriptedAdapter:
    """Answers each send with the next scripted outcome; records what it was asked."""

    kind = "webchat"
    capabilities = Capabilities(max_text_chars=20, quick_replies=0, buttons=0, attachments=False)

    def __init__(self, outcomes: list[SendResult | SendError]) -> None:
        self.outcomes = outcomes
        self.sent: list[OutboundEnvelope] = []

    def parse(self, body: bytes, account: AccountRef) -> list[InboundEvent]:
        return []

    async def profile(self, account: AccountRef, user_id: str) -> dict[str, Any]:
        return {}

    async def send(self, account: AccountRef, envelope: OutboundEnvelope) -> SendResult:
        self.sent.append(envelope)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, SendError):
            raise outcome
        return outcome


async def _queue(runtime: Runtime, content: MessageContent, key: str = "k1") -> int:
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        person = await contacts.resolve(
            session,
            workspace_id=shop.workspace_id,
            channel_account_id=shop.widget_account_id,
            external_id="visitor-1",
            profile={},
            source=None,
            seen_at=utcnow(),
        )
        effects = Effects()
        outbound_id = await outbox.enqueue(
            session,
            effects,
            workspace_id=shop.workspace_id,
            channel_account_id=shop.widget_account_id,
            identity_id=person.identity_id,
            contact_id=person.contact_id,
            conversation_id=None,
            message_id=None,
            idempotency_key=key,
            content=content,
        )
        again = await outbox.enqueue(
            session,
            effects,
            workspace_id=shop.workspace_id,
            channel_account_id=shop.widget_account_id,
            identity_id=person.identity_id,
            contact_id=person.contact_id,
            conversation_id=None,
            message_id=None,
            idempotency_key=key,
            content=MessageContent(text="a different text"),
        )
    assert again == outbound_id  # same idempotency key: the same single row
    return outbound_id


async def _row(runtime: Runtime) -> tuple[OutboundMessage, list[Any]]:
    async with runtime.sessions() as session:
        row = await session.scalar(select(OutboundMessage))
        attempts = (
            await session.execute(
                select(
                    DeliveryAttempt.number, DeliveryAttempt.outcome, DeliveryAttempt.error_code
                ).order_by(DeliveryAttempt.number)
            )
        ).all()
    assert row is not None
    return row, [tuple(a) for a in attempts]


async def _due_now(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        await session.execute(update(OutboundMessage).values(next_attempt_at=utcnow()))


async def test_sent_degraded_to_what_the_channel_can_show(runtime: Runtime) -> None:
    adapter = ScriptedAdapter([SendResult(external_id="m_1", response={"ok": True})])
    runtime.adapters["webchat"] = adapter
    await _queue(runtime, MessageContent(text="Chọn size nhé, bạn ơi!"))
    assert await Worker(runtime, "w").dispatcher.run_once() == 1
    row, attempts = await _row(runtime)
    assert (row.status, row.external_id, row.attempts) == ("sent", "m_1", 1)
    assert attempts == [(1, "sent", None)]
    assert adapter.sent[0].content.text == "Chọn size nhé, bạn …"
    assert len(adapter.sent[0].content.text) == 20


async def test_retryable_errors_back_off_then_succeed(runtime: Runtime) -> None:
    adapter = ScriptedAdapter(
        [
            SendError("retry", "2", "service unavailable", retry_after=30),
            SendError("retry", "ConnectionError", "reset"),
            SendResult(external_id="m_9"),
        ]
    )
    runtime.adapters["webchat"] = adapter
    await _queue(runtime, MessageContent(text="hi"))
    dispatcher = Worker(runtime, "w").dispatcher
    assert await dispatcher.run_once() == 1
    row, _ = await _row(runtime)
    assert row.status == "queued"
    assert row.next_attempt_at - utcnow() > timedelta(seconds=25)  # the platform's retry_after
    assert await dispatcher.run_once() == 0  # not due yet
    for _ in range(2):
        await _due_now(runtime)
        assert await dispatcher.run_once() == 1
    row, attempts = await _row(runtime)
    assert row.status == "sent"
    assert attempts == [(1, "retry", "2"), (2, "retry", "ConnectionError"), (3, "sent", None)]
    assert {e.idempotency_key for e in adapter.sent} == {"k1"}


async def test_permanent_errors_fail_with_the_platform_code(runtime: Runtime) -> None:
    runtime.adapters["webchat"] = ScriptedAdapter([SendError("failed", "100", "Invalid parameter")])
    await _queue(runtime, MessageContent(text="hi"))
    await Worker(runtime, "w").dispatcher.run_once()
    row, attempts = await _row(runtime)
    assert (row.status, row.error_code, row.error_message) == ("failed", "100", "Invalid parameter")
    assert attempts == [(1, "failed", "100")]


async def test_retries_stop_at_the_maximum(runtime: Runtime) -> None:
    limit = runtime.settings.outbox_max_attempts
    runtime.adapters["webchat"] = ScriptedAdapter(
        [SendError("retry", "503", "unavailable") for _ in range(limit)]
    )
    await _queue(runtime, MessageContent(text="hi"))
    dispatcher = Worker(runtime, "w").dispatcher
    for _ in range(limit):
        await _due_now(runtime)
        await dispatcher.run_once()
    row, attempts = await _row(runtime)
    assert row.status == "failed"
    assert len(attempts) == limit
    assert attempts[-1] == (limit, "failed", "503")


async def test_policy_stops_a_send_and_names_the_rule(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date

    adapter = ScriptedAdapter([])
    runtime.adapters["webchat"] = adapter
    monkeypatch.setitem(
        PACKS, "webchat", window_only("webchat", version="test", effective=date(2026, 1, 1))
    )
    await _queue(runtime, MessageContent(text="hi"))
    async with transaction(runtime.sessions) as session:
        from chatcart.models import ContactIdentity

        await session.execute(
            update(ContactIdentity).values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
    await Worker(runtime, "w").dispatcher.run_once()
    row, attempts = await _row(runtime)
    assert adapter.sent == []
    assert (row.status, row.error_code) == ("failed", "policy:webchat.window_closed")
    assert row.error_message is not None and "24 hours" in row.error_message
    assert attempts == []


async def test_a_throttled_page_waits_as_a_whole(runtime: Runtime) -> None:
    """Meta's rate-limit codes back off that Page only: the next message to another
    person on the same Page waits too, without spending an attempt."""
    adapter = ScriptedAdapter([SendError("retry", "613", "rate limited", retry_after=30)])
    runtime.adapters["webchat"] = adapter
    first = await _queue(runtime, MessageContent(text="one"), key="k1")
    dispatcher = Worker(runtime, "w").dispatcher
    assert await dispatcher.run_once() == 1
    async with transaction(runtime.sessions) as session:
        row = await session.get(OutboundMessage, first)
        assert row is not None
        effects = Effects()
        await outbox.enqueue(
            session,
            effects,
            workspace_id=row.workspace_id,
            channel_account_id=row.channel_account_id,
            identity_id=row.identity_id,
            contact_id=row.contact_id,
            conversation_id=None,
            message_id=None,
            idempotency_key="k2",
            content=MessageContent(text="two"),
        )
    await _due_now(runtime)
    assert await dispatcher.run_once() == 2
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))).all()
        attempts = (await session.scalars(select(DeliveryAttempt))).all()
    assert [r.status for r in rows] == ["queued", "queued"]
    assert all(r.next_attempt_at - utcnow() > timedelta(seconds=20) for r in rows)
    assert len(attempts) == 1  # only the send Meta refused
    assert len(adapter.sent) == 1


async def _queue_for_people(
    runtime: Runtime, people: int, each: int, key_of: Callable[[str], str]
) -> None:
    """`each` messages queued for each of `people` widget visitors, keys "p<person>:<n>"
    (through `key_of`)."""
    shop = await make_shop(runtime)
    async with transaction(runtime.sessions) as session:
        effects = Effects()
        for person in range(people):
            resolved = await contacts.resolve(
                session,
                workspace_id=shop.workspace_id,
                channel_account_id=shop.widget_account_id,
                external_id=f"visitor-{person}",
                profile={},
                source=None,
                seen_at=utcnow(),
            )
            for n in range(each):
                await outbox.enqueue(
                    session,
                    effects,
                    workspace_id=shop.workspace_id,
                    channel_account_id=shop.widget_account_id,
                    identity_id=resolved.identity_id,
                    contact_id=resolved.contact_id,
                    conversation_id=None,
                    message_id=None,
                    idempotency_key=key_of(f"p{person}:{n}"),
                    content=MessageContent(text=f"hi {n}"),
                )


class KeyedAdapter(ScriptedAdapter):
    """Answers by idempotency key: "...:retry" and "...:fail" keys fail that way; a
    "...:stolen" key's row is claimed by another worker while its send is under way."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__([])
        self.runtime = runtime

    async def send(self, account: AccountRef, envelope: OutboundEnvelope) -> SendResult:
        self.sent.append(envelope)
        key = envelope.idempotency_key
        if key.endswith(":retry"):
            raise SendError("retry", "2", "service unavailable")
        if key.endswith(":fail"):
            raise SendError("failed", "100", "Invalid parameter")
        if key.endswith(":stolen"):
            async with transaction(self.runtime.sessions) as session:
                await session.execute(
                    update(OutboundMessage)
                    .where(OutboundMessage.idempotency_key == key)
                    .values(claimed_by="another-worker")
                )
        return SendResult(external_id=f"m_{key}", response={"message_id": f"m_{key}"})


async def test_a_batch_is_sent_and_recorded_in_a_fixed_number_of_statements(
    runtime: Runtime,
) -> None:
    """30 sends to 10 people: read in one transaction, recorded in another, each a fixed
    number of statements (not one per send); each outcome moves its own row, and a row
    another worker took meanwhile is left alone."""
    from sqlalchemy import event

    runtime.adapters["webchat"] = adapter = KeyedAdapter(runtime)
    endings = {"p0:2": ":retry", "p1:2": ":fail", "p2:2": ":stolen"}
    await _queue_for_people(runtime, 10, 3, lambda key: key + endings.get(key, ""))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert await Worker(runtime, "w").dispatcher.run_once() == 30
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The claim with its rows (UPDATE ... RETURNING), accounts, identities; the rows'
    # states, one update per kind of outcome (sent, retry, failed), the attempts: 8.
    ours = [s for s in statements if "idempotency_key = " not in s]  # not the thief's
    assert len(ours) <= 8, ours
    assert len(adapter.sent) == 30
    async with runtime.sessions() as session:
        rows = {
            r.idempotency_key: r for r in (await session.scalars(select(OutboundMessage))).all()
        }
        attempts = (await session.execute(select(DeliveryAttempt.outcome))).scalars().all()
    by_ending = {e: [r for k, r in rows.items() if k.endswith(e)] for e in endings.values()}
    plain = [r for k, r in rows.items() if k.count(":") == 1]
    assert len(plain) == 27 and all(r.status == "sent" and r.claimed_by is None for r in plain)
    assert all(r.external_id == f"m_{r.idempotency_key}" for r in plain)
    (retried,) = by_ending[":retry"]
    assert (retried.status, retried.attempts, retried.error_code) == ("queued", 1, "2")
    assert retried.claimed_by is None and retried.next_attempt_at > utcnow()
    (failed,) = by_ending[":fail"]
    assert (failed.status, failed.attempts, failed.error_code) == ("failed", 1, "100")
    (stolen,) = by_ending[":stolen"]  # sent, but the row is another worker's now
    assert (stolen.status, stolen.attempts, stolen.claimed_by) == ("queued", 0, "another-worker")
    assert sorted(attempts) == sorted(["sent"] * 27 + ["retry", "failed"])


async def test_a_batch_takes_its_send_tokens_at_once_and_what_is_over_waits(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Page's send rate holds for a batch: its tokens are taken with one hit per
    account; sends left without one are not attempts and wait a second."""
    from chatcart.policy import service as policy
    from chatcart.policy.schemas import Rate

    monkeypatch.setattr(
        policy,
        "send_rate",
        lambda *_, **__: Rate(limit="4/minute", count=4, seconds=60, scope="text", source="t"),
    )
    hits: list[int] = []
    take = runtime.limiter.acquire_up_to

    async def counted(limit: str, count: int, *keys: str, max_wait: float = 30.0) -> int:
        hits.append(count)
        return await take(limit, count, *keys, max_wait=0)

    monkeypatch.setattr(runtime.limiter, "acquire_up_to", counted)
    runtime.adapters["webchat"] = adapter = ScriptedAdapter(
        [SendResult(external_id=f"m_{n}") for n in range(4)]
    )
    await _queue_for_people(runtime, 6, 1, lambda key: key)
    assert await Worker(runtime, "w").dispatcher.run_once() == 6
    assert hits == [6]  # one hit for the batch's six sends through the account
    assert len(adapter.sent) == 4
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(OutboundMessage))).all()
        attempts = (await session.scalars(select(DeliveryAttempt))).all()
    assert sorted(r.status for r in rows) == ["queued", "queued", "sent", "sent", "sent", "sent"]
    waiting = [r for r in rows if r.status == "queued"]
    assert all(r.attempts == 0 and r.claimed_by is None for r in waiting)
    assert all(r.next_attempt_at > utcnow() for r in waiting)
    assert len(attempts) == 4
