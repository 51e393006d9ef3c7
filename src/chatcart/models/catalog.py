"""The catalog: products with variants, categories, images, grouped products.

Search indexes live outside the ORM (names start with "fts_", see base.unmanaged): an FTS5
table on SQLite, a GIN expression index on PostgreSQL, both over product.search_text.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chatcart.kit.clock import utcnow
from chatcart.models.base import Base, CreatedMixin, IdMixin


class Category(IdMixin, CreatedMixin, Base):
    """A product category; "Clothing > Tshirts" is Tshirts under Clothing."""

    __tablename__ = "product_category"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_category.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    # Folded full path ("clothing > tshirts"): one category per path, accents optional.
    key: Mapped[str] = mapped_column(String(600))
    position: Mapped[int] = mapped_column(default=0)


class Product(IdMixin, CreatedMixin, Base):
    __tablename__ = "product"
    __table_args__ = (
        UniqueConstraint("workspace_id", "handle"),
        Index("ix_product_listing", "workspace_id", "status", "updated_at"),
    )

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    # What re-imports match on: Shopify's handle, WooCommerce's SKU (or ID), our own slug.
    handle: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="active")  # active|draft|archived
    # simple | variable | grouped | external
    kind: Mapped[str] = mapped_column(String(10), default="simple")
    currency: Mapped[str] = mapped_column(String(3))
    # The names of the variant options, in order: ["Size", "Màu"].
    option_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    external_url: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    # Folded name, description, categories, SKUs, option values and tags: the search index's
    # only input, folded once here so both databases match "ao thun" to "Áo thun" the same way.
    search_text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProductCategoryLink(Base):
    __tablename__ = "product_category_link"
    __table_args__ = (Index("ix_product_category_link_category", "category_id", "product_id"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("product_category.id", ondelete="CASCADE"), primary_key=True
    )


class ProductImage(IdMixin, CreatedMixin, Base):
    __tablename__ = "product_image"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    # An uploaded file (key in the image store) or a picture elsewhere (an imported URL).
    storage_key: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    alt: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(default=0)


class ProductVariant(IdMixin, CreatedMixin, Base):
    """What is actually sold: one combination of option values, with its price and stock.
    A simple product has one variant with no option values."""

    __tablename__ = "product_variant"
    __table_args__ = (UniqueConstraint("workspace_id", "sku"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str | None] = mapped_column(String(100))
    # Values in the order of product.option_names; "" means any (WooCommerce's "Any Size").
    option_values: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[int]  # minor units of product.currency
    compare_at_price: Mapped[int | None]  # the crossed-out "before" price
    stock: Mapped[int | None]  # None: not tracked, always available
    position: Mapped[int] = mapped_column(default=0)
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("product_image.id", ondelete="SET NULL")
    )


class ProductGroupItem(Base):
    """A grouped product (WooCommerce "grouped") lists other products sold side by side."""

    __tablename__ = "product_group_item"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)
