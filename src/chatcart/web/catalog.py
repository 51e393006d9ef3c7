"""Admin catalog: product list (search, category and status filters), create/edit with
variants, image upload, categories, CSV import; and /media/, where uploaded images are served
to browsers and to the platforms that show them in chat."""

from __future__ import annotations

from typing import Annotated, Any

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from chatcart.catalog import service as catalog
from chatcart.catalog.errors import ProductNotFound
from chatcart.catalog.schemas import (
    ImportFormat,
    ProductIn,
    ProductOut,
    ProductQuery,
    ProductStatus,
    VariantIn,
)
from chatcart.catalog.storage import MAX_IMAGE_BYTES, ImageStore, disk_store
from chatcart.http_deps import DbSession, RuntimeDep
from chatcart.kit.db import transaction
from chatcart.kit.errors import AppError, NotFound, TooLarge
from chatcart.kit.money import AmountInvalid, parse_minor, to_major
from chatcart.runtime import Runtime
from chatcart.web.i18n import translations
from chatcart.web.session import AdminPrincipal, check_csrf
from chatcart.web.templating import render, request_locale
from chatcart.workspaces import service as workspaces

router = APIRouter(prefix="/admin/catalog", include_in_schema=False)
media_router = APIRouter(include_in_schema=False)
PAGE = 50
STATUSES: tuple[ProductStatus, ...] = ("active", "draft", "archived")
FORMATS: tuple[ImportFormat, ...] = ("woocommerce", "shopify", "chatcart")
BLANK_ROWS = 3  # empty variant rows under the existing ones, for adding


def image_store(runtime: Runtime) -> ImageStore:
    return disk_store(runtime.settings.data_dir)


@media_router.get("/media/{key:path}")
async def media(key: str, runtime: RuntimeDep) -> Response:
    found = await image_store(runtime).load(key)
    if found is None:
        raise NotFound("no such image")
    data, content_type = found
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",  # keys never change
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("", response_class=HTMLResponse)
async def product_list(
    request: Request,
    principal: AdminPrincipal,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
    # Plain text: the filter form sends "category=" for "all categories".
    category_text: Annotated[str | None, Query(alias="category", max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=10)] = None,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> HTMLResponse:
    chosen: Any = status if status in STATUSES else None
    category = int(category_text) if category_text and category_text.isdigit() else None
    cards = await catalog.search(
        session,
        principal.workspace_id,
        ProductQuery(
            q=q or None,
            category_id=category,
            status=chosen,
            limit=PAGE + 1,  # one more tells whether there is a next page
            offset=page * PAGE,
        ),
    )
    context = {
        "principal": principal,
        "workspace": await workspaces.get(session, principal.workspace_id),
        "categories": await catalog.list_categories(session, principal.workspace_id),
        "rows": cards[:PAGE],
        "has_next": len(cards) > PAGE,
        "page": page,
        "q": q or "",
        "category": category,
        "status": chosen or "",
        "statuses": STATUSES,
        "formats": FORMATS,
    }
    template = "_product_rows.html" if request.headers.get("hx-request") else "catalog.html"
    return render(request, template, context)


# ---- create and edit ----------------------------------------------------------------------


def _blank_form(currency: str) -> dict[str, Any]:
    return {
        "name": "",
        "handle": "",
        "description": "",
        "status": "active",
        "currency": currency,
        "option_names": ["", "", ""],
        "category_ids": [],
        "new_category": "",
        "tags": "",
        "variants": [_blank_variant() for _ in range(BLANK_ROWS)],
    }


def _blank_variant() -> dict[str, Any]:
    return {"values": ["", "", ""], "sku": "", "price": "", "compare": "", "stock": ""}


def _amount(value: int | None, currency: str) -> str:
    return "" if value is None else str(to_major(value, currency))


def _form_of(product: ProductOut) -> dict[str, Any]:
    names = [*product.option_names, "", "", ""][:3]
    variants = [
        {
            "values": [*v.option_values, "", "", ""][:3],
            "sku": v.sku or "",
            "price": _amount(v.price, product.currency),
            "compare": _amount(v.compare_at_price, product.currency),
            "stock": "" if v.stock is None else str(v.stock),
        }
        for v in product.variants
    ]
    return {
        "name": product.name,
        "handle": product.handle,
        "description": product.description,
        "status": product.status,
        "currency": product.currency,
        "option_names": names,
        "category_ids": [c.id for c in product.categories],
        "new_category": "",
        "tags": ", ".join(product.tags),
        "variants": variants + [_blank_variant() for _ in range(BLANK_ROWS)],
    }


def _read_form(form: FormData) -> dict[str, Any]:
    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def column(name: str) -> list[str]:
        return [v.strip() if isinstance(v, str) else "" for v in form.getlist(name)]

    skus, prices, compares, stocks = (
        column(n) for n in ("v_sku", "v_price", "v_compare", "v_stock")
    )
    values = [column(f"v_opt{n}") for n in (1, 2, 3)]
    rows = []
    for i in range(len(prices)):
        row = {
            "values": [values[n][i] if i < len(values[n]) else "" for n in range(3)],
            "sku": skus[i] if i < len(skus) else "",
            "price": prices[i],
            "compare": compares[i] if i < len(compares) else "",
            "stock": stocks[i] if i < len(stocks) else "",
        }
        rows.append(row)
    category_ids = [int(v) for v in column("category_ids") if v.isdigit()]
    return {
        "name": text("name"),
        "handle": text("handle"),
        "description": text("description"),
        "status": text("status") or "active",
        "currency": text("currency").upper(),
        "option_names": [text(f"option{n}") for n in (1, 2, 3)],
        "category_ids": category_ids,
        "new_category": text("new_category"),
        "tags": text("tags"),
        "variants": rows,
    }


def _product_in(
    echo: dict[str, Any], category_paths: dict[int, str], locale: str, gettext: Any
) -> ProductIn:
    """The form as a product; a mistake raises AppError with a sentence for the seller."""
    currency = echo["currency"] or "VND"
    used = [n for n, name in enumerate(echo["option_names"]) if name]
    variants = []
    for number, row in enumerate(echo["variants"], start=1):
        if not any([row["price"], row["sku"], row["compare"], row["stock"], *row["values"]]):
            continue  # an empty row
        try:
            price = parse_minor(row["price"], currency, locale)
            compare = parse_minor(row["compare"], currency, locale) if row["compare"] else None
        except AmountInvalid as exc:
            example = format_decimal(to_major(125000, currency), locale=locale)
            message = gettext("Variant %(n)s: a price cannot be read; write it like %(example)s.")
            raise AppError(message % {"n": number, "example": example}) from exc
        stock_text = row["stock"]
        if stock_text and not stock_text.isdigit():
            raise AppError(
                gettext("Variant %(n)s: stock must be a whole number, or empty when not counted.")
                % {"n": number}
            )
        variants.append(
            VariantIn(
                sku=row["sku"] or None,
                option_values=[row["values"][n] for n in used],
                price=price,
                compare_at_price=compare,
                stock=int(stock_text) if stock_text else None,
            )
        )
    paths = [category_paths[c] for c in echo["category_ids"] if c in category_paths]
    if echo["new_category"]:
        paths.append(echo["new_category"])
    names = [name for name in echo["option_names"] if name]
    try:
        return ProductIn(
            handle=echo["handle"] or None,
            name=echo["name"],
            description=echo["description"],
            status=echo["status"] if echo["status"] in STATUSES else "draft",
            kind="variable" if names else "simple",
            currency=currency,
            option_names=names,
            categories=paths,
            tags=[t for t in (s.strip() for s in echo["tags"].split(",")) if t],
            variants=variants,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        problem = first["msg"].removeprefix("Value error, ")
        raise AppError(f"{where}: {problem}" if where else problem) from exc


async def _edit_page(
    request: Request,
    principal: AdminPrincipal,
    runtime: Runtime,
    *,
    product: ProductOut | None,
    form: dict[str, Any],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
        categories = await catalog.list_categories(session, principal.workspace_id)
    return render(
        request,
        "product_edit.html",
        {
            "principal": principal,
            "workspace": workspace,
            "product": product,
            "form": form,
            "categories": categories,
            "statuses": STATUSES,
            "error": error,
            "max_image_mb": MAX_IMAGE_BYTES // (1024 * 1024),
        },
        status_code=status_code,
    )


@router.get("/new", response_class=HTMLResponse)
async def new_product(
    request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
    form = _blank_form(catalog.default_currency(workspace.default_region))
    return await _edit_page(request, principal, runtime, product=None, form=form)


@router.get("/{product_id:int}", response_class=HTMLResponse)
async def edit_product(
    product_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> HTMLResponse:
    async with runtime.sessions() as session:
        product = await catalog.get_product(session, principal.workspace_id, product_id)
    return await _edit_page(request, principal, runtime, product=product, form=_form_of(product))


@router.post("/new", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def create_product(
    request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    return await _save(request, principal, runtime, None)


@router.post("/{product_id:int}", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def update_product(
    product_id: int, request: Request, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    return await _save(request, principal, runtime, product_id)


async def _save(
    request: Request, principal: AdminPrincipal, runtime: Runtime, product_id: int | None
) -> Response:
    echo = _read_form(await request.form())
    locale = request_locale(request)
    gettext = translations(locale).gettext
    product: ProductOut | None = None
    try:
        async with transaction(runtime.sessions) as session:
            if product_id is not None:
                product = await catalog.get_product(session, principal.workspace_id, product_id)
            paths = {
                c.id: c.path for c in await catalog.list_categories(session, principal.workspace_id)
            }
            data = _product_in(echo, paths, locale, gettext)
            saved = await catalog.save_product(
                session, principal.workspace_id, data, product_id=product_id
            )
    except ProductNotFound:
        raise
    except AppError as exc:
        echo["variants"] += [_blank_variant() for _ in range(1)]
        return await _edit_page(
            request, principal, runtime, product=product, form=echo, error=exc.message,
            status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/admin/catalog/{saved.product.id}?saved=1", status_code=303)


@router.post("/{product_id:int}/delete", dependencies=[Depends(check_csrf)])
async def remove_product(
    product_id: int, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    async with transaction(runtime.sessions) as session:
        await catalog.delete_product(
            session, principal.workspace_id, product_id, image_store(runtime)
        )
    return RedirectResponse("/admin/catalog", status_code=303)


# ---- images -------------------------------------------------------------------------------


@router.post("/{product_id:int}/images", dependencies=[Depends(check_csrf)])
async def upload_image(
    product_id: int,
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    image: UploadFile,
    alt: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    data = await image.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    async with transaction(runtime.sessions) as session:
        await catalog.add_image(
            session, image_store(runtime), principal.workspace_id, product_id, data, alt
        )
    return RedirectResponse(f"/admin/catalog/{product_id}#images", status_code=303)


@router.post("/images/{image_id:int}/delete", dependencies=[Depends(check_csrf)])
async def delete_image(
    image_id: int,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    product_id: Annotated[int, Form()],
) -> Response:
    async with transaction(runtime.sessions) as session:
        await catalog.remove_image(session, image_store(runtime), principal.workspace_id, image_id)
    return RedirectResponse(f"/admin/catalog/{product_id}#images", status_code=303)


# ---- categories and import ----------------------------------------------------------------


@router.post("/categories", dependencies=[Depends(check_csrf)])
async def add_category(
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    path: Annotated[str, Form(min_length=1, max_length=600)],
) -> Response:
    async with transaction(runtime.sessions) as session:
        await catalog.ensure_category(session, principal.workspace_id, path)
    return RedirectResponse("/admin/catalog#categories", status_code=303)


@router.post("/categories/{category_id:int}/delete", dependencies=[Depends(check_csrf)])
async def remove_category(
    category_id: int, principal: AdminPrincipal, runtime: RuntimeDep
) -> Response:
    async with transaction(runtime.sessions) as session:
        await catalog.delete_category(session, principal.workspace_id, category_id)
    return RedirectResponse("/admin/catalog#categories", status_code=303)


@router.post("/import", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def import_products(
    request: Request,
    principal: AdminPrincipal,
    runtime: RuntimeDep,
    file: UploadFile,
    format: Annotated[str, Form()] = "chatcart",
    currency: Annotated[str, Form(max_length=3)] = "",
) -> HTMLResponse:
    limit = 50 * 1024 * 1024
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge("the file is larger than 50 MB; import it with `chatcart catalog import`")
    async with runtime.sessions() as session:
        workspace = await workspaces.get(session, principal.workspace_id)
    chosen: ImportFormat = format if format in FORMATS else "chatcart"
    money = (currency or catalog.default_currency(workspace.default_region)).upper()
    error = None
    report = None
    try:
        report = await catalog.import_csv(
            runtime.sessions, principal.workspace_id, data, chosen, money
        )
    except AppError as exc:
        error = exc.message
    return render(
        request,
        "catalog_import.html",
        {
            "principal": principal,
            "workspace": workspace,
            "report": report,
            "error": error,
            "filename": file.filename or "",
        },
        status_code=422 if error else 200,
    )
