"""Admin shop settings: where customers open pay pages (and whether a payment link is
offered), the shipping fee rule, and the secret the seller's WooCommerce or Shopify signs
its order webhooks with (stored encrypted; never shown again, only replaced or removed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from chatcart.catalog import service as catalog
from chatcart.http_deps import RuntimeDep
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError
from chatcart.kit.money import AmountInvalid, parse_minor, to_major
from chatcart.runtime import Runtime
from chatcart.shop import service as shop
from chatcart.shop.schemas import ShippingRule, ShopSettingsOut
from chatcart.web.i18n import translations
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render, request_locale
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/shop", include_in_schema=False)
MIN_SECRET = 16


def _amount(value: int | None, currency: str) -> str:
    return "" if value is None else str(to_major(value, currency))


def _form_of(settings: ShopSettingsOut, currency: str) -> dict[str, str]:
    rule = settings.shipping
    provinces = "\n".join(
        f"{name}: {_amount(fee, currency)}" for name, fee in rule.provinces.items()
    )
    return {
        "public_url": settings.public_url or "",
        "payment_link": "1" if settings.payment_link else "",
        "flat": _amount(rule.flat, currency),
        "free_above": _amount(rule.free_above, currency),
        "provinces": provinces,
    }


async def _page(
    request: Request,
    principal: AdminPrincipal,
    runtime: Runtime,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    secret_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
        settings = await shop.settings_of(session, principal.workspace_id)
        has_secret = await shop.store_secret(session, runtime.secrets, principal.workspace_id)
    currency = catalog.default_currency(workspace.default_region)
    base = runtime.settings.base_url.rstrip("/")
    return render(
        request,
        "shop_settings.html",
        {
            "principal": principal,
            "workspace": workspace,
            "form": form or _form_of(settings, currency),
            "currency": currency,
            "has_secret": has_secret is not None,
            "webhook_url": f"{base}/webhooks/store/{workspace.slug}",
            "min_secret": MIN_SECRET,
            "error": error,
            "secret_error": secret_error,
        },
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
async def settings_page(
    request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    return await _page(request, principal, runtime)


def _rule(echo: dict[str, str], currency: str, locale: str, gettext: Any) -> ShippingRule:
    def money(text: str) -> int:
        try:
            return parse_minor(text, currency, locale)
        except AmountInvalid as exc:
            raise AppError(
                gettext("%(amount)s is not an amount; write it like 30.000.") % {"amount": text}
            ) from exc

    provinces = {}
    for line in echo["provinces"].splitlines():
        if not line.strip():
            continue
        name, colon, fee = line.rpartition(":")
        if not colon or not name.strip():
            raise AppError(gettext("Write one province a line, like Hà Nội: 20.000."))
        provinces[name.strip()] = money(fee.strip())
    try:
        return ShippingRule(
            flat=money(echo["flat"] or "0"),
            free_above=money(echo["free_above"]) if echo["free_above"] else None,
            provinces=provinces,
        )
    except ValidationError as exc:
        raise AppError(str(exc.errors()[0]["msg"])) from exc


@router.post("", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def save_settings(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    public_url: Annotated[str, Form(max_length=500)] = "",
    payment_link: Annotated[str, Form(max_length=5)] = "",
    flat: Annotated[str, Form(max_length=30)] = "",
    free_above: Annotated[str, Form(max_length=30)] = "",
    provinces: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    echo = {"public_url": public_url.strip(), "payment_link": payment_link, "flat": flat.strip(),
            "free_above": free_above.strip(), "provinces": provinces}  # fmt: skip
    locale = request_locale(request)
    gettext = translations(locale).gettext
    try:
        if echo["public_url"] and not echo["public_url"].startswith(("https://", "http://")):
            raise AppError(gettext("The public address starts with https://."))
        async with runtime.sessions() as session:
            workspace = await workspaces.get(session, principal.workspace_id)
        rule = _rule(echo, catalog.default_currency(workspace.default_region), locale, gettext)
    except AppError as exc:
        return await _page(
            request, principal, runtime, form=echo, error=exc.message, status_code=422
        )
    async with transaction(runtime.sessions) as session:
        await shop.save_settings(
            session,
            principal.workspace_id,
            public_url=echo["public_url"] or None,
            shipping=rule,
            payment_link=bool(payment_link),
        )
    return RedirectResponse("/admin/shop?saved=1", status_code=303)


@router.post("/store-secret", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def save_store_secret(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    secret: Annotated[str, Form(max_length=500)] = "",
    remove: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    gettext = translations(request_locale(request)).gettext
    if not remove and len(secret.strip()) < MIN_SECRET:
        message = gettext("The secret needs at least %(n)s characters.") % {"n": MIN_SECRET}
        return await _page(request, principal, runtime, secret_error=message, status_code=422)
    async with transaction(runtime.sessions) as session:
        if remove:
            await shop.clear_store_secret(session, principal.workspace_id)
        else:
            await shop.set_store_secret(
                session, runtime.secrets, principal.workspace_id, secret.strip()
            )
    return RedirectResponse("/admin/shop?secret=1#store", status_code=303)
