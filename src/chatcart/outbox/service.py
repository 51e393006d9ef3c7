"""The outbox room's only door: enqueue in the caller's transaction; claim; record results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels.base import MessageContent, SendError, SendResult
from chatcart.kit.clock import utcnow
from chatcart.kit.effects import Effects
from chatcart.kit.ids import blocks_of
from chatcart.models import OutboundMessage
from chatcart.outbox import repository
from chatcart.outbox.schemas import Handoff, SendOutcome


async def enqueue(
    session: AsyncSession,
    effects: Effects,
    *,
    workspace_id: int,
    channel_account_id: int,
    identity_id: int | None,
    contact_id: int | None,
    conversation_id: int | None,
    message_id: int | None,
    idempotency_key: str,
    content: MessageContent,
    purpose: str = "reply",
    not_before: datetime | None = None,
    recipient_kind: str = "id",
    recipient_external_id: str | None = None,
    written_by: str = "bot",
) -> int:
    """Queue one send. The same idempotency key twice returns the first row's id.

    Between `hold_enqueues` and `write_held` (a claimed inbound batch) the row is kept
    back, with its key taken ahead from kit/ids, and written with the others at once."""
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "channel_account_id": channel_account_id,
        "identity_id": identity_id,
        "contact_id": contact_id,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "idempotency_key": idempotency_key,
        "content": content.model_dump(exclude_defaults=True),
        "purpose": purpose,
        "next_attempt_at": not_before or utcnow(),
        "recipient_kind": recipient_kind,
        "recipient_external_id": recipient_external_id,
        "written_by": written_by,
    }
    held: dict[str, dict[str, Any]] | None = session.info.get(_HELD)
    blocks = blocks_of(session)
    if held is not None and blocks is not None:
        if idempotency_key not in held:
            values["id"] = await blocks.take(OutboundMessage)
            held[idempotency_key] = values
        return int(held[idempotency_key]["id"])
    new_id = await repository.insert_once(session, values)
    if new_id is None:  # the key is taken: that row is the send
        existing = await repository.by_key(session, idempotency_key)
        if existing is None:
            raise RuntimeError(f"outbound {idempotency_key} neither inserted nor found")
        return existing.id
    effects.wake("outbox")
    return new_id


_HELD = "chatcart.outbox.held"


class HeldKeyTaken(RuntimeError):
    """A held row's idempotency key was already in the table: the batch must be redone one
    event at a time, where enqueue answers with the existing row."""


def hold_enqueues(session: AsyncSession) -> None:
    """From now on, enqueue() keeps rows back for `write_held` (needs kit/ids blocks open)."""
    session.info[_HELD] = {}


async def write_held(
    session: AsyncSession, effects: Effects, handoff: Handoff | None = None
) -> int:
    """Write the held rows with one statement and stop holding; call after the session's
    flush (the rows point at messages written by it). With a `handoff`, the replies to a
    person are written claimed by its worker and added to it; the outbox loop is woken
    for the others."""
    held: dict[str, dict[str, Any]] = session.info.pop(_HELD, None) or {}
    if not held:
        return 0
    rows = list(held.values())
    claimed_until = utcnow() + timedelta(seconds=handoff.lease_seconds) if handoff else None
    woken = False
    for row in rows:
        ours = handoff is not None and _handed(row)
        row["claimed_by"] = handoff.worker_id if ours and handoff else None
        row["claimed_until"] = claimed_until if ours else None
        if ours and handoff is not None:
            handoff.rows.append(row)
        elif not woken:
            effects.wake("outbox")
            woken = True
    inserted = len(await repository.insert_many_once(session, rows))
    if inserted != len(held):
        raise HeldKeyTaken(f"{len(held) - inserted} of {len(held)} outbound keys already taken")
    return inserted


def _handed(row: dict[str, Any]) -> bool:
    """Sent by the worker that wrote it: a message to a person, due now (a private reply
    to a comment needs facts read at send time; a later one waits its turn)."""
    return (
        row["recipient_kind"] == "id"
        and row["identity_id"] is not None
        and row["next_attempt_at"] <= utcnow()
    )


def release_held(session: AsyncSession) -> None:
    """Stop holding without writing (the batch failed and is rolled back)."""
    session.info.pop(_HELD, None)


async def claim_sends(
    session: AsyncSession, worker_id: str, batch: int, lease_seconds: int
) -> list[Any]:
    """`claim` and `claimed_sends` in one statement: the rows claimed now, in due order."""
    return await repository.claim_sends(session, worker_id, batch, lease_seconds)


async def claimed_sends(
    session: AsyncSession, outbound_ids: list[int], worker_id: str
) -> list[Any]:
    """The claimed rows still ours (queued, claimed by `worker_id`), locked, in the order
    given, with what a send needs (id, account, identity, recipient, key, purpose, content,
    attempts...): one query for the batch."""
    return await repository.claimed_sends(session, outbound_ids, worker_id)


def backoff(attempt: int, retry_after: float | None) -> timedelta:
    return timedelta(seconds=retry_after if retry_after else min(600, 2 ** max(0, attempt)))


async def record_outcomes(
    session: AsyncSession,
    effects: Effects,
    outcomes: list[SendOutcome],
    *,
    worker_id: str,
    max_attempts: int,
) -> dict[int, str]:
    """Record a batch of send results and move each row's status machine, set-based: one
    locking read, one executemany of updates per kind of outcome, one of attempt rows.

    A result is an attempt (sent; or an error: retried after a back-off while attempts
    remain, a refused token waiting for a reconnect however long; else failed). A deferred
    send is no attempt: it is released until `defer_until`. A send policy refused fails
    with the rule (`policy:<rule>`). Rows no longer ours (another worker claimed them after
    our claim expired) are left alone. Returns {outbound id: new status} of the rows
    recorded."""
    current = await repository.claim_states(session, [o.outbound_id for o in outcomes])
    now = utcnow()
    updates: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    statuses: dict[int, str] = {}
    for outcome in outcomes:
        row = current.get(outcome.outbound_id)
        if row is None or row.claimed_by != worker_id or row.status != "queued":
            continue
        values: dict[str, Any] = {"id": row.id, "claimed_by": None, "claimed_until": None}
        status = "queued"
        result = outcome.result
        if outcome.defer_until is not None:
            values["next_attempt_at"] = outcome.defer_until
            updates.append(values)
            statuses[row.id] = status
            continue
        if result is None:
            rule, reason = outcome.blocked or ("unknown", "")
            status = "failed"
            values |= {"status": status, "error_code": f"policy:{rule}", "error_message": reason}
        else:
            number = row.attempts + 1
            attempt: dict[str, Any] = {
                "outbound_message_id": row.id,
                "number": number,
                "started_at": outcome.started_at,
                "finished_at": now,
            }
            values["attempts"] = number
            if isinstance(result, SendResult):
                status = "sent"
                row_values, attempt_values = _sent(result, now)
                values |= row_values
                attempt |= attempt_values
            else:
                # A refused token waits for the seller to reconnect, however long that takes.
                retry = result.outcome == "reauth" or (
                    result.outcome == "retry" and number < max_attempts
                )
                values |= {"error_code": result.code, "error_message": result.message}
                if retry:
                    values["next_attempt_at"] = outcome.retry_at or now + backoff(
                        number, result.retry_after
                    )
                else:
                    status = "failed"
                    values["status"] = status
                attempt |= {
                    "outcome": "retry" if retry else "failed",
                    "response": result.response or None,
                    "error_code": result.code,
                    "error_message": result.message,
                }
            attempts.append(attempt)
        updates.append(values)
        statuses[row.id] = status
        _announce(effects, row.workspace_id, row.conversation_id, row.message_id, status)
    await repository.update_by_id(session, updates)
    await repository.insert_attempts(session, attempts)
    return statuses


def _sent(result: SendResult, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """A send that went out: the row's new values, and its attempt's."""
    row = {
        "status": "sent",
        "external_id": result.external_id,
        "sent_at": now,
        "error_code": None,
        "error_message": None,
    }
    attempt = {
        "outcome": "sent",
        "response": result.response,
        "error_code": None,
        "error_message": None,
    }
    return row, attempt


def _announce(
    effects: Effects,
    workspace_id: int,
    conversation_id: int | None,
    message_id: int | None,
    status: str,
) -> None:
    data: dict[str, Any] = {
        "type": "message_status",
        "conversation_id": conversation_id,
        "message_id": message_id,
        "status": status,
    }
    effects.publish(f"workspace:{workspace_id}", data)


_RANK = {"sent": 0, "delivered": 1, "read": 2}


async def apply_receipt(
    session: AsyncSession,
    effects: Effects,
    *,
    channel_account_id: int,
    identity_id: int,
    kind: str,
    watermark: datetime | None,
    mids: list[str],
) -> int:
    """Delivery and read receipts: everything sent to this person up to the watermark (and
    the listed message ids) moves to delivered / read. Statuses never move backwards."""
    status = "read" if kind == "read" else "delivered"
    rows = await repository.receipt_targets(
        session, channel_account_id, identity_id, watermark, mids
    )
    moved = 0
    for row in rows:
        if _RANK.get(row.status, -1) >= _RANK[status] or row.status not in _RANK:
            continue
        row.status = status
        if status == "read":
            row.read_at = watermark or utcnow()
            row.delivered_at = row.delivered_at or row.read_at
        else:
            row.delivered_at = watermark or utcnow()
        _announce(effects, row.workspace_id, row.conversation_id, row.message_id, row.status)
        moved += 1
    return moved


async def is_ours(session: AsyncSession, channel_account_id: int, key_or_mid: str) -> bool:
    """Is this echo one of our own sends (by idempotency key in metadata, or by mid)?"""
    return await repository.sent_by_us(session, channel_account_id, key_or_mid)


# --- sends made by their owner, at most once (broadcasts) --------------------------------
# The caller sends itself, with its own pacing: `prepare_direct` writes the rows "held"
# (prepared, not in flight); `launch_direct` marks them "sending" and commits just before the
# requests; `finish_direct` records the outcomes. The dispatcher never claims these rows (it
# takes "queued" only), so a crash during the requests leaves rows "sending", and the owner
# marks them "unknown" (`mark_unknown`) instead of sending again; a row still "held" was never
# sent and may be prepared again.


async def prepare_direct(
    session: AsyncSession, rows: list[dict[str, Any]], *, resend_unknown: bool = False
) -> dict[str, int]:
    """Write these sends "held" (rows: the `enqueue` values, with idempotency_key).

    Returns {idempotency_key: outbound id} of the sends the caller may make: new keys, keys
    still "held" (never sent, or waiting for another attempt), and "unknown" ones when
    `resend_unknown` (the seller's choice). A key already sent, failed or in flight is left
    out: never sent twice."""
    now = utcnow()
    values = [
        {
            **row,
            "status": "held",
            "next_attempt_at": now,
            "recipient_kind": row.get("recipient_kind", "id"),
            "written_by": row.get("written_by", "bot"),
        }
        for row in rows
    ]
    inserted = await repository.insert_many_once(session, values)
    missing = [row["idempotency_key"] for row in rows if row["idempotency_key"] not in inserted]
    allowed = {"held", "unknown"} if resend_unknown else {"held"}
    by_key = {row["idempotency_key"]: row for row in rows}
    for key, existing in (await repository.by_keys(session, missing)).items():
        if existing.status in allowed:
            existing.status = "held"
            existing.content = by_key[key]["content"]
            inserted[key] = existing.id
    return inserted


async def launch_direct(session: AsyncSession, outbound_ids: list[int]) -> None:
    """ "held" -> "sending": commit this before the requests go out."""
    await repository.set_status(session, outbound_ids, "held", "sending")


@dataclass(frozen=True, slots=True)
class DirectOutcome:
    outbound_id: int
    started_at: datetime
    result: SendResult | SendError
    final: bool  # on an error: the owner will not try again


async def finish_direct(
    session: AsyncSession, effects: Effects, outcomes: list[DirectOutcome]
) -> dict[int, str]:
    """Record the outcomes of `launch_direct` sends: "sent", "failed", or "held" (the owner
    tries again later). Rows not in flight are left out. A batch is one locking read, one
    executemany of updates and one of attempt rows (the broadcast hot path)."""
    current = await repository.statuses_locked(session, [o.outbound_id for o in outcomes])
    now = utcnow()
    statuses: dict[int, str] = {}
    updates: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for outcome in outcomes:
        found = current.get(outcome.outbound_id)
        if found is None or found[0] != "sending":
            continue
        number = found[1] + 1
        result = outcome.result
        attempt: dict[str, Any] = {
            "outbound_message_id": outcome.outbound_id,
            "number": number,
            "started_at": outcome.started_at,
            "finished_at": now,
        }
        if isinstance(result, SendResult):
            status = "sent"
            row_values, attempt_values = _sent(result, now)
            updates.append({"id": outcome.outbound_id, "attempts": number, **row_values})
            attempt |= attempt_values
        else:
            status = "failed" if outcome.final else "held"
            updates.append(
                {
                    "id": outcome.outbound_id,
                    "status": status,
                    "attempts": number,
                    "external_id": None,
                    "sent_at": None,
                    "error_code": result.code,
                    "error_message": result.message,
                }
            )
            attempt |= {
                "outcome": "failed" if outcome.final else "retry",
                "response": result.response or None,
                "error_code": result.code,
                "error_message": result.message,
            }
        attempts.append(attempt)
        statuses[outcome.outbound_id] = status
    await repository.update_many(session, updates)
    await repository.insert_attempts(session, attempts)
    return statuses


async def mark_unknown(
    session: AsyncSession,
    outbound_ids: list[int],
    message: str = "the sender stopped during the send; it may or may not have arrived",
) -> None:
    """In flight when its sender stopped, or its answer was lost: the platform may or may
    not have it (one UPDATE of the rows still "sending")."""
    await repository.set_status(
        session, outbound_ids, "sending", "unknown", error_code="unknown", error_message=message
    )


async def conversations_holding(
    session: AsyncSession, conversation_ids: set[int], purposes: tuple[str, ...]
) -> set[int]:
    """Which of these conversations have messages policy held back (one query per batch)."""
    if not conversation_ids:
        return set()
    return await repository.conversations_holding(session, conversation_ids, purposes)


async def held(session: AsyncSession, conversation_id: int, purpose: str) -> list[OutboundMessage]:
    """Messages of a conversation that policy kept from being sent (their rule is on
    the row), oldest first: what may go out once the person writes again."""
    return await repository.held(session, conversation_id, purpose)


async def key_taken(session: AsyncSession, idempotency_key: str) -> bool:
    return await repository.by_key(session, idempotency_key) is not None
