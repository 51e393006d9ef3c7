"""The shop's public doors: the sandbox provider's pay page and its signed callback, and
the order webhooks of an external store."""

from __future__ import annotations

import html
import logging

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.effects import Effects
from chatcart.shop import service
from chatcart.shop.errors import SignatureInvalid, StoreAccountUnknown, StorePayloadInvalid
from chatcart.workspaces import service as workspaces

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox pay</title></head>
<body style="font-family:sans-serif;max-width:28rem;margin:2rem auto">
<h1>{title}</h1><p>{body}</p>{forms}
<p><small>Sandbox payment provider · chatcart</small></p></body></html>"""


def _form(fields: dict[str, str], signature: str, label: str) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in {**fields, "signature": signature}.items()
    )
    return (
        f'<form method="post" action="/payments/sandbox/callback">{hidden}'
        f'<button type="submit">{html.escape(label)}</button></form>'
    )


@router.get("/pay/{token}", response_class=HTMLResponse)
async def pay_page(token: str, runtime: RuntimeDep, session: DbSession) -> HTMLResponse:
    payment, order = await service.pay_page(session, token)
    provider = service.sandbox_provider(runtime.settings.resolved_secret_key())
    amount = order.money(payment.amount)
    if payment.status != "open":
        body = html.escape(f"#{order.number} · {amount} · {payment.status}")
        page = _PAGE.format(title="Đơn đã thanh toán / Already paid", body=body, forms="")
        return HTMLResponse(page)
    forms = []
    for status, label in (("paid", "Thanh toán / Pay"), ("failed", "Từ chối / Decline")):
        fields = {
            "token": token,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "status": status,
            "reference": f"SBX-{payment.id}",
        }
        forms.append(_form(fields, provider.sign(fields), label))
    body = html.escape(f"Đơn #{order.number} / Order #{order.number}: {amount}")
    return HTMLResponse(_PAGE.format(title="Thanh toán / Payment", body=body, forms="".join(forms)))


@router.post("/payments/sandbox/callback", response_class=HTMLResponse)
async def sandbox_callback(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if k != "signature"}
    signature = str(form.get("signature") or "")
    provider = service.sandbox_provider(runtime.settings.resolved_secret_key())
    effects = Effects()
    async with runtime.sessions() as session, session.begin():
        order = await service.payment_callback(session, effects, provider, fields, signature)
    await effects.flush(runtime.bus)
    body = html.escape(f"#{order.number}: {order.payment_status}")
    return HTMLResponse(_PAGE.format(title="Cảm ơn bạn / Thank you", body=body, forms=""))


@router.post("/webhooks/store/{account}")
async def store_webhook(account: str, request: Request, runtime: RuntimeDep) -> dict[str, str]:
    """WooCommerce (X-WC-Webhook-Signature) or Shopify (X-Shopify-Hmac-Sha256) order
    webhooks; `account` is the workspace's slug. A bad signature is 401, never 200."""
    body = await request.body()
    woo = request.headers.get("x-wc-webhook-signature")
    shopify = request.headers.get("x-shopify-hmac-sha256")
    kind = "woocommerce" if woo is not None else "shopify"
    async with runtime.sessions() as session, session.begin():
        workspace = await workspaces.find(session, account)
        if workspace is None:
            raise StoreAccountUnknown(f"no shop {account!r}")
        secret = await service.store_secret(session, runtime.secrets, workspace.id)
        if secret is None:
            raise SignatureInvalid("this shop has no store webhook secret")
        try:
            service.check_store_signature(secret, body, woo if woo is not None else shopify)
        except SignatureInvalid:
            log.warning("store webhook for %s with a bad signature rejected", account)
            raise
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise StorePayloadInvalid("the webhook body is not JSON") from exc
        effects = Effects()
        outcome = await service.store_order_update(session, effects, workspace.id, kind, data)
    await effects.flush(runtime.bus)
    return {"status": outcome}
