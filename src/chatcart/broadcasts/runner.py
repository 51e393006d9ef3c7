"""The broadcast run: claim due recipients, judge, render, send at most once, record.

One tick of one broadcast is three steps, and only the first and last hold a transaction:
1. claim a batch with one UPDATE ... RETURNING (SKIP LOCKED on PostgreSQL, within the
   pacing), judge the recipients (once per distinct case, plan.CaseJudge: skipped with the
   rule, or later for quiet hours), render each one's text, write the outbox rows "held" and
   the ledger with executemany, commit; then mark the sends "sending", commit;
2. send, under the broadcast's cap and the channel account's shared limit (one token per
   message), in batch requests where the adapter has them (channels.base.BatchSender);
3. record every outcome; plan the next batch ("N then pause S ± jitter").
The hot path holds plain values (repository.Claimed), never an ORM row per recipient.
A worker killed during step 2 leaves rows "sending" with a claim that runs out; the next
tick marks them "unknown" (never sent again unless the seller asks); a batch request whose
answer is lost makes its messages "unknown" the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.broadcasts import repository
from chatcart.broadcasts.pacing import Pacer, per_second_limit
from chatcart.broadcasts.plan import Account, CaseJudge, Settings, Verdict
from chatcart.broadcasts.repository import Claimed
from chatcart.broadcasts.schemas import BroadcastPurpose
from chatcart.broadcasts.spintext import Template, parse, seeded_rng
from chatcart.channels import service as channels
from chatcart.channels.base import (
    AccountRef,
    Attachment,
    BatchSender,
    ChannelAdapter,
    MessageContent,
    OutboundEnvelope,
    QuickReply,
    SendError,
    SendResult,
    batch_sender,
)
from chatcart.channels.degrade import degrade
from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import SecretBox
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.pubsub import Bus
from chatcart.kit.ratelimit import RateLimiter
from chatcart.models import Broadcast
from chatcart.models import OptinToken as OptinRow
from chatcart.outbox import service as outbox
from chatcart.outbox.service import DirectOutcome
from chatcart.policy import service as policy
from chatcart.segments import service as segments

log = logging.getLogger(__name__)

_RATE_LIMIT_CODES = {"4", "17", "32", "613", "http_429", *(str(c) for c in range(80001, 80015))}


def _rate_limited(error: SendError) -> bool:
    """Meta's app / Page / business limits: the account backs off, no attempt is spent."""
    return error.outcome == "retry" and error.code.split("/")[0] in _RATE_LIMIT_CODES


_STOPPED = (
    "The sender stopped during this send: it may or may not have arrived. "
    "It is not sent again unless you choose to resend it."
)


@dataclass(slots=True)
class _Send:
    row: Claimed
    account: AccountRef
    envelope: OutboundEnvelope
    key: str
    outbound_id: int = 0
    started: datetime | None = None
    result: SendResult | SendError | None = None


@dataclass
class _Batch:
    broadcast: Broadcast
    sends: list[_Send]
    handled: int
    fills: bool  # it completes an "N then pause" batch: the pause starts when it is recorded
    launched: asyncio.Event = field(default_factory=asyncio.Event)


def content_of(broadcast: Broadcast, text: str) -> MessageContent:
    data = broadcast.content
    return MessageContent(
        text=text,
        attachments=[Attachment(kind="image", url=data["image_url"])]
        if data.get("image_url")
        else [],
        quick_replies=[
            QuickReply(title=title, payload=f"bc:{broadcast.id}:qr:{i}")
            for i, title in enumerate(data.get("quick_replies") or [])
        ],
    )


def values_for(facts: repository.ContactFacts) -> dict[str, str | None]:
    values: dict[str, str | None] = dict(facts.fields)
    values["full_name"] = facts.name or None
    values["first_name"] = facts.first_name or (facts.name.split()[-1] if facts.name else None)
    values["last_name"] = facts.last_name
    return values


_PROBE = "\x00probe"


class _Contents:
    """Each recipient's content: the broadcast's content fitted to the channel once, with
    the recipient's text (fitted per recipient only where fitting changes the text)."""

    def __init__(self, broadcast: Broadcast, adapters: dict[str, ChannelAdapter]) -> None:
        self._broadcast = broadcast
        self._adapters = adapters
        self._bases: dict[str, tuple[MessageContent, dict[str, Any]] | None] = {}

    def _fit(self, kind: str, text: str) -> MessageContent:
        adapter = self._adapters.get(kind)
        content = content_of(self._broadcast, text)
        return degrade(content, adapter.capabilities) if adapter else content

    def _base(self, kind: str) -> tuple[MessageContent, dict[str, Any]] | None:
        if kind not in self._bases:
            fitted = self._fit(kind, _PROBE)
            same = fitted.text == _PROBE
            self._bases[kind] = (fitted, fitted.model_dump(exclude_defaults=True)) if same else None
        return self._bases[kind]

    def content(self, kind: str, text: str) -> MessageContent:
        base = self._base(kind)
        if base is None:
            return self._fit(kind, text)
        return base[0].model_copy(update={"text": text})

    def stored(self, kind: str, content: MessageContent) -> dict[str, Any]:
        """The outbox row's content (what model_dump(exclude_defaults=True) gives)."""
        base = self._base(kind)
        if base is None or not content.text:
            return content.model_dump(exclude_defaults=True)
        return {**base[1], "text": content.text}


def account_limit(kind: str, content: MessageContent) -> str:
    media = any(a.kind in {"audio", "video"} for a in content.attachments)
    return policy.send_rate(kind, media).limit


@dataclass
class BroadcastRunner:
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    secrets: SecretBox
    adapters: dict[str, ChannelAdapter]
    worker_id: str
    limiter: RateLimiter
    claim_batch: int = 200
    lease_seconds: float = 60.0
    max_attempts: int = 5
    concurrency: int = 50
    # The channel account's own rate (policy.send_rate), shared with the outbox dispatcher.
    account_limits: bool = True
    _paused: dict[int, float] = field(default_factory=dict)  # account id -> monotonic end
    _templates: dict[int, Template] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)

    async def run(self, stopping: asyncio.Event, idle_poll: float = 5.0) -> None:
        """The worker loop: a round whenever there is work, woken by `wake:broadcasts`
        (start, resume); idle, it looks only every `idle_poll` seconds (schedules, a
        reconnected account) or when the next paced batch is due, so an idle worker does
        not keep taking SQLite's write lock."""
        async with self.bus.subscribe("wake:broadcasts") as wakeups:
            while not stopping.is_set():
                try:
                    done, wait = await self.run_round()
                except Exception:
                    log.exception("broadcast round failed; retrying after %ss", idle_poll)
                    done, wait = 0, None
                if done:
                    continue
                timeout = idle_poll if wait is None else max(0.0, min(wait, idle_poll))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeups.get(), timeout=timeout)
                while not wakeups.empty():
                    wakeups.get_nowait()

    async def run_once(self) -> int:
        """One round; when all that waits is a pause shorter than a second, sleep it here."""
        done, wait = await self.run_round()
        if not done and wait is not None and wait < 1.0:
            await asyncio.sleep(max(0.0, wait))
            return 1
        return done

    async def run_round(self) -> tuple[int, float | None]:
        """Every broadcast with work gets a round: (recipients handled, seconds until the
        soonest paced batch is due)."""
        async with self.sessions() as session:
            ids = await repository.runnable_ids(session, utcnow())
        done = 0
        waits: list[float] = []
        for broadcast_id in ids:
            handled, wait = await self.drive(broadcast_id)
            done += handled
            if wait is not None:
                waits.append(wait)
        return done, min(waits) if waits else None

    async def tick(self, broadcast_id: int) -> tuple[int, float | None]:
        """One batch of one broadcast, step after step: (recipients handled, seconds until
        it may go on)."""
        prepared = await self._step_claim(broadcast_id)
        if not isinstance(prepared, _Batch):
            return 0, prepared
        await self._step_finish(prepared, await self._step_send(prepared))
        return prepared.handled, None

    async def drive(self, broadcast_id: int, rounds: int = 8) -> tuple[int, float | None]:
        """Up to `rounds` batches, pipelined: the next batch is claimed and prepared while
        this one is sending, and recorded while the next one sends, so a capped run never
        idles between batches (pacing accuracy)."""
        handled = 0
        wait: float | None = None
        ready: asyncio.Queue[_Batch | None] = asyncio.Queue(maxsize=1)

        async def produce() -> None:
            nonlocal wait
            try:
                for _ in range(rounds):
                    prepared = await self._step_claim(broadcast_id)
                    if not isinstance(prepared, _Batch):
                        wait = prepared
                        break
                    await ready.put(prepared)
                    await prepared.launched.wait()
            finally:
                await ready.put(None)

        async def consume() -> None:
            nonlocal handled
            records: list[asyncio.Task[None]] = []
            try:
                while (prepared := await ready.get()) is not None:
                    try:
                        requests = await self._step_send(prepared)
                    finally:
                        prepared.launched.set()  # set at launch already; here on errors
                    # The next batch starts while this one's answers come back.
                    records.append(asyncio.create_task(self._step_finish(prepared, requests)))
                    handled += prepared.handled
            finally:
                await asyncio.gather(*records)

        await asyncio.gather(produce(), consume())
        return handled, wait

    async def _step_claim(self, broadcast_id: int) -> _Batch | float | None:
        effects = Effects()
        async with transaction(self.sessions) as session:
            claimed = await self._claim(session, effects, broadcast_id)
        await effects.flush(self.bus)
        return claimed

    async def _step_send(self, prepared: _Batch) -> list[asyncio.Task[None]]:
        """Launch the batch and start its requests (awaited by the caller)."""
        # The batch goes "sending" (committed) right before its requests: a crash after
        # this point leaves "unknown" rows, never a blind resend.
        async with transaction(self.sessions) as session:
            prepared.sends = await self._launch(session, prepared)
        prepared.launched.set()  # the next batch may be claimed while this one sends
        if not prepared.sends:
            return []
        return await self._send_all(prepared.broadcast, prepared.sends)

    async def _step_finish(self, prepared: _Batch, requests: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*requests)
        await self._step_record(prepared)

    async def _step_record(self, prepared: _Batch) -> None:
        effects = Effects()
        async with transaction(self.sessions) as session:
            await self._record(
                session, effects, prepared.broadcast.id, prepared.sends, prepared.fills
            )
        await effects.flush(self.bus)

    async def _launch(self, session: AsyncSession, prepared: _Batch) -> list[_Send]:
        by_row = {send.row.id: send for send in prepared.sends}
        launched = await repository.launch(
            session,
            prepared.broadcast.id,
            [send.row for send in prepared.sends],
            self.worker_id,
            utcnow(),
        )
        sends = [by_row[i] for i in launched if i in by_row]
        await outbox.launch_direct(session, [s.outbound_id for s in sends])
        for send in sends:
            send.row.status = "sending"
            send.row.attempts += 1
        return sends

    # --- step 1 ------------------------------------------------------------------------

    async def _claim(
        self, session: AsyncSession, effects: Effects, broadcast_id: int
    ) -> _Batch | float | None:
        now = utcnow()
        broadcast = await repository.broadcast(session, None, broadcast_id, lock=True)
        if broadcast is None:
            return None
        if broadcast.status == "scheduled":
            if broadcast.scheduled_at is None or broadcast.scheduled_at > now:
                return None
            await begin_run(session, broadcast, now)
        accounts = await self._accounts(session, broadcast)
        if broadcast.status == "paused" and broadcast.paused_by == "reauth":
            if any(a.status != "active" for a in accounts.values()):
                return None
            broadcast.status, broadcast.paused_by, broadcast.pause_reason = "running", None, None
            _announce(effects, broadcast)
        if broadcast.status != "running":
            return None
        await self._expire(session, broadcast, now)
        if broadcast.next_batch_at is not None and broadcast.next_batch_at > now:
            return (broadcast.next_batch_at - now).total_seconds()
        pacer = Pacer(broadcast.batch_size, broadcast.pause_seconds, broadcast.jitter_seconds)
        claim_batch = self.claim_batch
        if broadcast.max_per_second:  # a capped batch must be sent well within its lease
            fits = int(broadcast.max_per_second * self.lease_seconds / 4)
            claim_batch = max(1, min(claim_batch, fits))
        room = pacer.room(broadcast.batch_taken, claim_batch)
        rows = await repository.claim(
            session, broadcast.id, self.worker_id, room, self.lease_seconds, now
        )
        if not rows:
            if not await repository.has_open(session, broadcast.id):
                broadcast.status, broadcast.finished_at = "done", now
                broadcast.updated_at = now
                _announce(effects, broadcast)
            return None
        broadcast.batch_taken += len(rows)
        fills = pacer.fills(broadcast.batch_taken)
        if fills:  # nobody starts the next batch before this one is sent and the pause ran
            broadcast.batch_taken = 0
            broadcast.next_batch_at = now + timedelta(seconds=self.lease_seconds)
        sends = await self._prepare(session, broadcast, accounts, rows, now)
        # The sends' own rows are written at their launch (step 2), the rest now.
        ready = {send.row.id for send in sends}
        await repository.write_recipients(
            session, [r for r in rows if r.id not in ready], repository.PREPARED
        )
        _announce(effects, broadcast)
        return _Batch(broadcast, sends, len(rows), fills)

    async def _accounts(self, session: AsyncSession, broadcast: Broadcast) -> dict[int, Account]:
        found = {a.id: a for a in await channels.list_accounts(session, broadcast.workspace_id)}
        return {
            i: Account(i, found[i].kind, found[i].name, found[i].status)
            for i in broadcast.channel_account_ids
            if i in found
        }

    async def _expire(self, session: AsyncSession, broadcast: Broadcast, now: datetime) -> None:
        stale = await repository.expire_in_flight(session, broadcast.id, now, _STOPPED)
        if stale:
            await outbox.mark_unknown(session, stale)

    def _template(self, broadcast: Broadcast) -> Template:
        template = self._templates.get(broadcast.id)
        if template is None or template.source != broadcast.content.get("text", ""):
            template = self._templates[broadcast.id] = parse(broadcast.content.get("text", ""))
        return template

    async def _prepare(
        self,
        session: AsyncSession,
        broadcast: Broadcast,
        accounts: dict[int, Account],
        rows: list[Claimed],
        now: datetime,
    ) -> list[_Send]:
        template = self._template(broadcast)
        keys = sorted({v.name for v in template.variables()})
        settings = Settings(
            purpose=BroadcastPurpose(broadcast.purpose),
            accounts=list(accounts.values()),
            frequency_cap_hours=broadcast.frequency_cap_hours,
            quiet_start_hour=broadcast.quiet_start_hour,
            quiet_end_hour=broadcast.quiet_end_hour,
        )
        cap_since = now - timedelta(hours=broadcast.frequency_cap_hours or 0)
        facts = await repository.facts(
            session,
            broadcast.workspace_id,
            [r.contact_id for r in rows],
            list(accounts),
            field_keys=keys,
            cap_since=cap_since if broadcast.frequency_cap_hours else None,
            broadcast_id=broadcast.id,
        )
        identity_ids = [i.id for f in facts.values() for i in f.identities]
        tokens = await repository.optin_tokens(session, identity_ids)
        refs = await channels.account_states(session, self.secrets, set(accounts))
        judge = CaseJudge(settings, now)
        contents = _Contents(broadcast, self.adapters)
        purpose = settings.purpose.policy_purpose().value
        written_by = settings.purpose.written_by
        sends: list[_Send] = []
        pending: list[dict[str, object]] = []
        for row in rows:
            contact = facts.get(row.contact_id)
            if contact is None:  # erased meanwhile
                _settle(row, "skipped", now, rule="contact.gone", reason="The contact was deleted.")
                continue
            verdict = judge(contact, tokens)
            send = self._verdict(
                broadcast, row, verdict, refs, accounts, template, contents, contact, tokens, now
            )
            if send is None:
                continue
            sends.append(send)
            pending.append(
                {
                    "workspace_id": broadcast.workspace_id,
                    "channel_account_id": send.account.id,
                    "identity_id": row.identity_id,
                    "contact_id": row.contact_id,
                    "conversation_id": None,
                    "message_id": None,
                    "idempotency_key": send.key,
                    "content": contents.stored(send.account.kind, send.envelope.content),
                    "purpose": purpose,
                    "recipient_kind": send.envelope.recipient_kind,
                    "written_by": written_by,
                }
            )
        # A pending recipient whose send is "unknown" was put back by the seller (resend).
        allowed = await outbox.prepare_direct(session, pending, resend_unknown=True)
        ready: list[_Send] = []
        for send in sends:
            outbound_id = allowed.get(send.key)
            if outbound_id is None:  # already sent or in flight elsewhere: never twice
                _settle(send.row, "unknown", now, error=("duplicate", "already sent or in flight"))
                continue
            send.outbound_id = outbound_id
            send.row.outbound_id = outbound_id  # still "pending", claimed: launched in step 2
            ready.append(send)
        return ready

    def _verdict(
        self,
        broadcast: Broadcast,
        row: Claimed,
        verdict: Verdict,
        refs: dict[int, tuple[AccountRef, str]],
        accounts: dict[int, Account],
        template: Template,
        contents: _Contents,
        contact: repository.ContactFacts,
        tokens: dict[int, OptinRow],
        now: datetime,
    ) -> _Send | None:
        row.rule, row.reason = verdict.rule, verdict.reason
        row.channel_account_id = verdict.account_id
        row.identity_id = verdict.identity.id if verdict.identity else None
        if verdict.kind == "skip":
            _settle(row, "skipped", now)
            return None
        if verdict.kind == "later":
            _release(row, verdict.not_before or now, now)
            return None
        assert verdict.account_id is not None
        assert verdict.identity is not None
        assert verdict.decision is not None
        ref, status = refs[verdict.account_id]
        paused_until = self._paused.get(ref.id, 0.0) - time.monotonic()
        if status != "active" or paused_until > 0:
            # Reconnect or platform back-off: the recipient waits, the run goes on.
            _release(row, now + timedelta(seconds=max(paused_until, 1.0)), now)
            if status != "active":
                _pause_for_reauth(broadcast, accounts[ref.id].name, now)
            return None
        text = template.render(values_for(contact), seeded_rng(broadcast.id, row.contact_id))
        row.rendered = text
        recipient_id = verdict.identity.external_id
        if verdict.decision.recipient_kind == "notification_messages_token":
            token_row = tokens.get(verdict.identity.id)
            token = self.secrets.decrypt(token_row.token_encrypted) if token_row else None
            if not token:
                _settle(row, "skipped", now, rule="optin.missing", reason="No opt-in token.")
                return None
            recipient_id = token
        envelope = OutboundEnvelope(
            idempotency_key=f"bc:{broadcast.id}:{row.contact_id}",
            recipient_id=recipient_id,
            recipient_kind=verdict.decision.recipient_kind,
            content=contents.content(ref.kind, text),
            messaging_type=verdict.decision.messaging_type,
            tag=verdict.decision.tag,
        )
        return _Send(row, ref, envelope, envelope.idempotency_key)

    # --- step 2 ------------------------------------------------------------------------

    async def _send_all(self, broadcast: Broadcast, sends: list[_Send]) -> list[asyncio.Task[None]]:
        """Tokens are taken in order by this one loop (the broadcast's cap, then the
        account's shared limit; one token per message, taken for a whole request at once),
        and each request (one message, or a batch request of up to `max_batch`) then runs on
        its own, up to `concurrency` requests at once: a slow platform answer never holds
        back the pace. Returns once every request is started; the caller awaits the
        returned tasks."""
        in_flight = asyncio.Semaphore(self.concurrency)
        cap = per_second_limit(broadcast.max_per_second) if broadcast.max_per_second else None
        requests: list[asyncio.Task[None]] = []
        by_account: dict[int, list[_Send]] = {}
        for send in sends:
            by_account.setdefault(send.account.id, []).append(send)
        for group in by_account.values():
            account = group[0].account
            sender = batch_sender(self.adapters.get(account.kind))
            size = sender.max_batch if sender else 1
            waiting = group
            while waiting:
                await in_flight.acquire()
                taken = await self._tokens(
                    broadcast.id, cap, account, group[0], min(size, len(waiting))
                )
                if isinstance(taken, SendError):
                    in_flight.release()
                    for send in waiting:
                        send.result = taken
                    break
                part, waiting = waiting[:taken], waiting[taken:]
                started = utcnow()  # after the limits: when the request really starts
                for send in part:
                    send.started = started
                requests.append(asyncio.create_task(self._request(sender, part, in_flight)))
        return requests

    async def _tokens(
        self, broadcast_id: int, cap: str | None, account: AccountRef, sample: _Send, want: int
    ) -> int | SendError:
        """Up to `want` tokens of the cap and of the account's limit (at least one)."""
        taken = want
        if cap:
            taken = await self.limiter.acquire_up_to(
                cap, taken, "broadcast", str(broadcast_id), max_wait=60
            )
            if not taken:
                return SendError("retry", "local_rate_limit", "the broadcast's own cap: later")
        if self.account_limits:
            limit = account_limit(account.kind, sample.envelope.content)
            taken = await self.limiter.acquire_up_to(
                limit, taken, "send", str(account.id), max_wait=30
            )
            if not taken:
                return SendError("retry", "local_rate_limit", "the channel account's limit: later")
        return taken

    async def _request(
        self, sender: BatchSender | None, sends: list[_Send], in_flight: asyncio.Semaphore
    ) -> None:
        account = sends[0].account
        try:
            if sender is not None:
                results = await self._send_many(sender, account, sends)
            else:
                results = [await self._send_one(account, send) for send in sends]
        finally:
            in_flight.release()
        for send, result in zip(sends, results, strict=True):
            send.result = result
            if isinstance(result, SendError) and _rate_limited(result):
                self._paused[account.id] = time.monotonic() + (result.retry_after or 60.0)

    async def _send_many(
        self, sender: BatchSender, account: AccountRef, sends: list[_Send]
    ) -> list[SendResult | SendError]:
        try:
            return await sender.send_many(account, [s.envelope for s in sends])
        except Exception as exc:  # a bug: nobody knows which of them went
            log.exception("broadcast batch of %s sends failed", len(sends))
            lost = SendError("unknown", type(exc).__name__, str(exc) or repr(exc))
            return [lost] * len(sends)

    async def _send_one(self, account: AccountRef, send: _Send) -> SendResult | SendError:
        adapter = self.adapters.get(account.kind)
        if adapter is None:
            return SendError("failed", "no_adapter", f"no adapter for {account.kind}")
        try:
            return await adapter.send(account, send.envelope)
        except SendError as exc:
            return exc
        except Exception as exc:  # a network fault or a bug: the outcome is not known
            log.exception("broadcast send %s failed", send.key)
            return SendError("retry", type(exc).__name__, str(exc) or repr(exc))

    # --- step 3 ------------------------------------------------------------------------

    async def _record(
        self,
        session: AsyncSession,
        effects: Effects,
        broadcast_id: int,
        sends: list[_Send],
        fills: bool,
    ) -> None:
        now = utcnow()
        broadcast = await repository.broadcast(session, None, broadcast_id, lock=True)
        if broadcast is None:
            return
        current = await repository.statuses(session, [s.row.id for s in sends])
        finished: list[DirectOutcome] = []
        lost: list[int] = []
        sent: list[Claimed] = []
        written: list[Claimed] = []
        for send in sends:
            row = send.row
            result = send.result
            if current.get(row.id) != "sending" or result is None:
                continue
            if isinstance(result, SendResult):
                finished.append(DirectOutcome(send.outbound_id, send.started or now, result, True))
                row.status, row.external_id, row.sent_at = "sent", result.external_id, now
                row.updated_at = now
                sent.append(row)
                continue
            written.append(row)
            if result.outcome == "unknown":  # maybe delivered: never resent on its own
                lost.append(send.outbound_id)
                _settle(row, "unknown", now, error=(result.code, result.message))
            else:
                finished.append(
                    await self._failed(session, effects, broadcast, row, send, result, now)
                )
        await outbox.finish_direct(session, effects, finished)
        if lost:
            await outbox.mark_unknown(session, lost, "the answer to this send was lost")
        await repository.write_recipients(
            session, sent, repository.SENT, only_if="sending", fixed=repository.SENT_FIXED
        )
        await repository.write_recipients(session, written, repository.RECORDED, only_if="sending")
        if fills:
            pacer = Pacer(broadcast.batch_size, broadcast.pause_seconds, broadcast.jitter_seconds)
            broadcast.next_batch_at = pacer.next_batch_at(now, self._rng)
        broadcast.updated_at = now
        _announce(effects, broadcast)

    async def _failed(
        self,
        session: AsyncSession,
        effects: Effects,
        broadcast: Broadcast,
        row: Claimed,
        send: _Send,
        error: SendError,
        now: datetime,
    ) -> DirectOutcome:
        # Never reached the platform, or the platform's rate limit: no attempt is spent.
        local = error.code == "local_rate_limit" or _rate_limited(error)
        waits = (
            error.outcome == "reauth"
            or local
            or (error.outcome == "retry" and row.attempts < self.max_attempts)
        )
        outcome = DirectOutcome(send.outbound_id, send.started or now, error, not waits)
        row.error_code, row.error_message = error.code, error.message
        if local:
            row.attempts = max(0, row.attempts - 1)
        if waits:
            delay = error.retry_after or min(600.0, 2.0 ** max(0, row.attempts))
            if error.outcome == "reauth":
                delay = 5.0
                if await channels.flag_reauth(
                    session, send.account.id, f"{error.code}: {error.message}"
                ):
                    effects.publish(
                        f"workspace:{broadcast.workspace_id}",
                        {"type": "channel_status", "channel_account_id": send.account.id},
                    )
                _pause_for_reauth(broadcast, str(send.account.id), now, error)
            _release(row, now + timedelta(seconds=delay), now)
            return outcome
        if error.outcome == "unreachable" and row.identity_id is not None:
            await contacts.mark_unreachable(
                session, row.identity_id, f"{error.code}: {error.message}"
            )
        _settle(row, "failed", now)
        return outcome


def _settle(
    row: Claimed,
    status: str,
    now: datetime,
    *,
    rule: str | None = None,
    reason: str | None = None,
    error: tuple[str, str] | None = None,
) -> None:
    row.status = status
    if rule is not None:
        row.rule, row.reason = rule, reason
    if error is not None:
        row.error_code, row.error_message = error
    row.claimed_by = row.claimed_until = None
    row.updated_at = now


def _release(row: Claimed, at: datetime, now: datetime) -> None:
    row.status = "pending"
    row.next_attempt_at = at
    row.claimed_by = row.claimed_until = None
    row.updated_at = now


def _pause_for_reauth(
    broadcast: Broadcast, account: str, now: datetime, error: SendError | None = None
) -> None:
    if broadcast.status != "running":
        return
    detail = f" ({error.code}: {error.message})" if error else ""
    broadcast.status, broadcast.paused_by = "paused", "reauth"
    broadcast.pause_reason = (
        f"The channel account {account} must be reconnected: its access was refused{detail}. "
        "The broadcast goes on by itself once it is reconnected."
    )
    broadcast.updated_at = now


def _announce(effects: Effects, broadcast: Broadcast) -> None:
    effects.publish(
        f"workspace:{broadcast.workspace_id}",
        {"type": "broadcast_progress", "broadcast_id": broadcast.id, "status": broadcast.status},
    )


async def begin_run(session: AsyncSession, broadcast: Broadcast, now: datetime) -> int:
    """Freeze the audience (ONE INSERT ... SELECT) and start running."""
    if broadcast.segment_id is None:
        total = 0
    else:
        audience = await segments.audience(
            session, broadcast.workspace_id, broadcast.segment_id, now
        )
        total = await repository.freeze(session, broadcast.id, audience, now)
    broadcast.status, broadcast.started_at, broadcast.updated_at = "running", now, now
    broadcast.next_batch_at, broadcast.batch_taken = None, 0
    return total
