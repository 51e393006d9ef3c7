"""Admin appointments: the bookings (upcoming, or one day at a time) with cancel, the
services a customer can book, and the booking rules (opening hours per weekday, dates with
hours of their own, capacity, slot step, notice, days ahead)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from chatcart.appointments import service as appointments
from chatcart.appointments.errors import ServiceNotFound
from chatcart.appointments.schemas import (
    BookingOut,
    BookingRules,
    ServiceIn,
    ServiceOut,
    SpecialDayIn,
)
from chatcart.http_deps import RuntimeDep
from chatcart.kit.clock import utcnow
from chatcart.kit.db import transaction
from chatcart.kit.effects import Effects
from chatcart.kit.errors import AppError, NotFound
from chatcart.kit.money import AmountInvalid, format_minor, parse_minor, to_major
from chatcart.runtime import Runtime
from chatcart.web.i18n import translations
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render, request_locale
from chatcart.workspaces import service as workspaces
from chatcart.workspaces.schemas import WorkspaceOut

router = APIRouter(prefix="/admin/appointments", include_in_schema=False)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UPCOMING = 100


def _hours_text(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in pairs)


def _read_hours(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:30-18:00" -> [["09:00", "12:00"], ["13:30", "18:00"]]; empty: closed.
    The schemas check the times themselves."""
    out = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        start, dash, end = part.strip().partition("-")
        if not dash:
            raise ValueError(part.strip())
        out.append([start.strip(), end.strip()])
    return out


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return str(first["msg"]).removeprefix("Value error, ")


# ---- bookings -----------------------------------------------------------------------------


def _local_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start, start + timedelta(days=1)


async def _bookings_context(
    runtime: Runtime, principal: AdminPrincipal, day: date | None, locale: str
) -> dict[str, Any]:
    language = "vi" if locale == "vi" else "en"
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
        if day is None:
            rows = await appointments.list_bookings(
                session, principal.workspace_id, start=utcnow(), status="booked",
                limit=UPCOMING, language=language,
            )  # fmt: skip
            hours: list[tuple[str, str]] = []
        else:
            start, end = _day_bounds(day, workspace.timezone)
            rows = await appointments.list_bookings(
                session, principal.workspace_id, start=start, end=end, limit=500,
                language=language,
            )  # fmt: skip
            hours = await _hours_of(session, principal.workspace_id, day)
        services = await appointments.list_services(session, principal.workspace_id)
    today = utcnow().astimezone(ZoneInfo(workspace.timezone)).date()
    return {
        "principal": principal,
        "workspace": workspace,
        "rows": rows,
        "groups": _by_day(rows, workspace.timezone),
        "day": day,
        "today": today,
        "hours": _hours_text(hours),
        "has_services": bool(services),
        "now": utcnow(),
    }


async def _hours_of(session: AsyncSession, workspace_id: int, day: date) -> list[tuple[str, str]]:
    for special in await appointments.special_days(session, workspace_id, since=day):
        if special.day == day:
            return special.hours
    rules = await appointments.rules_of(session, workspace_id)
    return rules.hours.get(WEEKDAYS[day.weekday()], [])


def _by_day(rows: list[BookingOut], timezone: str) -> list[tuple[date, list[BookingOut]]]:
    zone = ZoneInfo(timezone)
    groups: dict[date, list[BookingOut]] = {}
    for row in rows:
        groups.setdefault(row.starts_at.astimezone(zone).date(), []).append(row)
    return list(groups.items())


@router.get("", response_class=HTMLResponse)
async def bookings_page(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    day: Annotated[str | None, Query(max_length=10)] = None,
) -> HTMLResponse:
    chosen = _local_day(day)
    context = await _bookings_context(runtime, principal, chosen, request_locale(request))
    if chosen is not None:
        context["previous"] = chosen - timedelta(days=1)
        context["next"] = chosen + timedelta(days=1)
    context["bad_day"] = bool(day) and chosen is None
    return render(request, "appointments.html", context)


@router.post("/bookings/{booking_id:int}/cancel", dependencies=[Depends(check_csrf)])
async def cancel_booking(
    booking_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    effects = Effects()
    async with transaction(runtime.sessions) as session:
        cancelled = await appointments.cancel_and_tell(
            session,
            effects,
            principal.workspace_id,
            booking_id,
            by=principal.email or f"user {principal.user_id}",
        )
        workspace = await workspaces.get(session, principal.workspace_id)
    await effects.flush(runtime.bus)
    if request.headers.get("hx-request"):
        language = "vi" if request_locale(request) == "vi" else "en"
        async with runtime.sessions() as session:
            row = await appointments.get_booking(
                session, principal.workspace_id, cancelled.id, language
            )
        return render(
            request,
            "_booking_row.html",
            {"b": row, "workspace": workspace, "now": utcnow(), "principal": principal},
        )
    day = cancelled.starts_at.astimezone(ZoneInfo(workspace.timezone)).date()
    return RedirectResponse(f"/admin/appointments?day={day.isoformat()}", status_code=303)


# ---- services -----------------------------------------------------------------------------


def _service_form(service: ServiceOut | None, currency: str) -> dict[str, str]:
    if service is None:
        return {"name_vi": "", "name_en": "", "duration": "30", "price": "",
                "currency": currency, "active": "1", "position": "0"}  # fmt: skip
    price = "" if service.price is None else str(to_major(service.price, service.currency))
    return {
        "name_vi": service.name_vi,
        "name_en": service.name_en,
        "duration": str(service.duration_minutes),
        "price": price,
        "currency": service.currency,
        "active": "1" if service.active else "",
        "position": str(service.position),
    }


def _read_service_form(form: FormData) -> dict[str, str]:
    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    return {
        "name_vi": text("name_vi"),
        "name_en": text("name_en"),
        "duration": text("duration"),
        "price": text("price"),
        "currency": text("currency").upper() or "VND",
        "active": "1" if text("active") else "",
        "position": text("position") or "0",
    }


def _service_in(echo: dict[str, str], locale: str, gettext: Any) -> ServiceIn:
    if not echo["duration"].isdigit():
        raise AppError(gettext("The length is a number of minutes, e.g. 30."))
    if not echo["position"].isdigit():
        raise AppError(gettext("The position is a whole number."))
    price = None
    if echo["price"]:
        try:
            price = parse_minor(echo["price"], echo["currency"], locale)
        except AmountInvalid as exc:
            raise AppError(gettext("The price cannot be read; write it like 150.000.")) from exc
    try:
        return ServiceIn(
            name_vi=echo["name_vi"],
            name_en=echo["name_en"],
            duration_minutes=int(echo["duration"]),
            price=price,
            currency=echo["currency"],
            active=bool(echo["active"]),
            position=int(echo["position"]),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise AppError(f"{where}: {_problem(exc)}") from exc


async def _services_page(
    request: Request,
    principal: AdminPrincipal,
    runtime: Runtime,
    *,
    editing: ServiceOut | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
        services = await appointments.list_services(session, principal.workspace_id)
    currency = "PHP" if workspace.default_region == "PH" else "VND"
    return render(
        request,
        "appointment_services.html",
        {
            "principal": principal,
            "workspace": workspace,
            "services": services,
            "editing": editing,
            "form": form or _service_form(editing, currency),
            "error": error,
            "price_text": _price_text,
        },
        status_code=status_code,
    )


def _price_text(service: ServiceOut) -> str:
    return "" if service.price is None else format_minor(service.price, service.currency)


@router.get("/services", response_class=HTMLResponse)
async def services_page(
    request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    return await _services_page(request, principal, runtime)


@router.get("/services/{service_id:int}", response_class=HTMLResponse)
async def edit_service(
    service_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    async with runtime.sessions() as session:
        service = await appointments.get_service(session, principal.workspace_id, service_id)
    return await _services_page(request, principal, runtime, editing=service)


@router.post("/services", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def create_service(
    request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    return await _save_service(request, principal, runtime, None)


@router.post(
    "/services/{service_id:int}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)]
)
async def update_service(
    service_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    return await _save_service(request, principal, runtime, service_id)


async def _save_service(
    request: Request, principal: AdminPrincipal, runtime: Runtime, service_id: int | None
) -> Response:
    echo = _read_service_form(await request.form())
    locale = request_locale(request)
    editing = None
    try:
        async with transaction(runtime.sessions) as session:
            if service_id is not None:
                editing = await appointments.get_service(
                    session, principal.workspace_id, service_id
                )
            data = _service_in(echo, locale, translations(locale).gettext)
            await appointments.save_service(session, principal.workspace_id, data, service_id)
    except ServiceNotFound:
        raise
    except AppError as exc:
        return await _services_page(
            request, principal, runtime, editing=editing, form=echo, error=exc.message,
            status_code=422,
        )  # fmt: skip
    return RedirectResponse("/admin/appointments/services?saved=1", status_code=303)


@router.post("/services/{service_id:int}/delete", dependencies=[Depends(check_csrf)])
async def delete_service(
    service_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    try:
        async with transaction(runtime.sessions) as session:
            await appointments.delete_service(session, principal.workspace_id, service_id)
    except ServiceNotFound:
        raise
    except AppError:
        gettext = translations(request_locale(request)).gettext
        message = gettext("This service has bookings: untick Active to stop offering it instead.")
        return await _services_page(request, principal, runtime, error=message, status_code=409)
    return RedirectResponse("/admin/appointments/services", status_code=303)


# ---- opening hours and rules --------------------------------------------------------------


def _rules_form(rules: BookingRules) -> dict[str, str]:
    form = {day: _hours_text(rules.hours.get(day, [])) for day in WEEKDAYS}
    form.update(
        capacity=str(rules.capacity),
        step=str(rules.step_minutes),
        notice=str(rules.min_notice_minutes),
        days_ahead=str(rules.days_ahead),
    )
    return form


async def _hours_page(
    request: Request,
    principal: AdminPrincipal,
    runtime: Runtime,
    *,
    form: dict[str, str] | None = None,
    day_form: dict[str, str] | None = None,
    error: str | None = None,
    day_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace: WorkspaceOut = await workspaces.get(session, principal.workspace_id)
        rules = await appointments.rules_of(session, principal.workspace_id)
        today = utcnow().astimezone(ZoneInfo(workspace.timezone)).date()
        days = await appointments.special_days(session, principal.workspace_id, since=today)
    return render(
        request,
        "appointment_hours.html",
        {
            "principal": principal,
            "workspace": workspace,
            "form": form or _rules_form(rules),
            "weekdays": WEEKDAYS,
            "days": days,
            "day_form": day_form or {"day": "", "hours": "", "note": ""},
            "hours_text": _hours_text,
            "error": error,
            "day_error": day_error,
        },
        status_code=status_code,
    )


@router.get("/hours", response_class=HTMLResponse)
async def hours_page(
    request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    return await _hours_page(request, principal, runtime)


@router.post("/hours", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def save_hours(request: Request, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    form = await request.form()
    echo = {key: str(form.get(key, "")).strip() for key in (*WEEKDAYS, "capacity", "step",
            "notice", "days_ahead")}  # fmt: skip
    gettext = translations(request_locale(request)).gettext
    try:
        hours = {}
        for day in WEEKDAYS:
            try:
                hours[day] = _read_hours(echo[day])
            except ValueError as exc:
                raise AppError(
                    gettext("%(part)s is not like 09:00-12:00.") % {"part": exc.args[0]}
                ) from exc
        numbers = {}
        for key in ("capacity", "step", "notice", "days_ahead"):
            if not echo[key].isdigit():
                raise AppError(gettext("Capacity, step, notice and days ahead are whole numbers."))
            numbers[key] = int(echo[key])
        rules = BookingRules.model_validate(
            {
                "hours": {day: pairs for day, pairs in hours.items() if pairs},
                "capacity": numbers["capacity"],
                "step_minutes": numbers["step"],
                "min_notice_minutes": numbers["notice"],
                "days_ahead": numbers["days_ahead"],
            }
        )
    except ValidationError as exc:
        return await _hours_page(
            request, principal, runtime, form=echo, error=_problem(exc), status_code=422
        )
    except AppError as exc:
        return await _hours_page(
            request, principal, runtime, form=echo, error=exc.message, status_code=422
        )
    async with transaction(runtime.sessions) as session:
        await appointments.save_rules(session, principal.workspace_id, rules)
    return RedirectResponse("/admin/appointments/hours?saved=1", status_code=303)


@router.post("/days", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def save_day(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    day: Annotated[str, Form(max_length=10)] = "",
    hours: Annotated[str, Form(max_length=200)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    echo = {"day": day, "hours": hours, "note": note}
    gettext = translations(request_locale(request)).gettext
    try:
        try:
            pairs = _read_hours(hours)
        except ValueError as exc:
            raise AppError(
                gettext("%(part)s is not like 09:00-12:00.") % {"part": exc.args[0]}
            ) from exc
        data = SpecialDayIn.model_validate({"day": day, "hours": pairs, "note": note.strip()})
    except ValidationError as exc:
        message = gettext("Pick a date.") if exc.errors()[0]["loc"][0] == "day" else _problem(exc)
        return await _hours_page(
            request, principal, runtime, day_form=echo, day_error=message, status_code=422
        )
    except AppError as exc:
        return await _hours_page(
            request, principal, runtime, day_form=echo, day_error=exc.message, status_code=422
        )
    async with transaction(runtime.sessions) as session:
        await appointments.save_special_day(session, principal.workspace_id, data)
    return RedirectResponse("/admin/appointments/hours#days", status_code=303)


@router.post("/days/{day}/delete", dependencies=[Depends(check_csrf)])
async def delete_day(day: str, principal: AdminPrincipal, runtime: RuntimeDep) -> Response:
    try:
        chosen = date.fromisoformat(day)
    except ValueError as exc:
        raise NotFound("no such date") from exc
    async with transaction(runtime.sessions) as session:
        await appointments.delete_special_day(session, principal.workspace_id, chosen)
    return RedirectResponse("/admin/appointments/hours#days", status_code=303)
