"""The admin's "Fake Messenger": play a customer of the demo Page against the built-in Graph
sandbox (send text, tap quick replies and buttons, open an m.me ref link, comment on the
demo post) and see the bot's answers the way Messenger would show them.

Only mounted when CHATCART_SANDBOX is on (make run). The customer's actions are signed
webhooks the sandbox posts to chatcart, exactly as Meta would; the answers are what the
sandbox accepted (or refused, with Meta's error) on its Send API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from chatcart import demo
from chatcart.channels import service as channels
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.clock import utcnow
from chatcart.kit.errors import NotFound
from chatcart.kit.textnorm import nfc
from chatcart.sandbox.graph.model import SendRecord
from chatcart.sandbox.graph.state import GraphState
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/fake-messenger", include_in_schema=False)
MAX_TEXT = 2000
TYPING_LASTS = timedelta(seconds=20)  # Messenger drops a typing indicator after ~20 s


@dataclass
class Bubble:
    side: str  # me | page | note | comment | error | typing
    at: datetime
    seen: bool = False  # "Seen" under the customer's latest message (mark_seen)
    text: str = ""
    quick_replies: list[dict[str, Any]] | None = None
    buttons: list[dict[str, Any]] | None = None
    cards: list[dict[str, Any]] | None = None
    image: str | None = None
    receipt: dict[str, Any] | None = None


def _graph(request: Request) -> GraphState:
    graph: GraphState | None = getattr(request.app.state, "graph_sandbox", None)
    if graph is None:
        raise NotFound("The sandbox is off (set CHATCART_SANDBOX=true, as make run does).")
    return graph


def _actions(request: Request) -> dict[str, list[Bubble]]:
    log: dict[str, list[Bubble]] | None = getattr(request.app.state, "fake_messenger_log", None)
    if log is None:
        log = request.app.state.fake_messenger_log = {}
    return log


async def _page_id(runtime: RuntimeDep, principal: AdminPrincipal) -> str:
    """The workspace's Page that lives in the sandbox. Read in a short session of its own:
    the handlers then wait for chatcart to take a webhook, which on SQLite needs the write
    lock a request transaction would be holding."""
    async with runtime.sessions() as session:
        accounts = await channels.list_accounts(session, principal.workspace_id, "messenger")
    for account in accounts:
        if account.settings.get("graph_api_url") == demo.sandbox_url(runtime.settings):
            return account.external_id
    raise NotFound("This workspace has no Page in the sandbox (run: chatcart demo seed).")


def _bubble(record: SendRecord) -> Bubble:
    """A Send API call as Messenger would show it."""
    if not record.accepted:
        error = (record.error or {}).get("message") or record.reason
        return Bubble("error", record.at, text=f"Meta refused this message: {error}")
    message = record.message
    if message is None:  # sender actions
        return Bubble("note", record.at, text=str(record.request.get("sender_action", "")))
    bubble = Bubble("page", record.at, text=str(message.get("text") or ""))
    bubble.quick_replies = [q for q in message.get("quick_replies", []) if q.get("title")]
    attachment = message.get("attachment") or {}
    payload = attachment.get("payload") or {}
    if attachment.get("type") == "template":
        kind = payload.get("template_type")
        if kind == "button":
            bubble.text, bubble.buttons = str(payload.get("text", "")), payload.get("buttons", [])
        elif kind == "generic":
            bubble.cards = payload.get("elements", [])
        elif kind == "receipt":
            bubble.receipt = payload
    elif attachment.get("type") == "image":
        bubble.image = payload.get("url")
    return bubble


def _thread(request: Request, page_id: str) -> list[Bubble]:
    graph = _graph(request)
    records = graph.sends(page_id)
    sent = [_bubble(r) for r in records if r.message is not None]
    mine = _actions(request).get(page_id, [])
    bubbles = sorted([*mine, *sent], key=lambda b: b.at)
    last_page = next((b for b in reversed(bubbles) if b.side == "page"), None)
    for bubble in bubbles:  # quick replies only show under the latest message
        if bubble is not last_page:
            bubble.quick_replies = None
    _sender_actions(bubbles, records, graph.clock.now())
    return bubbles


def _sender_actions(bubbles: list[Bubble], records: list[SendRecord], now: datetime) -> None:
    """Sender actions are not bubbles: mark_seen puts "Seen" under the customer's latest
    message, and a typing_on that no message or typing_off has followed yet shows as dots
    (for 20 s at most, as in Messenger)."""
    accepted = [r for r in records if r.accepted]
    last_mine = next((b for b in reversed(bubbles) if b.side == "me"), None)
    if last_mine is not None and any(
        r.request.get("sender_action") == "mark_seen" and r.at >= last_mine.at for r in accepted
    ):
        last_mine.seen = True
    for record in reversed(accepted):  # the newest that ends or starts typing decides
        action = record.request.get("sender_action")
        if record.message is not None or action == "typing_off":
            return
        if action == "typing_on":
            if now - record.at <= TYPING_LASTS:
                bubbles.append(Bubble("typing", record.at))
            return


def _thread_response(request: Request, page_id: str) -> HTMLResponse:
    return render(request, "_fake_messenger_thread.html", {"bubbles": _thread(request, page_id)})


@router.get("", response_class=HTMLResponse)
async def fake_messenger(
    request: Request, principal: AdminPrincipal, session: DbSession, runtime: RuntimeDep
) -> HTMLResponse:
    _graph(request)
    page_id = await _page_id(runtime, principal)
    workspace = await workspaces.get(session, principal.workspace_id)
    return render(
        request,
        "fake_messenger.html",
        {
            "principal": principal,
            "workspace": workspace,
            "page_id": page_id,
            "customer": demo.DEMO_CUSTOMER,
            "bubbles": _thread(request, page_id),
        },
    )


@router.get("/thread", response_class=HTMLResponse)
async def thread(request: Request, principal: AdminPrincipal, runtime: RuntimeDep) -> HTMLResponse:
    return _thread_response(request, await _page_id(runtime, principal))


async def _act(request: Request, page_id: str, note: Bubble, emit: Any) -> Response:
    _actions(request).setdefault(page_id, []).append(note)
    emission = await emit
    if any(status != 200 for status in emission.statuses):
        _actions(request)[page_id].append(
            Bubble(
                "error", utcnow(), text=f"chatcart answered the webhook with {emission.statuses}"
            )
        )
    return _thread_response(request, page_id)


@router.post("/say", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def say(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    payload: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    page_id = await _page_id(runtime, principal)
    text = nfc(text).strip()
    if not text:
        return _thread_response(request, page_id)
    psid = demo.DEMO_CUSTOMER["psid"]
    emit = _graph(request).user_says(page_id, psid, text, quick_reply_payload=payload or None)
    return await _act(request, page_id, Bubble("me", utcnow(), text=text), emit)


@router.post("/postback", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def postback(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    payload: Annotated[str, Form(max_length=1000)],
    title: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    page_id = await _page_id(runtime, principal)
    psid = demo.DEMO_CUSTOMER["psid"]
    emit = _graph(request).user_postback(page_id, psid, payload, title or payload)
    return await _act(request, page_id, Bubble("me", utcnow(), text=title or payload), emit)


@router.post("/ref", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def open_ref_link(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    ref: Annotated[str, Form(max_length=200)] = "tiktok-tool",
) -> Response:
    page_id = await _page_id(runtime, principal)
    psid = demo.DEMO_CUSTOMER["psid"]
    note = Bubble("note", utcnow(), text=f"m.me/{page_id}?ref={ref}")
    return await _act(
        request, page_id, note, _graph(request).user_opens_ref_link(page_id, psid, ref)
    )


@router.post("/comment", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def comment(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
) -> Response:
    page_id = await _page_id(runtime, principal)
    text = nfc(text).strip()
    if not text:
        return _thread_response(request, page_id)
    customer = demo.DEMO_CUSTOMER
    name = f"{customer['first_name']} {customer['last_name']}"
    emit = _graph(request).user_comments(page_id, demo.DEMO_POST_ID, text, "fb-lan", name)
    return await _act(request, page_id, Bubble("comment", utcnow(), text=text), emit)
