"""The order of a claimed batch's sends (DESIGN.md §5).

A *thread* is the jobs of one channel account to one recipient, in claim order. A person's
messages go strictly one after another, and once one of them did not go (an error, a retry,
a deferral, a refusal) the rest of the thread waits its turn: each is deferred to just after
the one before it will be tried again.

Two ways to walk threads, both keeping that rule:

- `one_by_one`: one thread, one send after the other (adapters without batch requests; the
  dispatcher runs such threads side by side).
- `in_waves`: all threads of one Page together. Wave k holds the k-th message of every
  thread that has one, and is sent as one `send_many` (Graph batch requests of <= 50 calls).
  Calls inside one Graph batch may run in parallel at Meta, so a person never has two
  messages in one wave; different people share a request: ~15 us of CPU per message instead
  of ~120 us for an HTTP POST of its own.

Around the waves: `send_batch` (one wave through the adapter, never raising),
`retry_if_lost` (a reply whose batch answer was lost is sent again, not left "unknown"),
and `sender_actions` (the courtesy typing indicators of all of a Page's threads in one batch
request before the first wave and one after the last). What a send is (policy, tokens,
envelope, the Page's pause) stays the dispatcher's, handed in as `send` callables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatcart.channels.base import (
    AccountRef,
    BatchSender,
    ChannelAdapter,
    OutboundEnvelope,
    SenderAction,
    SendError,
    SendResult,
    batch_sender,
)
from chatcart.kit.clock import utcnow
from chatcart.kit.ratelimit import RateLimiter
from chatcart.outbox import service
from chatcart.outbox.schemas import SendJob
from chatcart.policy.schemas import Decision

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    job: SendJob
    started: datetime
    result: SendResult | SendError | None = None  # None: not sent (blocked or deferred)
    decision: Decision | None = None
    defer_until: datetime | None = None
    rate: str | None = None  # checked and ready to go: the send rate it needs a token of
    # An error: when it is tried again, fixed once (the row's next attempt, and the time its
    # thread's next messages wait for, must be the same or the order may flip).
    retry_at: datetime | None = None


SendOne = Callable[[Outcome], Awaitable[Outcome]]
# The ready outcomes of one wave -> their outcomes, in the same order.
SendWave = Callable[[list[Outcome]], Awaitable[list[Outcome]]]


def next_try(outcome: Outcome) -> datetime:
    """When the message of this outcome will be tried again (an estimate for ordering)."""
    if outcome.defer_until is not None:
        return outcome.defer_until
    if outcome.retry_at is not None:
        return outcome.retry_at
    result = outcome.result
    if isinstance(result, SendError):
        wait = result.retry_after or service.backoff(outcome.job.attempt, None).total_seconds()
        return utcnow() + timedelta(seconds=wait)
    return utcnow()


def turn(done: list[Outcome], job: SendJob, checked: dict[int, Outcome]) -> Outcome:
    """The job's outcome before any send: deferred to 1 ms after the previous message's
    next try when that one did not go (so the order holds when both come due), else the
    checked outcome (ready to go when its `rate` is set)."""
    if done and not isinstance(done[-1].result, SendResult):
        return Outcome(job, utcnow(), defer_until=next_try(done[-1]) + timedelta(milliseconds=1))
    return checked[job.outbound_id]


async def one_by_one(
    jobs: list[SendJob], checked: dict[int, Outcome], send: SendOne
) -> list[Outcome]:
    """One thread, in order."""
    outcomes: list[Outcome] = []
    for job in jobs:
        outcome = turn(outcomes, job, checked)
        if outcome.rate is not None:
            outcome = await send(outcome)
        outcomes.append(outcome)
    return outcomes


async def in_waves(
    threads: list[list[SendJob]], checked: dict[int, Outcome], send: SendWave
) -> list[Outcome]:
    """The threads of one account, wave by wave: a wave is sent once the one before it
    has answered, so each person's next message follows their previous one."""
    done: list[list[Outcome]] = [[] for _ in threads]
    for k in range(max((len(jobs) for jobs in threads), default=0)):
        ready: list[tuple[int, Outcome]] = []
        for i, jobs in enumerate(threads):
            if k >= len(jobs):
                continue
            outcome = turn(done[i], jobs[k], checked)
            if outcome.rate is None:
                done[i].append(outcome)
            else:
                ready.append((i, outcome))
        if ready:
            answers = await send([outcome for _, outcome in ready])
            for (i, _), outcome in zip(ready, answers, strict=True):
                done[i].append(outcome)
    return [outcome for thread in done for outcome in thread]


async def send_batch(
    sender: BatchSender, account: AccountRef, envelopes: list[OutboundEnvelope]
) -> list[SendResult | SendError]:
    """One wave through the adapter: one outcome per envelope, whatever happens."""
    try:
        results = await sender.send_many(account, envelopes)
        if len(results) != len(envelopes):
            raise RuntimeError(f"{len(results)} answers to {len(envelopes)} sends")
    except Exception as exc:  # a bug: nothing says what went, so each is tried again
        log.exception("a wave of %s sends failed", len(envelopes))
        return [SendError("retry", type(exc).__name__, str(exc) or repr(exc))] * len(envelopes)
    return results


def retry_if_lost(result: SendResult | SendError) -> SendResult | SendError:
    """A batch whose answer was lost (SendError "unknown"): maybe delivered. A reply is
    sent again after the backoff, as a timed-out single send is (at least once; the
    receiver drops the repeat by the idempotency key in the echo metadata), keeping the
    code and message. Left "unknown", `record_outcomes` would fail it at once: a reply
    lost for a lost answer. (Broadcasts, where a repeat to thousands costs more, keep
    "unknown" for the seller to decide.)"""
    if isinstance(result, SendError) and result.outcome == "unknown":
        return SendError(
            "retry",
            result.code,
            result.message,
            retry_after=result.retry_after,
            response=result.response,
        )
    return result


async def sender_actions(
    limiter: RateLimiter,
    rate: str,
    adapter: ChannelAdapter,
    jobs: list[SendJob],
    actions: tuple[SenderAction, ...],
) -> None:
    """Courtesy, not messages, to the people of `jobs` (one account): each action takes a
    send token only while the Page has plenty to spare (a reply never waits for a typing
    indicator), is never retried, and a refusal is only logged. All of them in one batch
    request where the adapter sends batches, else one request each."""
    account = jobs[0].account
    wanted = [(job, action) for job in jobs for action in actions]
    spare = await asyncio.gather(
        *(limiter.try_acquire_spare(rate, "send", str(account.id)) for _ in wanted)
    )
    envelopes = [
        OutboundEnvelope(
            idempotency_key=f"{job.idempotency_key}:{action}",
            recipient_id=job.recipient_id,
            sender_action=action,
        )
        for (job, action), granted in zip(wanted, spare, strict=True)
        if granted
    ]
    if not envelopes:
        return
    sender = batch_sender(adapter)
    results: Sequence[SendResult | BaseException]
    try:
        if sender is not None:
            results = await sender.send_many(account, envelopes)
        else:
            results = await asyncio.gather(
                *(adapter.send(account, envelope) for envelope in envelopes),
                return_exceptions=True,
            )
    except Exception as exc:  # a lost typing indicator harms nobody
        results = [exc] * len(envelopes)
    for envelope, result in zip(envelopes, results, strict=True):
        if isinstance(result, BaseException):
            log.info("%s to %s not sent: %s", envelope.sender_action, envelope.recipient_id, result)
