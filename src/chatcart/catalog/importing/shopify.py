"""Shopify's product CSV (Products > Export) and chatcart's own CSV, which has the same
shape with plain column names: one row per variant, rows of a product share its handle,
the first row carries the product's fields, image-only rows add pictures."""

from __future__ import annotations

from dataclasses import dataclass

from chatcart.catalog.importing.reader import Draft, Record, records, split_list
from chatcart.catalog.schemas import RowProblem
from chatcart.catalog.text import plain_text, slugify

_STATUSES = {"active": "active", "draft": "draft", "archived": "archived"}


@dataclass(frozen=True)
class Columns:
    handle: str
    name: str
    description: str
    status: str
    published: str | None
    categories: tuple[str, ...]
    tags: str
    vendor: str | None
    option_name: str  # with {n} for 1..3
    option_value: str
    sku: str
    price: str
    compare_at: str
    stock: str
    stock_tracker: str | None
    image: str
    image_alt: str | None
    variant_image: str
    currency: str | None
    required: tuple[str, ...]
    list_separator: str


SHOPIFY = Columns(
    handle="Handle",
    name="Title",
    description="Body (HTML)",
    status="Status",
    published="Published",
    categories=("Type", "Product Category"),
    tags="Tags",
    vendor="Vendor",
    option_name="Option{n} Name",
    option_value="Option{n} Value",
    sku="Variant SKU",
    price="Variant Price",
    compare_at="Variant Compare At Price",
    stock="Variant Inventory Qty",
    stock_tracker="Variant Inventory Tracker",
    image="Image Src",
    image_alt="Image Alt Text",
    variant_image="Variant Image",
    currency=None,
    required=("Handle", "Title", "Variant Price"),
    list_separator=",",
)

CHATCART = Columns(
    handle="handle",
    name="name",
    description="description",
    status="status",
    published=None,
    categories=("categories",),
    tags="tags",
    vendor=None,
    option_name="option{n}_name",
    option_value="option{n}_value",
    sku="sku",
    price="price",
    compare_at="compare_at_price",
    stock="stock",
    stock_tracker=None,
    image="image_url",
    image_alt=None,
    variant_image="variant_image_url",
    currency="currency",
    required=("handle", "name", "price"),
    list_separator=";",
)
CHATCART_HEADER = [
    "handle", "name", "description", "status", "categories", "tags",
    "option1_name", "option1_value", "option2_name", "option2_value",
    "option3_name", "option3_value", "sku", "price", "compare_at_price", "stock",
    "currency", "image_url", "variant_image_url",
]  # fmt: skip


def parse(
    text: str, currency: str, columns: Columns, source: str
) -> tuple[list[Draft], list[RowProblem], int]:
    drafts: dict[str, Draft] = {}
    loose: list[RowProblem] = []
    rows = 0
    for record in records(text, columns.required):
        rows += 1
        raw_handle = record.get(columns.handle)
        if not raw_handle:
            loose.append(
                RowProblem(line=record.line, column=columns.handle, problem="the handle is empty")
            )
            continue
        handle = slugify(raw_handle)
        draft = drafts.get(handle)
        if draft is None:
            draft = drafts[handle] = Draft(line=record.line, handle=handle)
            _product_fields(draft, record, columns, currency, source)
        draft.lines.append(record.line)
        image = record.get(columns.image)
        if image:
            draft.add_image(image)
        if _is_variant_row(record, columns):
            _variant(draft, record, columns)
    found = list(drafts.values())
    _no_duplicate_skus(found, columns)
    return found, loose, rows


def _product_fields(
    draft: Draft, record: Record, columns: Columns, currency: str, source: str
) -> None:
    name = record.get(columns.name)
    if not name:
        draft.problem(record.line, columns.name, "the first row of a product needs its name")
    status_text = record.get(columns.status).lower()
    if status_text:
        status = _STATUSES.get(status_text)
        if status is None:
            draft.problem(
                record.line, columns.status, f"{status_text!r} is not active, draft or archived"
            )
    elif columns.published and record.get(columns.published).lower() == "false":
        status = "draft"
    else:
        status = "active"
    categories: list[str] = []
    for column in columns.categories:
        if record.get(column):
            categories = split_list(record.get(column), ";")
            break
    tags = split_list(record.get(columns.tags), columns.list_separator)
    if columns.vendor and record.get(columns.vendor):
        tags.append(record.get(columns.vendor))
    option_names = []
    for n in (1, 2, 3):
        value = record.get(columns.option_name.format(n=n))
        if value:
            option_names.append(value)
    # Shopify's product without variants: one option "Title" with value "Default Title".
    if option_names == ["Title"] and record.get(columns.option_value.format(n=1)) in (
        "Default Title",
        "",
    ):
        option_names = []
    own_currency = record.get(columns.currency).upper() if columns.currency else ""
    draft.fields.update(
        name=name,
        description=plain_text(record.get(columns.description)),
        status=status or "active",
        kind="variable" if option_names else "simple",
        currency=own_currency or currency,
        option_names=option_names,
        categories=categories,
        tags=tags,
        source=source,
    )


def _is_variant_row(record: Record, columns: Columns) -> bool:
    keys = [columns.price, columns.sku, columns.option_value.format(n=1)]
    return any(record.get(k) for k in keys)


def _variant(draft: Draft, record: Record, columns: Columns) -> None:
    currency = draft.fields["currency"]
    price = draft.price(record, columns.price, currency, required=True)
    compare = draft.price(record, columns.compare_at, currency, required=False)
    stock = None
    tracked = columns.stock_tracker is None or bool(record.get(columns.stock_tracker))
    if tracked or columns.stock_tracker not in record.cells:
        stock = draft.count(record, columns.stock)
    names = draft.fields["option_names"]
    values = [record.get(columns.option_value.format(n=n + 1)) for n in range(len(names))]
    for n, value in enumerate(values):
        if not value:
            draft.problem(
                record.line,
                columns.option_value.format(n=n + 1),
                f"the variant has no value for {names[n]!r}",
            )
    variant: dict[str, object] = {
        "sku": record.get(columns.sku) or None,
        "option_values": values,
        "price": price or 0,
        "compare_at_price": compare if compare else None,
        "stock": stock,
        "line": record.line,
    }
    image = record.get(columns.variant_image)
    if image:
        draft.add_image(image)
        variant["image_url"] = image
    draft.variants.append(variant)


def _no_duplicate_skus(drafts: list[Draft], columns: Columns) -> None:
    seen: dict[str, int] = {}
    for draft in drafts:
        for variant in draft.variants:
            line = int(str(variant.pop("line")))
            sku = variant.get("sku")
            if not isinstance(sku, str):
                continue
            if sku in seen:
                draft.problem(line, columns.sku, f"SKU {sku!r} is already used on line {seen[sku]}")
            else:
                seen[sku] = line
