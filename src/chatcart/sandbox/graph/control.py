"""The control API under `/_sandbox/` (JSON): set the fake platform up, move its clock, read
the send log, and make users act (emit webhooks) — for tests, the demo and a browser
"fake Messenger" page."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from chatcart.sandbox.graph.emit import WebhookEvent
from chatcart.sandbox.graph.model import Account, User
from chatcart.sandbox.graph.schemas import (
    AnyEvent,
    ClockIn,
    CommentEvent,
    CommentIn,
    ConfigIn,
    DeliveryEvent,
    EchoEvent,
    EmitIn,
    InteractionIn,
    MessageEvent,
    OptinEvent,
    OptoutEvent,
    PageIn,
    PostbackEvent,
    PostEvent,
    RatesIn,
    ReadEvent,
    RefLinkEvent,
    StoryMentionEvent,
    StoryReplyEvent,
    UnavailableIn,
    UserIn,
)
from chatcart.sandbox.graph.state import GraphState

router = APIRouter(prefix="/_sandbox", tags=["sandbox"])


def _state(request: Request) -> GraphState:
    state: GraphState = request.app.state.graph
    return state


def _known(state: GraphState, page: str) -> None:
    if page not in state.accounts:
        raise HTTPException(404, f"no page/account {page}")


def account_out(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "kind": account.kind,
        "name": account.name,
        "page_id": account.page_id,
        "app_id": account.app_id,
        "callback_url": account.callback_url,
        "granted_profile_fields": sorted(account.granted_profile_fields),
        "subscribed_fields": account.subscribed_fields,
    }


def user_out(user: User) -> dict[str, Any]:
    out = asdict(user)
    out["last_interaction_at"] = (
        user.last_interaction_at.isoformat() if user.last_interaction_at else None
    )
    return out


def register_page(state: GraphState, body: PageIn) -> Account:
    return state.add_page(
        body.id,
        body.token,
        body.app_secret,
        body.callback_url,
        name=body.name,
        kind=body.kind,
        page_id_link=body.page_id,
        app_id=body.app_id,
        granted_profile_fields=body.granted_profile_fields,
    )


def register_user(state: GraphState, body: UserIn) -> User:
    _known(state, body.page)
    fields = body.model_dump(exclude={"page", "id"})
    return state.add_user(body.page, body.id, **fields)


@router.get("/")
async def overview(request: Request) -> dict[str, Any]:
    state = _state(request)
    return {
        "clock": {"now": state.clock.now().isoformat(), "frozen": state.clock.frozen},
        "features": state.features,
        "rates": asdict(state.rates),
        "config": asdict(state.config),
        "pages": [account_out(a) for a in state.accounts.values()],
        "users": len(state.users),
        "sends": len(state.log),
    }


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    _state(request).reset()
    return {"ok": True}


@router.post("/pages")
async def add_page(request: Request, body: PageIn) -> dict[str, Any]:
    return account_out(register_page(_state(request), body))


@router.get("/pages")
async def list_pages(request: Request) -> list[dict[str, Any]]:
    return [account_out(a) for a in _state(request).accounts.values()]


@router.post("/pages/{page_id}/revoke")
async def revoke(request: Request, page_id: str) -> dict[str, bool]:
    state = _state(request)
    _known(state, page_id)
    state.revoke_token(page_id)
    return {"ok": True}


@router.post("/users")
async def add_user(request: Request, body: UserIn) -> dict[str, Any]:
    return user_out(register_user(_state(request), body))


@router.get("/users")
async def list_users(request: Request, page: str | None = None) -> list[dict[str, Any]]:
    users = _state(request).users.values()
    return [user_out(u) for u in users if page is None or u.account_id == page]


@router.post("/users/unavailable")
async def unavailable(request: Request, body: UnavailableIn) -> dict[str, bool]:
    state = _state(request)
    _known(state, body.page)
    state.set_unavailable(body.page, body.user, body.unavailable)
    return {"ok": True}


@router.post("/interactions")
async def interaction(request: Request, body: InteractionIn) -> dict[str, Any]:
    state = _state(request)
    _known(state, body.page)
    state.set_interaction(body.page, body.user, body.at)
    user = state.ensure_user(body.page, body.user)
    return user_out(user)


@router.post("/comments")
async def add_comment(request: Request, body: CommentIn) -> dict[str, Any]:
    state = _state(request)
    _known(state, body.page)
    obj = state.add_comment(
        body.page,
        body.id,
        post_id=body.post_id,
        from_id=body.from_id,
        from_name=body.from_name,
        text=body.text,
        created_at=body.created_at,
        kind=body.kind,
    )
    return {"id": obj.id, "created_at": obj.created_at.isoformat()}


@router.get("/clock")
async def get_clock(request: Request) -> dict[str, Any]:
    clock = _state(request).clock
    return {"now": clock.now().isoformat(), "frozen": clock.frozen}


@router.post("/clock")
async def set_clock(request: Request, body: ClockIn) -> dict[str, Any]:
    clock = _state(request).clock
    if body.real:
        clock.use_real_time()
    if body.now is not None:
        clock.set(body.now)
    if body.advance_seconds is not None:
        clock.advance(body.advance_seconds)
    return {"now": clock.now().isoformat(), "frozen": clock.frozen}


@router.get("/features")
async def get_features(request: Request) -> dict[str, bool]:
    return _state(request).features


@router.post("/features")
async def set_features(request: Request, body: dict[str, bool]) -> dict[str, bool]:
    state = _state(request)
    for name, enabled in body.items():
        state.set_feature(name, enabled)
    return state.features


@router.post("/rates")
async def set_rates(request: Request, body: RatesIn) -> dict[str, float]:
    state = _state(request)
    current = asdict(state.rates)
    current.update(body.model_dump(exclude_none=True))
    state.rates = type(state.rates)(**current)
    return asdict(state.rates)


@router.post("/config")
async def set_config(request: Request, body: ConfigIn) -> dict[str, Any]:
    config = _state(request).config
    for key, value in body.model_dump(exclude_none=True).items():
        setattr(config, key, value)
    return asdict(config)


@router.get("/sends")
async def sends(
    request: Request,
    page: str | None = None,
    user: str | None = None,
    accepted: bool | None = None,
) -> list[dict[str, Any]]:
    return [r.as_dict() for r in _state(request).sends(page, user, accepted=accepted)]


@router.get("/tokens")
async def tokens(request: Request, page: str | None = None) -> list[dict[str, Any]]:
    out = []
    for token in _state(request).tokens.values():
        if page is None or token.account_id == page:
            row = asdict(token)
            for key in ("created_at", "expires_at", "last_sent_at"):
                row[key] = row[key].isoformat() if row[key] else None
            out.append(row)
    return out


def build_event(state: GraphState, spec: AnyEvent) -> WebhookEvent:
    b = state.build
    match spec:
        case MessageEvent():
            return b.user_says(
                spec.page,
                spec.user,
                spec.text,
                spec.quick_reply_payload,
                attachments=spec.attachments,
            )
        case PostbackEvent():
            return b.user_postback(spec.page, spec.user, spec.payload, spec.title, spec.referral)
        case RefLinkEvent():
            return b.user_opens_ref_link(spec.page, spec.user, spec.ref)
        case CommentEvent():
            return b.user_comments(spec.page, spec.post_id, spec.text, spec.from_id, spec.from_name)
        case PostEvent():
            return b.user_posts(spec.page, spec.text, spec.from_id, spec.from_name)
        case OptinEvent():
            return b.user_optin_marketing(
                spec.page,
                spec.user,
                spec.frequency,
                spec.title,
                spec.payload,
                timezone=spec.timezone,
            )
        case OptoutEvent():
            return b.user_stops_marketing(spec.token, resume=spec.resume)
        case DeliveryEvent():
            return b.delivery(spec.page, spec.user, spec.mids, spec.watermark)
        case ReadEvent():
            return b.read(spec.page, spec.user, spec.watermark)
        case EchoEvent():
            return b.echo(spec.message_id)
        case StoryMentionEvent():
            return b.story_mention(spec.page, spec.user, spec.url)
        case StoryReplyEvent():
            return b.story_reply(spec.page, spec.user, spec.text, spec.story_id)


@router.post("/emit")
async def emit(request: Request, body: EmitIn) -> dict[str, Any]:
    """Make users act: the events are signed and POSTed (one body) to the page's callback."""
    state = _state(request)
    try:
        events = [build_event(state, spec) for spec in body.events]
        emission = await state.batch(
            events,
            bad_signature=body.bad_signature,
            no_signature=body.no_signature,
            duplicate=body.duplicate,
        )
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0]) if exc.args else "not found") from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    return emission.summary()
