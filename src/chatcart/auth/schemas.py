from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

from chatcart.kit.textnorm import nfc


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    agent = "agent"


class UserCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=8, max_length=1024)
    name: str = Field(default="", max_length=200)
    role: Role = Role.agent

    @field_validator("email")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return nfc(value).strip().lower()


class Principal(BaseModel):
    """Who is calling, and in which workspace: every query is scoped by workspace_id."""

    user_id: int | None
    workspace_id: int
    role: Role
    email: str | None = None
    name: str = ""


class IssuedToken(BaseModel):
    id: int
    token: str  # shown once
    prefix: str
