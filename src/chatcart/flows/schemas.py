from __future__ import annotations

from pydantic import BaseModel


class BotInput(BaseModel):
    text: str
    payload: str | None = None
    first_message: bool  # the contact's first message in this conversation
    contact_name: str = ""
    contact_first_name: str | None = None
    contact_locale: str | None = None
    workspace_name: str
    workspace_locale: str = "vi"
