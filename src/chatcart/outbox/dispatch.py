"""The dispatcher: claimed outbound rows -> policy -> rate limit -> degrade -> adapter.send ->
attempt row -> status (DESIGN.md §5).

A batch is read in one transaction and written back in one; no transaction is held during
the network calls. Messages to one person go out in order; different people in parallel:
on a Page whose adapter sends Graph batch requests, in waves of one batch each (waves.py),
elsewhere one request per message. A crash between a send and its record lets the claim
expire and the message is sent again: delivery is at least once, and the idempotency key
(echo metadata) / message id lets receivers drop the repeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.channels import service as channels
from chatcart.channels.base import (
    AccountRef,
    BatchSender,
    ChannelAdapter,
    MessageContent,
    OutboundEnvelope,
    SenderAction,
    SendError,
    SendResult,
    batch_sender,
)
from chatcart.channels.degrade import degrade
from chatcart.channels.errors import ChannelAccountNotFound
from chatcart.contacts import service as contacts
from chatcart.contacts.schemas import IdentityOut
from chatcart.growth import service as growth
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import SecretBox
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.errors import NotFound
from chatcart.kit.pubsub import Bus
from chatcart.kit.ratelimit import RateLimiter
from chatcart.outbox import service
from chatcart.outbox.schemas import Handoff, SendJob, SendOutcome
from chatcart.outbox.waves import (
    Outcome,
    in_waves,
    one_by_one,
    retry_if_lost,
    send_batch,
    sender_actions,
)
from chatcart.policy import service as policy
from chatcart.policy.schemas import Decision, PolicyRequest, Purpose

log = logging.getLogger(__name__)

_RATE_LIMIT_CODES = {"4", "17", "32", "613", "80006", "http_429"}
# Sender actions go out only while the claimed batch is this small: a larger one means
# people are waiting, and a round trip for typing dots would only delay their answers.
_COURTESY_BELOW = 32
_REAUTH_WAIT = timedelta(minutes=5)
_ACCOUNTS_FOR = 5.0  # seconds an account read for handed-over replies is used


@dataclass
class Dispatcher:
    sessions: async_sessionmaker[AsyncSession]
    bus: Bus
    secrets: SecretBox
    adapters: dict[str, ChannelAdapter]
    worker_id: str
    batch: int
    lease_seconds: int
    max_attempts: int
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))
    # A Page the platform throttled waits as a whole, not message by message.
    _paused: dict[int, float] = field(default_factory=dict)
    # Accounts (credentials, status) as last read, for replies handed over by the inbound
    # loop: read again when older than _ACCOUNTS_FOR seconds, or when a send flagged one.
    _accounts: dict[int, tuple[tuple[AccountRef, str], float]] = field(default_factory=dict)

    async def run_once(self) -> int:
        async with transaction(self.sessions) as session:
            rows = await service.claim_sends(
                session, self.worker_id, self.batch, self.lease_seconds
            )
            jobs = await self._jobs_of(session, rows)
        if jobs:
            await self._send_and_record(jobs)
        return len(rows)

    async def send_handed(self, handoff: Handoff) -> None:
        """An inbound batch's replies, claimed for this worker as they were written: sent
        and recorded like claimed ones, with nothing read again but stale accounts."""
        rows = [SimpleNamespace(attempts=0, **row) for row in handoff.rows]
        if not rows:
            return
        accounts = await self._account_states({row.channel_account_id for row in rows})
        jobs = [
            await self._job(None, row, *accounts[row.channel_account_id], handoff.identities)
            for row in rows
            if row.channel_account_id in accounts
        ]
        await self._send_and_record(jobs)

    async def _account_states(self, account_ids: set[int]) -> dict[int, tuple[AccountRef, str]]:
        now = time.monotonic()
        stale = {i for i in account_ids if self._accounts.get(i, (None, 0.0))[1] <= now}
        if stale:
            async with self.sessions() as session:
                self._remember(await channels.account_states(session, self.secrets, stale))
        return {i: self._accounts[i][0] for i in account_ids if i in self._accounts}

    def _remember(self, states: dict[int, tuple[AccountRef, str]]) -> None:
        until = time.monotonic() + _ACCOUNTS_FOR
        for account_id, state in states.items():
            self._accounts[account_id] = (state, until)

    async def dispatch(self, outbound_id: int) -> None:
        """Send one message now (tests, and a future "send now" button)."""
        async with transaction(self.sessions) as session:
            jobs = await self._jobs(session, [outbound_id])
        if jobs:
            await self._send_and_record(jobs)

    async def _send_and_record(self, jobs: list[SendJob]) -> None:
        threads: dict[tuple[int, str], list[SendJob]] = defaultdict(list)
        for job in jobs:
            threads[(job.account.id, job.recipient_id)].append(job)
        checked = {job.outbound_id: self._check(job) for job in jobs}
        tokens = await self._tokens(list(checked.values()))
        courtesy = len(jobs) < _COURTESY_BELOW
        pages: dict[int, list[list[SendJob]]] = defaultdict(list)
        for (account_id, _), queue in threads.items():
            pages[account_id].append(queue)
        sends: list[Awaitable[list[Outcome]]] = []
        for queues in pages.values():
            sender = batch_sender(self.adapters.get(queues[0][0].account.kind))
            if sender is None:
                sends.extend(self._thread(queue, checked, tokens, courtesy) for queue in queues)
            else:
                sends.append(self._waves(sender, queues, checked, tokens, courtesy))
        outcomes = await asyncio.gather(*sends)
        done = [o for thread in outcomes for o in thread]
        effects = Effects()
        async with transaction(self.sessions) as session:
            statuses = await service.record_outcomes(
                session,
                effects,
                [_recorded(outcome, self._paused) for outcome in done],
                worker_id=self.worker_id,
                max_attempts=self.max_attempts,
            )
            for outcome in done:
                if outcome.job.outbound_id in statuses and outcome.result is not None:
                    await self._after(session, effects, outcome.job, outcome.result)
        await effects.flush(self.bus)

    async def _jobs(self, session: AsyncSession, outbound_ids: list[int]) -> list[SendJob]:
        """The claimed rows still ours, as jobs: rows, accounts and identities are read
        with one query each for the whole batch."""
        return await self._jobs_of(
            session, await service.claimed_sends(session, outbound_ids, self.worker_id)
        )

    async def _jobs_of(self, session: AsyncSession, rows: list[Any]) -> list[SendJob]:
        if not rows:
            return []
        accounts = await channels.account_states(
            session, self.secrets, {row.channel_account_id for row in rows}
        )
        self._remember(accounts)
        identities = await contacts.identities(
            session, [row.identity_id for row in rows if row.identity_id is not None]
        )
        jobs = []
        for row in rows:
            if row.channel_account_id not in accounts:
                raise ChannelAccountNotFound(f"no channel account {row.channel_account_id}")
            account, status = accounts[row.channel_account_id]
            jobs.append(await self._job(session, row, account, status, identities))
        return jobs

    async def _job(
        self,
        session: AsyncSession | None,
        row: Any,
        account: AccountRef,
        account_status: str,
        identities: dict[int, IdentityOut],
    ) -> SendJob:
        recipient_id, last_interaction, reachable = row.recipient_external_id or "", None, True
        if row.identity_id is not None:
            identity = identities.get(row.identity_id)
            if identity is None:
                raise NotFound(f"no identity {row.identity_id}")
            last_interaction, reachable = identity.last_inbound_at, identity.reachable
            if row.recipient_kind == "id":
                recipient_id = identity.external_id
        comment = None
        if row.recipient_kind == "comment_id" and recipient_id:
            assert session is not None  # a private reply is never handed over
            comment = await growth.comment_facts(session, row.channel_account_id, recipient_id)
        return SendJob(
            outbound_id=row.id,
            workspace_id=row.workspace_id,
            conversation_id=row.conversation_id,
            message_id=row.message_id,
            idempotency_key=row.idempotency_key,
            purpose=row.purpose,
            written_by=row.written_by,
            attempt=row.attempts + 1,
            account=account,
            account_status=account_status,
            recipient_id=recipient_id,
            recipient_kind=row.recipient_kind,
            reachable=reachable,
            last_inbound_at=last_interaction,
            comment_created_at=comment.commented_at if comment else None,
            private_replies_sent=comment.private_replies_sent if comment else 0,
            content=MessageContent.model_validate(row.content),
        )

    async def _tokens(self, checked: list[Outcome]) -> dict[tuple[int, str], int]:
        """Send tokens for the batch: per account and rate, as many as it has sends ready
        to go, taken at once (one round trip to the limiter each, not one per send),
        waiting up to 5 s for the first; sends left without one wait a second."""
        wanted = Counter((o.job.account.id, o.rate) for o in checked if o.rate is not None)

        async def one(account_id: int, rate: str, count: int) -> tuple[tuple[int, str], int]:
            taken = await self.limiter.acquire_up_to(
                rate, count, "send", str(account_id), max_wait=5
            )
            return (account_id, rate), taken

        found = await asyncio.gather(*(one(a, r, n) for (a, r), n in wanted.items()))
        return dict(found)

    async def _thread(
        self,
        jobs: list[SendJob],
        checked: dict[int, Outcome],
        tokens: dict[tuple[int, str], int],
        courtesy: bool,
    ) -> list[Outcome]:
        """One person's messages, one request each, in order. Bot replies go out between
        "seen + typing" and "typing off", as a person would answer (with `courtesy`, i.e.
        when no backlog is waiting)."""
        typing = self._typing_for(jobs, checked) if courtesy else None
        if typing is not None:
            await self._sender_actions([typing], "mark_seen", "typing_on")
        outcomes = await one_by_one(jobs, checked, lambda outcome: self._send(outcome, tokens))
        if typing is not None:
            await self._sender_actions([typing], "typing_off")
        return outcomes

    async def _waves(
        self,
        sender: BatchSender,
        threads: list[list[SendJob]],
        checked: dict[int, Outcome],
        tokens: dict[tuple[int, str], int],
        courtesy: bool,
    ) -> list[Outcome]:
        """The threads of one Page, in waves of one `send_many` each (waves.py). The
        courtesy actions of all its threads go in one batch before the first wave and one
        after the last."""
        typing = [self._typing_for(jobs, checked) for jobs in threads] if courtesy else []
        courted = [job for job in typing if job is not None]
        if courted:
            await self._sender_actions(courted, "mark_seen", "typing_on")
        outcomes = await in_waves(
            threads, checked, lambda wave: self._send_wave(sender, wave, tokens)
        )
        if courted:
            await self._sender_actions(courted, "typing_off")
        return outcomes

    def _typing_for(self, jobs: list[SendJob], checked: dict[int, Outcome]) -> SendJob | None:
        """The bot reply that sender actions may go with: on a channel that has them, to a
        person who can be reached, inside the window (policy says a standard message)."""
        job = next((j for j in jobs if j.purpose == "reply" and j.written_by == "bot"), None)
        if job is None or job.recipient_kind != "id":
            return None
        adapter = self.adapters.get(job.account.kind)
        if adapter is None or not adapter.capabilities.sender_actions:
            return None
        outcome = checked[job.outbound_id]  # ready to go: reachable, not paused, allowed
        decision = outcome.decision
        if outcome.rate is None or decision is None:
            return None
        return job if decision.tag is None else None

    async def _sender_actions(self, jobs: list[SendJob], *actions: SenderAction) -> None:
        account = jobs[0].account
        rate = policy.send_rate(account.kind, purpose=Purpose.REPLY).limit
        await sender_actions(self.limiter, rate, self.adapters[account.kind], jobs, actions)

    def _decide(self, job: SendJob) -> Decision:
        # A purpose we do not know is judged as strictly as a promotion.
        purpose = _purpose(job.purpose) or Purpose.PROMOTION
        return policy.decide(
            PolicyRequest(
                channel=job.account.kind,
                purpose=purpose,
                now=utcnow(),
                last_interaction_at=job.last_inbound_at,
                written_by="human" if job.written_by == "human" else "bot",
                comment_created_at=job.comment_created_at,
                private_replies_sent=job.private_replies_sent,
            ),
            explain=False,  # only a refusal is recorded with its reason
        )

    def _check(self, job: SendJob) -> Outcome:
        """What is known before any network call: the Page paused or waiting for a
        reconnect, the person unreachable, policy's decision, the adapter, the send rate.
        An outcome with `rate` set is ready to go."""
        now = utcnow()
        outcome = Outcome(job, now)
        paused = self._paused.get(job.account.id, 0.0) - time.monotonic()
        if paused > 0:
            outcome.defer_until = now + timedelta(seconds=paused)
            return outcome
        if job.account_status == "reauth_required":
            outcome.defer_until = now + _REAUTH_WAIT  # waits for a reconnect, not an attempt
            return outcome
        if not job.reachable and job.recipient_kind == "id":
            outcome.decision = Decision(
                allowed=False,
                rule="identity.unreachable",
                reason="The platform said this person cannot receive messages (blocked, "
                "deactivated or messages turned off); chatcart tries again after they write.",
            )
            return outcome
        decision = outcome.decision = self._decide(job)
        if not decision.allowed:
            return outcome
        if job.account.kind not in self.adapters:
            outcome.result = SendError("failed", "no_adapter", f"no adapter for {job.account.kind}")
            return outcome
        media = bool(job.content.attachments) and any(
            a.kind in {"audio", "video"} for a in job.content.attachments
        )
        outcome.rate = policy.send_rate(
            job.account.kind, media, purpose=_purpose(job.purpose)
        ).limit
        return outcome

    def _prepare(
        self, outcome: Outcome, tokens: dict[tuple[int, str], int]
    ) -> tuple[Outcome, OutboundEnvelope | None]:
        """A checked send about to go: a token of the batch's, then its envelope (None, and
        a deferred outcome, when the Page was throttled meanwhile or no token is left)."""
        job, decision, rate = outcome.job, outcome.decision, outcome.rate
        assert decision is not None
        assert rate is not None
        now = utcnow()
        paused = self._paused.get(job.account.id, 0.0) - time.monotonic()
        if paused > 0:  # throttled by the platform during this batch
            return Outcome(job, now, defer_until=now + timedelta(seconds=paused)), None
        key = (job.account.id, rate)
        if tokens.get(key, 0) <= 0:
            return Outcome(job, now, defer_until=now + timedelta(seconds=1)), None
        tokens[key] -= 1
        adapter = self.adapters[job.account.kind]
        envelope = OutboundEnvelope(
            idempotency_key=job.idempotency_key,
            recipient_id=job.recipient_id,
            recipient_kind=decision.recipient_kind,
            content=degrade(job.content, adapter.capabilities),
            messaging_type=decision.messaging_type,
            tag=decision.tag,
            message_ref=job.message_id,
            conversation_ref=job.conversation_id,
        )
        outcome.started = utcnow()
        return outcome, envelope

    def _settle(self, outcome: Outcome, result: SendResult | SendError) -> Outcome:
        """The adapter's answer. A lost batch answer is retried, a rate-limit code pauses the
        whole Page, and an error's next try is fixed here: its row and the rest of its
        thread go by the same time."""
        result = outcome.result = retry_if_lost(result)
        if isinstance(result, SendError):
            account = outcome.job.account
            if result.outcome == "retry" and result.code in _RATE_LIMIT_CODES:
                self._paused[account.id] = time.monotonic() + (result.retry_after or 60.0)
            wait = result.retry_after or _pause_left(self._paused, account)
            outcome.retry_at = utcnow() + service.backoff(outcome.job.attempt, wait)
        return outcome

    async def _send(self, outcome: Outcome, tokens: dict[tuple[int, str], int]) -> Outcome:
        """A checked send, one request: a token of the batch's, then the adapter."""
        outcome, envelope = self._prepare(outcome, tokens)
        if envelope is None:
            return outcome
        job = outcome.job
        result: SendResult | SendError
        try:
            result = await self.adapters[job.account.kind].send(job.account, envelope)
        except SendError as exc:
            result = exc
        except Exception as exc:  # a bug or a network fault: retry, and keep the reason
            log.exception("send %s failed", job.outbound_id)
            result = SendError("retry", type(exc).__name__, str(exc) or repr(exc))
        return self._settle(outcome, result)

    async def _send_wave(
        self, sender: BatchSender, wave: list[Outcome], tokens: dict[tuple[int, str], int]
    ) -> list[Outcome]:
        """Checked sends of one Page, at most one per person: tokens and envelopes as
        `_send` takes them, then one `send_many` (the adapter cuts it into requests)."""
        prepared = [self._prepare(outcome, tokens) for outcome in wave]
        going = [(outcome, envelope) for outcome, envelope in prepared if envelope is not None]
        if going:
            account = going[0][0].job.account
            results = await send_batch(sender, account, [envelope for _, envelope in going])
            for (outcome, _), result in zip(going, results, strict=True):
                self._settle(outcome, result)
        return [outcome for outcome, _ in prepared]

    async def _after(
        self, session: AsyncSession, effects: Effects, job: SendJob, result: SendResult | SendError
    ) -> None:
        """What a recorded send result means beyond its row: an unreachable person, a
        token to reconnect, a private reply used up."""
        if isinstance(result, SendError):
            await self._consequences(session, effects, job, result)
        elif job.recipient_kind == "comment_id":
            await growth.note_private_reply(
                session, job.account.id, job.recipient_id, job.outbound_id
            )

    async def _flag_reauth(self, session: AsyncSession, account_id: int, reason: str) -> bool:
        self._accounts.pop(account_id, None)  # its status changes: read it again
        return await channels.flag_reauth(session, account_id, reason)

    async def _consequences(
        self, session: AsyncSession, effects: Effects, job: SendJob, error: SendError
    ) -> None:
        if error.outcome == "unreachable" and job.recipient_kind == "id":
            identity = await contacts.find_identity(session, job.account.id, job.recipient_id)
            if identity is not None:
                await contacts.mark_unreachable(
                    session, identity.id, f"{error.code}: {error.message}"
                )
        elif error.outcome == "reauth" and await self._flag_reauth(
            session, job.account.id, f"{error.code}: {error.message}"
        ):
            effects.publish(
                f"workspace:{job.workspace_id}",
                {"type": "channel_status", "channel_account_id": job.account.id},
            )


def _recorded(outcome: Outcome, paused: dict[int, float]) -> SendOutcome:
    """The dispatcher's outcome as the outbox records it."""
    blocked = None
    if outcome.defer_until is None and outcome.result is None:
        decision = outcome.decision
        assert decision is not None
        blocked = (decision.rule, decision.reason)
    result = outcome.result
    if isinstance(result, SendError) and result.outcome == "retry":
        result.retry_after = result.retry_after or _pause_left(paused, outcome.job.account)
    return SendOutcome(
        outbound_id=outcome.job.outbound_id,
        started_at=outcome.started,
        result=result,
        defer_until=outcome.defer_until,
        blocked=blocked,
        retry_at=outcome.retry_at,
    )


def _purpose(value: str) -> Purpose | None:
    try:
        return Purpose(value)
    except ValueError:
        return None


def _pause_left(paused: dict[int, float], account: AccountRef) -> float | None:
    left = paused.get(account.id, 0.0) - time.monotonic()
    return left if left > 0 else None
