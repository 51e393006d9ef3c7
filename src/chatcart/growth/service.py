"""The growth room's only door."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.channels.base import CommentRef
from chatcart.growth import repository
from chatcart.growth.schemas import CommentFacts
from chatcart.kit.textnorm import nfc
from chatcart.models import PostComment

_STATUS_BY_VERB = {"remove": "removed", "hide": "hidden", "unhide": "visible"}


async def record_comment(
    session: AsyncSession, *, workspace_id: int, account_id: int, comment: CommentRef, at: datetime
) -> int:
    """Keep a comment (and its later edits, hides and removals) as the platform reports it."""
    row = await repository.comment(session, account_id, comment.comment_id)
    if row is None:
        row = PostComment(
            workspace_id=workspace_id,
            channel_account_id=account_id,
            comment_id=comment.comment_id,
            post_id=comment.post_id,
            parent_id=comment.parent_id,
            from_id=comment.from_id,
            from_name=comment.from_name,
            text=nfc(comment.text),
            commented_at=comment.created_at,
            received_at=at,
        )
        session.add(row)
        await session.flush()
    elif comment.verb == "edited":
        row.text = nfc(comment.text)
    row.status = _STATUS_BY_VERB.get(comment.verb, row.status)
    return row.id


async def comment_facts(
    session: AsyncSession, account_id: int, comment_id: str
) -> CommentFacts | None:
    row = await repository.comment(session, account_id, comment_id)
    if row is None:
        return None
    return CommentFacts(
        comment_id=row.comment_id,
        commented_at=row.commented_at,
        private_replies_sent=1 if row.private_reply_outbound_id else 0,
    )


async def note_private_reply(
    session: AsyncSession, account_id: int, comment_id: str, outbound_id: int
) -> None:
    row = await repository.comment(session, account_id, comment_id)
    if row is not None and row.private_reply_outbound_id is None:
        row.private_reply_outbound_id = outbound_id
