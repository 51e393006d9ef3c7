"""Worker loops: inbound events and outbound messages. Each loop drains what is due, then
sleeps until a wake-up on the bus or the poll interval, whichever comes first."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.broadcasts.service import BroadcastRunner
from chatcart.channels import service as channels
from chatcart.channels.base import AccountRef, ParseError
from chatcart.channels.schemas import ClaimedInbound
from chatcart.contacts import service as contacts
from chatcart.conversations import service as conversations
from chatcart.conversations.schemas import Prepared
from chatcart.flows import service as flows
from chatcart.flows.schemas import FlowInput, HttpResult, RunRecord
from chatcart.kit.crypto import random_token
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError
from chatcart.kit.sqlite_driver import statements_inline
from chatcart.outbox.dispatch import Dispatcher
from chatcart.outbox.schemas import Handoff
from chatcart.runtime import Runtime
from chatcart.shop import service as shop
from chatcart.workspaces.schemas import WorkspaceOut

log = logging.getLogger(__name__)

HOLDS_EVERY = 30.0

# Events where a person acts and may be new to us (their profile is worth asking for).
_PEOPLE_EVENTS = {"message", "postback", "referral", "story_mention", "optin"}


def new_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{random_token(4)}"


class Worker:
    def __init__(self, runtime: Runtime, worker_id: str | None = None) -> None:
        self.rt = runtime
        self.id = worker_id or new_worker_id()
        settings = runtime.settings
        self.dispatcher = Dispatcher(
            sessions=runtime.sessions,
            bus=runtime.bus,
            secrets=runtime.secrets,
            adapters=runtime.adapters,
            worker_id=self.id,
            batch=settings.worker_batch_size,
            lease_seconds=settings.claim_seconds,
            max_attempts=settings.outbox_max_attempts,
            limiter=runtime.limiter,
        )
        self.broadcasts = BroadcastRunner(
            sessions=runtime.sessions,
            bus=runtime.bus,
            secrets=runtime.secrets,
            adapters=runtime.adapters,
            worker_id=self.id,
            limiter=runtime.limiter,
            claim_batch=settings.broadcast_claim_batch,
            lease_seconds=settings.claim_seconds,
            max_attempts=settings.outbox_max_attempts,
            concurrency=settings.broadcast_concurrency,
        )
        self._stopping = asyncio.Event()
        self._accounts: dict[int, tuple[AccountRef, float]] = {}
        # Inbound events whose one-transaction batch failed: taken apart next time.
        self._alone: set[int] = set()
        # While the loops run, an inbound batch's replies are sent by this worker right
        # after its commit (outbox Handoff) instead of waiting for the outbox loop's claim.
        self.hand_over = False
        self._sending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        log.info("worker %s started", self.id)
        self.hand_over = True
        try:
            await self._run_loops()
        finally:
            self.hand_over = False
            await self.sends_end()

    async def sends_end(self) -> None:
        """Replies handed over and still on their way: a few seconds to end, then cancelled
        (their claim expires and the outbox loop sends them again)."""
        if self._sending:
            _, pending = await asyncio.wait(set(self._sending), timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _hand(self, handoff: Handoff | None) -> None:
        if handoff is None or not handoff.rows:
            return
        task = asyncio.create_task(self._send_handed(handoff))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_handed(self, handoff: Handoff) -> None:
        try:
            await self.dispatcher.send_handed(handoff)
        except Exception:
            log.exception("replies handed over not sent; the outbox loop sends them later")

    def _handoff(self) -> Handoff | None:
        if not self.hand_over:
            return None
        return Handoff(self.id, self.rt.settings.claim_seconds)

    async def _run_loops(self) -> None:
        await asyncio.gather(
            self._loop("inbound", self.inbound_once),
            self._loop("outbox", self.dispatcher.run_once),
            # Waits are minutes long and HTTP steps wake the loop on the bus: polling the
            # flow runs less often keeps SQLite's one writer free for messages.
            self._loop(
                "flows", self.flows_once, poll=max(5.0, self.rt.settings.worker_poll_seconds)
            ),
            self._holds_loop(),
            self.broadcasts.run(self._stopping),
        )

    async def _holds_loop(self) -> None:
        # Holds last 30 minutes: a look every HOLDS_EVERY seconds is plenty, and keeps this
        # loop off SQLite's single connection the rest of the time.
        while not self._stopping.is_set():
            try:
                await self.holds_once()
            except Exception:
                log.exception("holds loop failed; retrying in %ss", HOLDS_EVERY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=HOLDS_EVERY)

    async def holds_once(self) -> int:
        """Unpaid payment-link orders past their hold: cancelled, their stock back on sale."""
        effects = Effects()
        async with transaction(self.rt.sessions) as session:
            released = await shop.release_expired(session, effects)
        await effects.flush(self.rt.bus)
        return released

    def stop(self) -> None:
        self._stopping.set()

    async def _loop(
        self, name: str, once: Callable[[], Awaitable[int]], poll: float | None = None
    ) -> None:
        poll = poll or self.rt.settings.worker_poll_seconds
        async with self.rt.bus.subscribe(f"wake:{name}") as wakeups:
            while not self._stopping.is_set():
                try:
                    done = await once()
                except Exception:
                    log.exception("%s loop failed; retrying after %ss", name, poll)
                    done = 0
                if done:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeups.get(), timeout=poll)
                while not wakeups.empty():  # one drain serves every queued wake-up
                    wakeups.get_nowait()

    async def inbound_once(self) -> int:
        """Claim a batch of inbound events and apply them. When everyone in the batch is
        known already (no profile to fetch over the network), the claim, the events and
        their being done are one transaction. Otherwise the claim is committed first, new
        senders' profiles are fetched outside any transaction, then the batch is applied in
        a second one. If a batch fails, its events are applied one by one, so a single bad
        event cannot hold back the others.

        On SQLite its statements (and those recording the replies handed over) run on the
        loop's thread: the batch holds the one connection for its own work only."""
        with statements_inline():
            return await self._inbound_batch()

    async def _inbound_batch(self) -> int:
        settings = self.rt.settings
        effects = Effects()
        claimed: list[ClaimedInbound] = []
        parsed: list[Prepared] | None = None
        ids: set[int] = set()
        handoff = self._handoff()
        try:
            async with transaction(self.rt.sessions) as session:
                claimed = await channels.claim_inbound_rows(
                    session, self.id, settings.worker_batch_size, settings.claim_seconds
                )
                # The senders we know already, read in the claim's transaction with their
                # contacts (the batch goes on with them when they are all known); the
                # others' profiles are fetched before the batch is applied.
                asked = {(r.channel_account_id, r.sender_id) for r in claimed if r.sender_id}
                people = await contacts.load_known(session, asked) if asked else None
                known = set(people.found) if people is not None else set()
                ids = {row.id for row in claimed}
                if claimed and asked <= known and not ids & self._alone:
                    parsed = await self._parse(claimed, session)
                    if not await self._unknown_senders(parsed, known, session):
                        cache: dict[int, WorkspaceOut] = {}
                        await conversations.apply_inbound_many(
                            session,
                            effects,
                            self.rt.secrets,
                            parsed,
                            self.id,
                            cache,
                            claimed=True,
                            handoff=handoff,
                            people=people,
                        )
                        parsed = []  # applied
        except Exception:
            if not claimed or parsed is None:
                raise
            # Rolled back, claim and all: the next claim takes these events again and
            # applies them the careful way (a batch of its own, then one by one).
            log.warning("inbound batch of %s failed; taking it again apart", len(claimed))
            if len(self._alone) > 10_000:  # events another worker took apart meanwhile
                self._alone.clear()
            self._alone |= ids
            return len(claimed)
        if not claimed:
            return 0
        if parsed is None:
            parsed = await self._parse(claimed, None)
        if parsed:
            await self._fetch_profiles(parsed, asked, known)
            await self._apply_apart(parsed)
        else:
            self._hand(handoff)
        self._alone -= ids
        await effects.flush(self.rt.bus)
        return len(claimed)

    async def _apply_apart(self, prepared: list[Prepared]) -> None:
        """A batch whose claim was committed before (its senders' profiles were fetched
        meanwhile, or it failed in one piece): applied in one transaction, or one by one."""
        effects = Effects()
        handoff = self._handoff()
        try:
            async with transaction(self.rt.sessions) as session:
                cache: dict[int, WorkspaceOut] = {}
                await conversations.apply_inbound_many(
                    session, effects, self.rt.secrets, prepared, self.id, cache, handoff=handoff
                )
            self._hand(handoff)
        except Exception:
            log.warning("inbound batch of %s failed; applying one by one", len(prepared))
            effects = Effects()
            for item in prepared:
                await self._apply_alone(item)
        await effects.flush(self.rt.bus)

    async def flows_once(self) -> int:
        """Flow runs that are due: a wait that is over (also one that ended while the
        process was down), or an HTTP step's call — made here, outside any transaction,
        then handed back to the run. A crash mid-way lets the claim expire: the run is
        taken again (the call may then be made twice: receivers check the signature's
        timestamp and deduplicate)."""
        settings = self.rt.settings
        async with transaction(self.rt.sessions) as session:
            runs = await flows.claim_due_runs(
                session, self.id, settings.worker_batch_size, settings.claim_seconds
            )
        for run in runs:
            data = await self._flow_input(run)
            effects = Effects()
            try:
                async with transaction(self.rt.sessions) as session:
                    await conversations.resume_flow(session, effects, run.id, self.id, data)
            except Exception:
                log.exception("flow run %s failed; its claim expires and it is retried", run.id)
                continue
            await effects.flush(self.rt.bus)
        return len(runs)

    async def _flow_input(self, run: RunRecord) -> FlowInput:
        pending = run.state.pending if run.state.status == "http" else None
        if pending is None:
            return FlowInput(kind="wake")
        try:
            async with self.rt.sessions() as session:
                secret = await flows.signing_secret(
                    session, self.rt.secrets, run.workspace_id, run.state.flow
                )
        except AppError as exc:
            return FlowInput(kind="http", http=HttpResult(error=f"not signed: {exc.message}"))
        return FlowInput(kind="http", http=await flows.call_http(pending, secret))

    async def _account(self, account_id: int, session: AsyncSession | None = None) -> AccountRef:
        cached = self._accounts.get(account_id)
        if cached is None or cached[1] < time.monotonic():
            if session is not None:
                ref = await channels.account_ref(session, self.rt.secrets, account_id)
            else:
                async with self.rt.sessions() as own:
                    ref = await channels.account_ref(own, self.rt.secrets, account_id)
            cached = (ref, time.monotonic() + 30)
            self._accounts[account_id] = cached
        return cached[0]

    async def _parse(
        self, claimed: list[ClaimedInbound], session: AsyncSession | None
    ) -> list[Prepared]:
        """Each claimed row as events. A row that cannot be parsed is kept as failed, one
        whose parsing crashed is given back to be tried later: in `session` (the claim's
        transaction) when given, else each in a transaction of its own."""
        prepared: list[Prepared] = []
        for row in claimed:
            account = await self._account(row.channel_account_id, session)
            try:
                events = channels.parse_inbound(self.rt.adapters, account, row.body)
            except ParseError as exc:
                log.warning("inbound event %s cannot be parsed: %s", row.id, exc)
                if session is not None:
                    await channels.finish_inbound(session, row.id, error=f"parse: {exc}")
                else:
                    async with transaction(self.rt.sessions) as own:
                        await channels.finish_inbound(own, row.id, error=f"parse: {exc}")
                continue
            except Exception as exc:
                await self._give_back(row.id, exc, session)
                continue
            prepared.append(Prepared(row.id, row.workspace_id, account, events))
        return prepared

    def _wanted(self, prepared: list[Prepared]) -> set[tuple[int, str]]:
        """The people of these events whose profile is worth asking for."""
        return {
            (item.account.id, event.sender_id)
            for item in prepared
            for event in item.events
            if event.kind in _PEOPLE_EVENTS and not event.profile
        }

    async def _unknown_senders(
        self, prepared: list[Prepared], known: set[tuple[int, str]], session: AsyncSession
    ) -> bool:
        """Whether an event names someone new (whose profile must be fetched first); an
        event may name someone its recorded row did not."""
        wanted = self._wanted(prepared) - known
        if wanted:
            wanted -= await contacts.known_senders(session, wanted)
        return bool(wanted)

    async def _fetch_profiles(
        self, prepared: list[Prepared], asked: set[tuple[int, str]], known: set[tuple[int, str]]
    ) -> None:
        """First contact on a channel with a profile API: ask who the person is, so the
        first answer can use their name. Failures leave the profile empty, nothing more.
        `known`: those of the `asked` senders we know already."""
        wanted = self._wanted(prepared) - known
        unasked = wanted - asked
        if unasked:  # an event names someone its recorded row did not
            async with self.rt.sessions() as session:
                wanted -= await contacts.known_senders(session, unasked)
        if not wanted:
            return
        accounts = {item.account.id: item.account for item in prepared}

        async def one(account: AccountRef, sender: str) -> tuple[int, str, dict[str, Any]]:
            adapter = self.rt.adapters.get(account.kind)
            if adapter is None:
                return account.id, sender, {}
            try:
                profile = await asyncio.wait_for(adapter.profile(account, sender), timeout=5)
            except Exception as exc:  # the answer goes out without a name
                log.info("profile of %s on %s not fetched: %s", sender, account.kind, exc)
                profile = {}
            return account.id, sender, profile

        found = await asyncio.gather(*(one(accounts[a], s) for a, s in sorted(wanted)))
        profiles = {(a, s): p for a, s, p in found if p}
        for item in prepared:
            for event in item.events:
                profile = profiles.get((item.account.id, event.sender_id))
                if profile:
                    item.profiles[event.sender_id] = profile

    async def _apply_alone(self, item: Prepared) -> None:
        effects = Effects()
        try:
            async with transaction(self.rt.sessions) as session:
                await conversations.apply_inbound(session, effects, self.rt.secrets, item, self.id)
        except Exception as exc:
            log.exception("inbound event %s failed", item.event_id)
            await self._give_back(item.event_id, exc)
            return
        await effects.flush(self.rt.bus)

    async def _give_back(
        self, event_id: int, exc: Exception, session: AsyncSession | None = None
    ) -> None:
        if session is None:
            async with transaction(self.rt.sessions) as own:
                await self._give_back(event_id, exc, own)
            return
        await channels.retry_inbound(
            session,
            event_id,
            f"{type(exc).__name__}: {exc}",
            max_attempts=self.rt.settings.inbound_max_attempts,
        )
