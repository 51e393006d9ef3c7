"""WooCommerce's product export CSV (Products > Export): simple, variable with variation
rows (Parent = the variable product's SKU or "id:N"), grouped and external products."""

from __future__ import annotations

from chatcart.catalog.importing.reader import Draft, Record, records, split_list
from chatcart.catalog.schemas import RowProblem
from chatcart.catalog.text import plain_text, slugify
from chatcart.kit.textnorm import fold

REQUIRED = ("Type", "SKU", "Name", "Regular price")
_PRODUCT_TYPES = ("variable", "grouped", "external", "simple")


def _attributes(record: Record) -> list[tuple[str, str]]:
    """(name, value(s)) of "Attribute N name" / "Attribute N value(s)", in order."""
    found = []
    n = 1
    while f"Attribute {n} name" in record.cells:
        name = record.get(f"Attribute {n} name")
        if name:
            found.append((name, record.get(f"Attribute {n} value(s)")))
        n += 1
    return found


def _ref(record: Record) -> str:
    return f"id:{record.get('ID')}" if record.get("ID") else ""


def parse(text: str, currency: str) -> tuple[list[Draft], list[RowProblem], int]:
    drafts: list[Draft] = []
    by_ref: dict[str, Draft] = {}  # "id:44" and "woo-vneck-tee" both name the product
    variations: list[Record] = []
    loose: list[RowProblem] = []
    rows = 0
    for record in records(text, REQUIRED):
        rows += 1
        types = {t.strip().lower() for t in record.get("Type").split(",")}
        if "variation" in types:
            variations.append(record)
            continue
        kind = next((t for t in _PRODUCT_TYPES if t in types), None)
        if kind is None:
            loose.append(
                RowProblem(
                    line=record.line,
                    column="Type",
                    problem=f"{record.get('Type')!r} is not simple, variable, variation, "
                    "grouped or external",
                )
            )
            continue
        sku, ident = record.get("SKU"), record.get("ID")
        draft = Draft(line=record.line, handle=slugify(sku) if sku else f"wc-{ident}")
        draft.lines.append(record.line)
        if not sku and not ident:
            draft.problem(record.line, "SKU", "a product needs a SKU or an ID")
        _product_fields(draft, record, kind, currency)
        for key in (f"id:{ident}" if ident else "", sku):
            if key and key in by_ref and not (key == sku and draft.variants):
                # (a sold product's SKU is checked with every variant's, below)
                draft.problem(
                    record.line,
                    "SKU" if key == sku else "ID",
                    f"{key!r} is already used on line {by_ref[key].line}",
                )
            elif key:
                by_ref[key] = draft
        drafts.append(draft)
    for record in variations:
        parent = by_ref.get(record.get("Parent"))
        if parent is None or parent.fields.get("kind") != "variable":
            loose.append(
                RowProblem(
                    line=record.line,
                    column="Parent",
                    problem=f"the variation's parent {record.get('Parent')!r} is not a variable "
                    "product of this file",
                )
            )
            continue
        _variation(parent, record, currency)
    for draft in drafts:
        if draft.fields.get("kind") == "variable" and not draft.variants and not draft.problems:
            draft.problem(draft.line, "Type", "the variable product has no variation rows")
        grouped = draft.fields.get("grouped_handles") or []
        draft.fields["grouped_handles"] = [
            by_ref[g].handle if g in by_ref else slugify(g) for g in grouped
        ]
    _no_duplicate_skus(drafts)
    return drafts, loose, rows


def _product_fields(draft: Draft, record: Record, kind: str, currency: str) -> None:
    description = record.get("Description") or record.get("Short description")
    attributes = _attributes(record)
    draft.fields.update(
        name=record.get("Name"),
        description=plain_text(description.replace("\\n", "\n")),
        status="active" if record.get("Published") in ("1", "") else "draft",
        kind=kind,
        currency=currency,
        categories=split_list(record.get("Categories")),
        tags=split_list(record.get("Tags")),
        external_url=record.get("External URL") or None,
        grouped_handles=split_list(record.get("Grouped products")),
        source="woocommerce",
    )
    if not record.get("Name"):
        draft.problem(record.line, "Name", "the product has no name")
    for url in split_list(record.get("Images")):
        draft.add_image(url)
    if kind == "variable":
        draft.fields["option_names"] = [name for name, _ in attributes]
        return
    # Attributes of a simple product describe it (Color: Blue): searchable, not options.
    draft.fields["tags"] += [v for _, values in attributes for v in split_list(values)]
    if kind == "grouped":
        return
    draft.variants.append(_variant(draft, record, currency))


def _variant(draft: Draft, record: Record, currency: str) -> dict[str, object]:
    sale = draft.price(record, "Sale price", currency, required=False)
    regular = draft.price(record, "Regular price", currency, required=sale is None)
    stock = draft.count(record, "Stock")
    if stock is None and record.get("In stock?") == "0":
        stock = 0
    return {
        "sku": record.get("SKU") or None,
        "price": sale if sale is not None else regular or 0,
        "compare_at_price": regular if sale is not None else None,
        "stock": stock,
        "line": record.line,
    }


def _variation(parent: Draft, record: Record, currency: str) -> None:
    parent.lines.append(record.line)
    names: list[str] = parent.fields["option_names"]
    values = {fold(name): value for name, value in _attributes(record)}
    for name in values:
        if name not in {fold(n) for n in names}:
            parent.problem(
                record.line,
                "Attribute 1 name",
                f"the variation's attribute {name!r} is not one of its product's "
                f"({', '.join(names)})",
            )
    variant = _variant(parent, record, currency)
    # An empty value is WooCommerce's "any": the variation sells for every value of it.
    variant["option_values"] = [values.get(fold(n), "") for n in names]
    images = split_list(record.get("Images"))
    if images:
        parent.add_image(images[0])
        variant["image_url"] = images[0]
    position = record.get("Position")
    variant["position"] = int(position) if position.isdigit() else 0
    parent.variants.append(variant)


def _no_duplicate_skus(drafts: list[Draft]) -> None:
    seen: dict[str, int] = {}
    for draft in drafts:
        draft.variants.sort(key=lambda v: int(str(v.pop("position", 0))))
        for variant in draft.variants:
            line = int(str(variant.pop("line")))
            sku = variant.get("sku")
            if not isinstance(sku, str):
                continue
            if sku in seen:
                draft.problem(line, "SKU", f"SKU {sku!r} is already used on line {seen[sku]}")
            else:
                seen[sku] = line
