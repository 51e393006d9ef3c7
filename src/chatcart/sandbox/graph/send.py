"""The Send API: `POST /{v}/{PAGE_ID|IG_ID|me}/messages` (platforms.md 2.1, checklist 2.11).

Order of checks (each failure is logged with its reason, then answered in Meta's envelope):
 1. token: none → 104; revoked → 190/460; unknown → 190 (1.1, 2.9)
 2. the path node must be the token's account (or `me`) → else 100/33
 3. rate limit: per-account bucket, audio/video from the media bucket, private replies also
    from the hourly bucket → 613 (2.10)
 4. shape: recipient union has exactly one key; message XOR sender_action; messaging_type,
    notification_type, tag valid (2.1, 2.2) → 100
 5. content limits (content.py) → 100
 6. recipient: unknown PSID → 100/2018001; unavailable person → 551 (2.9)
 7. policy: window and tags (rules.py), private replies (rules.py), opt-in tokens
    (marketing.py) → 10/2018278 (IG 2534022), 100, 200, 109xx
`messaging_type` is required for messages to `recipient.id` / `user_ref` (2.1 [V] lists it as
required); private replies and token sends may omit it, and may not carry a `tag` [U].
Sender actions (typing_on / typing_off / mark_seen) go to `recipient.id` only, never with
`message`, and only inside the 24 h window [U: the window for sender actions is not stated].
`recipient.one_time_notif_token` (OTN, 2.3) → 100 (retired with recurring notifications) [U];
`recipient.phone_number` (Customer Matching, restricted) → 200 [U].
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chatcart.sandbox.graph import marketing, rules
from chatcart.sandbox.graph.content import ContentCheck, check_message
from chatcart.sandbox.graph.errors import (
    GraphError,
    invalid_parameter,
    new_fbtrace_id,
    no_matching_user,
    permission_denied,
    person_unavailable,
    rate_limited,
    token_invalid,
    token_missing,
    token_revoked,
    unknown_object,
)
from chatcart.sandbox.graph.events import new_mid
from chatcart.sandbox.graph.model import Account, User
from chatcart.sandbox.graph.state import GraphState

RECIPIENT_KEYS = (
    "id",
    "user_ref",
    "comment_id",
    "post_id",
    "notification_messages_token",
    "one_time_notif_token",
    "phone_number",
)
SENDER_ACTIONS = frozenset({"typing_on", "typing_off", "mark_seen"})

Effect = Callable[[], None]


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Context:
    account: Account | None = None
    user_id: str | None = None


def error_outcome(state: GraphState, err: GraphError) -> Outcome:
    trace = new_fbtrace_id()
    headers = {"x-fb-trace-id": trace}
    status = 400
    if err.is_auth:
        status = state.config.auth_error_status
        headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{err.message}"'
    return Outcome(status, err.body(trace), headers)


def authenticate(state: GraphState, token: str | None) -> list[Account]:
    if not token:
        raise token_missing()
    if token in state.revoked_tokens:
        raise token_revoked()
    accounts = state.accounts_for_token(token)
    if not accounts:
        raise token_invalid()
    return accounts


def process_send(
    state: GraphState, *, node: str, params: dict[str, Any], token: str | None, path: str
) -> Outcome:
    ctx = _Context()
    request = {k: v for k, v in params.items() if k != "access_token"}
    try:
        response, effect = _send(state, ctx, node, params, token)
    except GraphError as err:
        outcome = error_outcome(state, err)
        state.record(
            account_id=ctx.account.id if ctx.account else None,
            platform=ctx.account.platform if ctx.account else None,
            path=path,
            request=request,
            accepted=False,
            http_status=outcome.status,
            user_id=ctx.user_id,
            error=outcome.body["error"],
            reason=err.reason,
        )
        return outcome
    assert ctx.account is not None
    effect()
    record = state.record(
        account_id=ctx.account.id,
        platform=ctx.account.platform,
        path=path,
        request=request,
        accepted=True,
        http_status=200,
        user_id=ctx.user_id,
        message_id=response.get("message_id"),
        response=response,
    )
    state.after_accepted_send(record)
    return Outcome(200, response)


def resolve_account(
    state: GraphState, accounts: list[Account], node: str, recipient: object, method: str
) -> Account:
    """`me` or an id the token answers for; with one token for a Page and its linked IG
    account, the recipient decides (Meta routes by recipient) [U]."""
    found = accounts if node == "me" else [a for a in accounts if a.answers_to(node)]
    if not found:
        raise unknown_object(node, method)
    if len(found) > 1 and isinstance(recipient, dict):
        for account in found:
            if _owns_recipient(state, account, recipient):
                return account
    exact = [a for a in found if a.id == node]
    return exact[0] if exact else next((a for a in found if a.kind == "page"), found[0])


def _owns_recipient(state: GraphState, account: Account, recipient: dict[str, Any]) -> bool:
    rid = str(recipient.get("id") or "")
    obj = state.feed.get(str(recipient.get("comment_id") or recipient.get("post_id") or ""))
    tok = state.tokens.get(str(recipient.get("notification_messages_token") or ""))
    return bool(
        (rid and state.user(account.id, rid))
        or (obj and obj.account_id == account.id)
        or (tok and tok.account_id == account.id)
    )


def _is_audio_video(message: object) -> bool:
    if not isinstance(message, dict):
        return False
    attachment = message.get("attachment")
    return isinstance(attachment, dict) and attachment.get("type") in ("audio", "video")


def check_recipient(recipient: object) -> tuple[str, str]:
    if recipient is None:
        raise invalid_parameter("param recipient is required")
    if not isinstance(recipient, dict):
        raise invalid_parameter("param recipient must be a JSON object")
    for key in recipient:
        if key not in (*RECIPIENT_KEYS, "name"):
            raise invalid_parameter(f'Unexpected key "{key}" on param "recipient"')
    keys = [k for k in RECIPIENT_KEYS if k in recipient]
    if len(keys) != 1:
        raise invalid_parameter(
            "param recipient must have exactly one of " + ", ".join(RECIPIENT_KEYS),
            reason=f"recipient union has {len(keys)} keys (2.1, checklist 2.11 #2)",
        )
    if "name" in recipient and keys != ["phone_number"]:
        raise invalid_parameter('Unexpected key "name" on param "recipient"')
    value = recipient[keys[0]]
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value) == "":
        raise invalid_parameter(f"param recipient[{keys[0]}] must be a non-empty string")
    return keys[0], str(value)


def _send(
    state: GraphState, ctx: _Context, node: str, params: dict[str, Any], token: str | None
) -> tuple[dict[str, Any], Effect]:
    accounts = authenticate(state, token)
    recipient = params.get("recipient")
    account = ctx.account = resolve_account(state, accounts, node, recipient, "post")
    message = params.get("message")
    sender_action = params.get("sender_action")

    bucket = "media" if _is_audio_video(message) else "text"
    if not state.take_rate(account.id, bucket):
        raise rate_limited(f"{bucket} bucket of {account.id} is empty (2.10)")
    private = isinstance(recipient, dict) and ("comment_id" in recipient or "post_id" in recipient)
    if private and not state.take_rate(account.id, "private_reply"):
        raise rate_limited(f"private-reply bucket of {account.id} is empty (2.10)")

    kind, value = check_recipient(recipient)
    if sender_action is not None:
        return _sender_action(state, ctx, account, kind, value, sender_action, message)
    if message is None:
        raise invalid_parameter("Must send either message or sender_action")

    messaging_type = params.get("messaging_type")
    tag = params.get("tag")
    notification_type = params.get("notification_type")
    if notification_type is not None and notification_type not in rules.NOTIFICATION_TYPES:
        raise invalid_parameter("param notification_type must be REGULAR, SILENT_PUSH or NO_PUSH")
    if messaging_type is not None and messaging_type not in rules.MESSAGING_TYPES:
        raise invalid_parameter("param messaging_type must be RESPONSE, UPDATE or MESSAGE_TAG")
    if kind in ("id", "user_ref") and messaging_type is None:
        raise invalid_parameter(
            "param messaging_type is required", reason="messaging_type is required (2.1)"
        )
    if tag is not None and messaging_type != "MESSAGE_TAG":
        raise invalid_parameter(
            "param tag requires messaging_type MESSAGE_TAG",
            reason="a tag only goes with messaging_type=MESSAGE_TAG (2.2) [U]",
        )
    if messaging_type == "MESSAGE_TAG" and tag is None:
        raise invalid_parameter(
            "param tag is required for messaging_type MESSAGE_TAG",
            reason="MESSAGE_TAG requires a tag (2.1)",
        )
    now = state.clock.now()
    checked_tag = rules.check_tag(tag, account.platform, now) if tag is not None else None
    if checked_tag is not None and kind not in ("id", "user_ref"):
        raise invalid_parameter(
            f"param tag cannot be used with recipient[{kind}]",
            reason="tags belong to recipient.id sends (2.2) [U]",
        )
    content = check_message(message, account.platform)

    mid = new_mid(account)
    if kind == "id":
        return _to_user(state, ctx, account, value, checked_tag, content, mid)
    if kind == "user_ref":
        return _to_user_ref(state, ctx, account, value, mid)
    if kind in ("comment_id", "post_id"):
        return _private_reply(state, ctx, account, kind, value, mid)
    if kind == "notification_messages_token":
        return _token_send(state, ctx, account, value, mid)
    if kind == "one_time_notif_token":
        raise invalid_parameter(
            "One-time notifications are no longer supported",
            reason="OTN (2.3) is legacy; retired with recurring notifications [U]",
        )
    raise permission_denied(
        "Customer Matching (recipient.phone_number) is not enabled for this Page",
        reason="phone_number recipients need the restricted Customer Matching feature (2.1)",
    )


def _reachable(state: GraphState, ctx: _Context, account: Account, user_id: str) -> User:
    user = state.user(account.id, user_id)
    if user is None:
        raise no_matching_user(f"{user_id} is not a user of {account.id} (2.9)")
    ctx.user_id = user.id
    if user.unavailable:
        raise person_unavailable()
    return user


def _to_user(
    state: GraphState,
    ctx: _Context,
    account: Account,
    psid: str,
    tag: str | None,
    content: ContentCheck,
    mid: str,
) -> tuple[dict[str, Any], Effect]:
    user = _reachable(state, ctx, account, psid)
    now = state.clock.now()
    if content.optin_title is not None:
        # 2.4: opt-in requests only inside the standard window, whatever the tag.
        rules.check_window(
            platform=account.platform,
            tag=None,
            last_interaction=user.last_interaction_at,
            now=now,
            human_agent_enabled=False,
        )
        key = (account.id, user.id, content.optin_title)
        marketing.check_optin_request(state.optin_requests.get(key), content.optin_title, now)
    rules.check_window(
        platform=account.platform,
        tag=tag,
        last_interaction=user.last_interaction_at,
        now=now,
        human_agent_enabled=state.features.get("human_agent", False),
    )

    def effect() -> None:
        if content.optin_title is not None:
            state.optin_requests[(account.id, user.id, content.optin_title)] = now

    return {"recipient_id": user.id, "message_id": mid}, effect


def _to_user_ref(
    state: GraphState, ctx: _Context, account: Account, user_ref: str, mid: str
) -> tuple[dict[str, Any], Effect]:
    """Checkbox-plugin reference: one message until the person replies [U]; the response
    carries no recipient_id (2.1 [V])."""
    user = state.user_by_ref(account.id, user_ref)
    if user is None:
        raise no_matching_user(f"unknown user_ref {user_ref} (2.1)")
    ctx.user_id = user.id
    if user.unavailable:
        raise person_unavailable()
    if user.user_ref_used:
        raise invalid_parameter(
            "This user_ref has already been used",
            reason="a user_ref allows one message before the person replies [U]",
        )

    def effect() -> None:
        user.user_ref_used = True

    return {"message_id": mid}, effect


def _private_reply(
    state: GraphState, ctx: _Context, account: Account, kind: str, object_id: str, mid: str
) -> tuple[dict[str, Any], Effect]:
    obj = state.feed.get(object_id)
    if obj is not None and obj.kind != ("comment" if kind == "comment_id" else "post"):
        obj = None
    rules.check_private_reply(obj, account, state.clock.now())
    assert obj is not None
    if account.kind == "instagram":
        user = state.ensure_user(account.id, obj.from_id)  # IG comments carry the IGSID (3)
    else:
        # Feed ids are not PSIDs (2.6): the reply opens a thread with a page-scoped id.
        found = state.user_by_feed_id(account.id, obj.from_id)
        if found is None:
            first, _, last = obj.from_name.partition(" ")
            found = state.add_user(
                account.id, _new_psid(), first_name=first, last_name=last, feed_id=obj.from_id
            )
        user = found
    ctx.user_id = user.id
    if user.unavailable:
        raise person_unavailable()
    now = state.clock.now()

    def effect() -> None:
        obj.private_reply_sent = True
        obj.private_reply_at = now

    return {"recipient_id": user.id, "message_id": mid}, effect


def _token_send(
    state: GraphState, ctx: _Context, account: Account, value: str, mid: str
) -> tuple[dict[str, Any], Effect]:
    now = state.clock.now()
    token = marketing.check_token_send(state.tokens.get(value), account.id, now)
    user = _reachable(state, ctx, account, token.user_id)

    def effect() -> None:
        token.last_sent_at = now

    return {"recipient_id": user.id, "message_id": mid}, effect


def _sender_action(
    state: GraphState,
    ctx: _Context,
    account: Account,
    kind: str,
    value: str,
    action: object,
    message: object,
) -> tuple[dict[str, Any], Effect]:
    if message is not None:
        raise invalid_parameter(
            "sender_action cannot be sent with message",
            reason="sender_action is sent instead of message (2.1)",
        )
    if action not in SENDER_ACTIONS:
        raise invalid_parameter("param sender_action must be typing_on, typing_off or mark_seen")
    if kind != "id":
        raise invalid_parameter("sender_action needs recipient[id]")
    user = _reachable(state, ctx, account, value)
    rules.check_window(
        platform=account.platform,
        tag=None,
        last_interaction=user.last_interaction_at,
        now=state.clock.now(),
        human_agent_enabled=False,
    )
    return {"recipient_id": user.id}, lambda: None


def _new_psid() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)
