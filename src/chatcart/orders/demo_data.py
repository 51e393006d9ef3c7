"""A few orders for the demo shop, so the orders page shows each stage."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.catalog import service as catalog
from chatcart.catalog.schemas import ProductQuery
from chatcart.orders import service
from chatcart.orders.schemas import Checkout, CheckoutLine, OrderStatus

_SHIPPED: tuple[OrderStatus, ...] = ("confirmed", "packed", "shipped")
CUSTOMERS: list[tuple[str, str, str, tuple[OrderStatus, ...]]] = [
    ("Trần Thị Lan", "0912345678", "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", ()),
    ("Nguyễn Văn Bình", "0987654321", "45 Trần Phú, Ba Đình, Hà Nội", ("confirmed",)),
    ("Lê Thu Hà", "0905123456", "88 Bạch Đằng, Hải Châu, Đà Nẵng", _SHIPPED),
    ("Phạm Minh Tuấn", "0938111222", "7 Nguyễn Huệ, TP. Huế", (*_SHIPPED, "delivered")),
]


async def seed(session: AsyncSession, workspace_id: int) -> int:
    cards = await catalog.search(
        session, workspace_id, ProductQuery(status="active", in_stock=True, limit=8)
    )
    choices = []
    for card in cards:
        product = await catalog.get_product(session, workspace_id, card.id)
        choices += [v.id for v in product.variants if v.stock is None or v.stock >= 2][:1]
    if len(choices) < 2:
        return 0
    for n, (name, phone, address, path) in enumerate(CUSTOMERS):
        lines = [CheckoutLine(variant_id=choices[n % len(choices)], quantity=1 + n % 2)]
        if n % 2:
            lines.append(CheckoutLine(variant_id=choices[(n + 1) % len(choices)], quantity=1))
        order = await service.place_order(
            session,
            workspace_id,
            Checkout(
                lines=lines, customer_name=name, phone=phone, address=address,
                shipping_fee=30000 if n % 2 else 0,
            ),
        )  # fmt: skip
        for status in path:
            await service.change_status(
                session, workspace_id, order.id, status, actor="demo",
                tracking_code=f"GHN{8123450 + n}" if status == "shipped" else None,
            )  # fmt: skip
    return len(CUSTOMERS)
