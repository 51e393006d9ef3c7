"""Merging two contacts into one. Nothing is lost: identities, conversations, messages sent,
phones, tags, fields, consents and the timeline all move to the contact that is kept; the
merged one stays, pointing at it (merged_into_id), so the merge can be traced."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.contacts import repository
from chatcart.contacts.book import contact_row, event, refresh_search_text
from chatcart.contacts.errors import MergeRefused
from chatcart.contacts.schemas import MergeSuggestion


async def merge(
    session: AsyncSession, workspace_id: int, keep_id: int, merge_id: int, *, actor: str
) -> None:
    if keep_id == merge_id:
        raise MergeRefused("a contact cannot be merged into itself")
    keep = await contact_row(session, workspace_id, keep_id)
    gone = await contact_row(session, workspace_id, merge_id)
    if keep.merged_into_id or gone.merged_into_id:
        raise MergeRefused("one of these contacts was already merged into another")
    moved = await repository.move_contact_data(session, gone.id, keep.id)
    keep.name = keep.name or gone.name
    keep.first_name = keep.first_name or gone.first_name
    keep.last_name = keep.last_name or gone.last_name
    keep.locale = keep.locale or gone.locale
    keep.timezone = keep.timezone or gone.timezone
    keep.source = keep.source or gone.source
    keep.order_count += gone.order_count
    keep.total_spent += gone.total_spent
    if gone.last_order_at and (
        keep.last_order_at is None or gone.last_order_at > keep.last_order_at
    ):
        keep.last_order_at = gone.last_order_at
    if gone.last_interaction_at and (
        keep.last_interaction_at is None or gone.last_interaction_at > keep.last_interaction_at
    ):
        keep.last_interaction_at = gone.last_interaction_at
    if gone.created_at < keep.created_at:
        keep.created_at = gone.created_at  # first seen: the earlier of the two
    gone.merged_into_id = keep.id
    gone.search_text = ""
    await session.flush()
    await refresh_search_text(session, keep)
    event(session, keep, "merged", {"from": gone.id, "moved": moved}, actor)
    event(session, gone, "merged_into", {"into": keep.id}, actor)


async def suggestions(
    session: AsyncSession, workspace_id: int, limit: int = 50
) -> list[MergeSuggestion]:
    """Pairs of contacts that share a valid phone number or an email."""
    return [
        MergeSuggestion(contact_id=a, other_id=b, kind=kind, value=value)
        for a, b, kind, value in await repository.shared_points(session, workspace_id, limit)
    ]
