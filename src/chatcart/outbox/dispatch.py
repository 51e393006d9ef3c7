"""The dispatcher: claimed outbound rows -> policy -> degrade -> adapter.send -> attempt row.

No transaction is held during the network call. A crash between the send and its record
lets the claim expire and the message is sent again: delivery is at least once, and the
idempotency key / message id lets receivers (our widget) drop the repeat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chatcart.channels import service as channels
from chatcart.channels.base import (
    ChannelAdapter,
    MessageContent,
    OutboundEnvelope,
    SendError,
    SendResult,
)
from chatcart.channels.degrade import degrade
from chatcart.contacts import service as contacts
from chatcart.kit.clock import utcnow
from chatcart.kit.crypto import SecretBox
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.pubsub import Bus
from chatcart.outbox import service
from chatcart.outbox.schemas import SendJob
from chatcart.policy import service as policy

log = logging.getLogger(__name__)


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

    async def run_once(self) -> int:
        async with transaction(self.sessions) as session:
            ids = await service.claim(session, self.worker_id, self.batch, self.lease_seconds)
        for outbound_id in ids:
            await self.dispatch(outbound_id)
        return len(ids)

    async def _job(self, session: AsyncSession, outbound_id: int) -> SendJob | None:
        row = await service.take(session, outbound_id, self.worker_id)
        if row is None:
            return None
        identity = await contacts.identity(session, row.identity_id)
        return SendJob(
            outbound_id=row.id,
            workspace_id=row.workspace_id,
            conversation_id=row.conversation_id,
            message_id=row.message_id,
            idempotency_key=row.idempotency_key,
            purpose=row.purpose,
            attempt=row.attempts + 1,
            account=await channels.account_ref(session, self.secrets, row.channel_account_id),
            recipient_id=identity.external_id,
            last_inbound_at=identity.last_inbound_at,
            content=MessageContent.model_validate(row.content),
        )

    async def dispatch(self, outbound_id: int) -> None:
        effects = Effects()
        async with transaction(self.sessions) as session:
            job = await self._job(session, outbound_id)
        if job is None:
            return
        decision = policy.decide(job.account.kind, job.last_inbound_at, job.purpose, utcnow())
        if not decision.allowed:
            async with transaction(self.sessions) as session:
                await service.block(
                    session,
                    effects,
                    outbound_id=outbound_id,
                    worker_id=self.worker_id,
                    rule=decision.rule,
                    reason=decision.reason,
                )
            await effects.flush(self.bus)
            return
        adapter = self.adapters.get(job.account.kind)
        started = utcnow()
        result: SendResult | SendError
        if adapter is None:
            result = SendError("failed", "no_adapter", f"no adapter for {job.account.kind}")
        else:
            envelope = OutboundEnvelope(
                idempotency_key=job.idempotency_key,
                recipient_id=job.recipient_id,
                content=degrade(job.content, adapter.capabilities),
                messaging_type=decision.messaging_type,
                tag=decision.tag,
                message_ref=job.message_id,
                conversation_ref=job.conversation_id,
            )
            try:
                result = await adapter.send(job.account, envelope)
            except SendError as exc:
                result = exc
            except Exception as exc:  # a bug or a network fault: retry, and keep the reason
                log.exception("send %s failed", outbound_id)
                result = SendError("retry", type(exc).__name__, str(exc) or repr(exc))
        async with transaction(self.sessions) as session:
            await service.record(
                session,
                effects,
                outbound_id=outbound_id,
                worker_id=self.worker_id,
                started_at=started,
                result=result,
                max_attempts=self.max_attempts,
            )
        await effects.flush(self.bus)
