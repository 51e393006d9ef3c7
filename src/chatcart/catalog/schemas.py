"""The catalog's input and output shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chatcart.kit.money import currency_known, format_minor
from chatcart.kit.textnorm import fold, nfc

ProductStatus = Literal["active", "draft", "archived"]
ProductKind = Literal["simple", "variable", "grouped", "external"]
ImportFormat = Literal["woocommerce", "shopify", "chatcart"]
MAX_OPTIONS = 3


class VariantIn(BaseModel):
    sku: str | None = Field(default=None, max_length=100)
    option_values: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)
    price: int = Field(ge=0)
    compare_at_price: int | None = Field(default=None, ge=0)
    stock: int | None = Field(default=None, ge=0)
    image_url: str | None = None  # one of the product's images (or added to them)

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str | None) -> str | None:
        return nfc(value.strip()) or None if value is not None else None

    @field_validator("option_values")
    @classmethod
    def _values(cls, values: list[str]) -> list[str]:
        return [nfc(v.strip()) for v in values]


class ImageIn(BaseModel):
    url: str | None = None
    storage_key: str | None = None
    alt: str = Field(default="", max_length=300)


class ProductIn(BaseModel):
    handle: str | None = Field(default=None, max_length=200)
    name: str = Field(min_length=1, max_length=300)
    description: str = ""
    status: ProductStatus = "active"
    kind: ProductKind = "simple"
    currency: str = Field(min_length=3, max_length=3)
    option_names: list[str] = Field(default_factory=list, max_length=MAX_OPTIONS)
    categories: list[str] = Field(default_factory=list)  # paths: "Thời trang nữ > Áo thun"
    tags: list[str] = Field(default_factory=list)
    external_url: str | None = None
    images: list[ImageIn] = Field(default_factory=list)
    variants: list[VariantIn] = Field(default_factory=list)
    grouped_handles: list[str] = Field(default_factory=list)
    source: str = Field(default="manual", max_length=20)

    @field_validator("name", "description")
    @classmethod
    def _text(cls, value: str) -> str:
        return nfc(value.strip())

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not currency_known(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (VND, PHP, USD...)")
        return value.upper()

    @field_validator("option_names", "tags")
    @classmethod
    def _names(cls, values: list[str]) -> list[str]:
        return [nfc(v.strip()) for v in values if v.strip()]

    @model_validator(mode="after")
    def _shape(self) -> ProductIn:
        if not self.name:
            raise ValueError("the product has no name")
        if len({fold(n) for n in self.option_names}) != len(self.option_names):
            raise ValueError("two options have the same name")
        if self.kind != "grouped" and not self.variants:
            raise ValueError("a product needs a price (at least one variant)")
        seen: set[tuple[str, ...]] = set()
        skus: set[str] = set()
        for variant in self.variants:
            if len(variant.option_values) != len(self.option_names):
                raise ValueError(
                    f"each variant needs a value for each option ({', '.join(self.option_names)})"
                )
            combo = tuple(fold(v) for v in variant.option_values)
            if combo in seen and self.option_names:
                raise ValueError(f"two variants are both {' / '.join(variant.option_values)}")
            seen.add(combo)
            if variant.sku:
                if variant.sku in skus:
                    raise ValueError(f"SKU {variant.sku!r} is used twice in this product")
                skus.add(variant.sku)
        return self


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    key: str
    parent_id: int | None
    path: str = ""
    depth: int = 0
    product_count: int = 0


class ImageOut(BaseModel):
    id: int
    url: str
    alt: str
    uploaded: bool


class VariantOut(BaseModel):
    id: int
    sku: str | None
    option_values: list[str]
    price: int
    compare_at_price: int | None
    stock: int | None
    image_id: int | None
    price_text: str
    compare_at_text: str | None

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0

    @property
    def title(self) -> str:
        return " / ".join(v for v in self.option_values if v)


class ProductOut(BaseModel):
    id: int
    handle: str
    name: str
    description: str
    status: ProductStatus
    kind: ProductKind
    currency: str
    option_names: list[str]
    tags: list[str]
    external_url: str | None
    source: str
    categories: list[CategoryOut]
    images: list[ImageOut]
    variants: list[VariantOut]
    grouped: list[ProductCard] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ProductCard(BaseModel):
    """A product as a list, a search result or a chat carousel shows it."""

    id: int
    handle: str
    name: str
    status: ProductStatus
    kind: ProductKind
    currency: str
    min_price: int | None
    max_price: int | None
    compare_at_price: int | None
    image_url: str | None
    in_stock: bool
    stock: int | None  # total of tracked variants; None when none is tracked
    variant_count: int
    categories: list[str]
    updated_at: datetime

    def price_text(self, locale: str | None = None) -> str:
        if self.min_price is None:
            return ""
        low = format_minor(self.min_price, self.currency, locale)
        if self.max_price is None or self.max_price == self.min_price:
            return low
        return f"{low} – {format_minor(self.max_price, self.currency, locale)}"

    def compare_at_text(self, locale: str | None = None) -> str | None:
        if self.compare_at_price is None or self.min_price is None:
            return None
        if self.compare_at_price <= self.min_price:
            return None
        return format_minor(self.compare_at_price, self.currency, locale)


class ProductQuery(BaseModel):
    q: str | None = Field(default=None, max_length=200)
    category_id: int | None = None
    status: ProductStatus | None = None
    in_stock: bool = False
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class RowProblem(BaseModel):
    line: int
    column: str | None
    problem: str


class ImportReport(BaseModel):
    format: ImportFormat
    rows: int = 0
    products: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowProblem] = Field(default_factory=list)
    warnings: list[RowProblem] = Field(default_factory=list)
    duration: float = 0.0


ProductOut.model_rebuild()


class VariantForSale(BaseModel):
    """A variant as a checkout sees it: what it is, its price now, and what is left."""

    variant_id: int
    product_id: int
    product_name: str
    variant_title: str
    sku: str | None
    status: ProductStatus
    currency: str
    price: int
    stock: int | None
