"""Jinja2 environment: templates call _() for text, so Babel extracts and translates it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from chatcart.kit.clock import to_local
from chatcart.web.i18n import LOCALES, pick_locale, translations

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _localtime(value: datetime | None, timezone: str, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return to_local(value, timezone).strftime(fmt) if value else ""


templates.env.filters["localtime"] = _localtime


def request_locale(request: Request) -> str:
    settings = request.app.state.runtime.settings
    return pick_locale(
        request.cookies.get("lang"), request.headers.get("accept-language"), settings.default_locale
    )


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    locale = request_locale(request)
    gettext = translations(locale).gettext

    def translate(message: str, **values: Any) -> str:
        text = gettext(message)
        return text % values if values else text

    base = {
        "_": translate,
        "locale": locale,
        "locales": LOCALES,
        "csrf_token": request.session.get("csrf", ""),
        "csrf_field": Markup('<input type="hidden" name="csrf_token" value="{}">').format(
            request.session.get("csrf", "")
        ),
        "timezone": request.app.state.runtime.settings.timezone,
        "sandbox": request.app.state.runtime.settings.sandbox,
    }
    base.update(context or {})
    workspace = base.get("workspace")
    if workspace is not None:  # times show in the workspace's own zone
        base["timezone"] = workspace.timezone
    return templates.TemplateResponse(request, name, base, status_code=status_code)
