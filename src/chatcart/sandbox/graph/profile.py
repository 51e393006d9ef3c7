"""`GET /{v}/{PSID|IGSID}?fields=...` — the User Profile API (platforms.md 2.7), and
`GET /{v}/me|{PAGE_ID}` (the token's own Page: id, name).

- Only people who started a conversation with the Page (message, Get Started, m.me, ...)
  have a profile; others → 100 "No profile available for that user." [U code/text].
- PSIDs are page-scoped: a PSID of another Page is an unknown object → 100/33.
- Fields: id, name, first_name, last_name, profile_pic by default; locale, timezone, gender
  only when granted to the Page (2.7 "need extra permission/feature"); anything else → 100
  "Tried accessing nonexisting field" [U: Meta may instead omit ungranted fields; the fake is
  strict so code that depends on an ungranted field fails loudly].
- Instagram users: id, name, username, profile_pic [U].
- No `fields` → first_name, last_name, profile_pic, id [U].
"""

from __future__ import annotations

from typing import Any

from chatcart.sandbox.graph.errors import GraphError
from chatcart.sandbox.graph.model import (
    DEFAULT_PROFILE_FIELDS,
    EXTRA_PROFILE_FIELDS,
    IG_PROFILE_FIELDS,
    Account,
    User,
)
from chatcart.sandbox.graph.send import authenticate, resolve_account
from chatcart.sandbox.graph.state import GraphState


def _fields(raw: str | None, default: list[str]) -> list[str]:
    if not raw:
        return default
    return [f.strip() for f in raw.split(",") if f.strip()]


def _nonexisting(field: str, node_type: str, reason: str) -> GraphError:
    return GraphError(
        100,
        f"(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})",
        reason=reason,
    )


def lookup(state: GraphState, node: str, fields: str | None, token: str | None) -> dict[str, Any]:
    accounts = authenticate(state, token)
    if node == "me" or any(a.answers_to(node) for a in accounts):
        account = resolve_account(state, accounts, node, None, "get")
        return _page(account, _fields(fields, ["name", "id"]))
    for account in accounts:
        user = state.user(account.id, node)
        if user is not None:
            return _profile(account, user, fields)
    raise GraphError(
        100,
        f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation. Please read the "
        "Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type_="GraphMethodException",
    )


def _page(account: Account, fields: list[str]) -> dict[str, Any]:
    values = {"id": account.id, "name": account.name}
    if account.kind == "instagram":
        values["username"] = account.name
    out: dict[str, Any] = {}
    for field in fields:
        if field not in values:
            raise _nonexisting(field, "Page", "only id and name are faked for a Page")
        out[field] = values[field]
    out["id"] = account.id
    return out


def _profile(account: Account, user: User, raw_fields: str | None) -> dict[str, Any]:
    if not user.conversation_started:
        raise GraphError(
            100,
            "(#100) No profile available for that user.",
            reason="profile access starts when the person starts the conversation (2.7)",
        )
    if account.kind == "instagram":
        allowed = IG_PROFILE_FIELDS
        fields = _fields(raw_fields, ["name", "username", "profile_pic", "id"])
    else:
        allowed = DEFAULT_PROFILE_FIELDS | (EXTRA_PROFILE_FIELDS & account.granted_profile_fields)
        fields = _fields(raw_fields, ["first_name", "last_name", "profile_pic", "id"])
    pic = user.profile_pic or (
        f"https://platform-lookaside.fbsbx.com/platform/profilepic/?psid={user.id}"
    )
    values: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "profile_pic": pic,
        "locale": user.locale,
        "timezone": user.timezone,
        "gender": user.gender,
        "username": user.username,
    }
    out: dict[str, Any] = {}
    for field in fields:
        if field not in allowed:
            why = "not granted to this Page (2.7)" if field in values else "unknown field"
            raise _nonexisting(field, "User", f"profile field {field}: {why}")
        out[field] = values[field]
    out["id"] = user.id
    return out
