from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CommentFacts(BaseModel):
    """What the policy needs to judge a private reply to a comment."""

    comment_id: str
    commented_at: datetime
    private_replies_sent: int
