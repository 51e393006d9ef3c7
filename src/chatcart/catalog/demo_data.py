"""The demo shop's catalog: Vietnamese fashion, with variants, stock and drawn pictures."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from chatcart.catalog.pictures import garment_png
from chatcart.catalog.schemas import ImageIn, ProductIn, VariantIn
from chatcart.catalog.storage import ImageStore
from chatcart.kit.textnorm import fold

COLOURS = {
    "Trắng": (252, 252, 250),
    "Đen": (40, 40, 44),
    "Be": (214, 196, 168),
    "Xám": (150, 150, 155),
    "Xanh nhạt": (160, 196, 226),
    "Xanh": (56, 102, 170),
    "Navy": (30, 45, 90),
    "Đỏ đô": (128, 24, 40),
    "Đỏ": (210, 40, 50),
    "Hồng": (240, 160, 180),
    "Kem": (240, 230, 205),
    "Nâu": (120, 80, 50),
    "Xanh rêu": (90, 110, 70),
    "Vàng": (240, 200, 70),
}


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    description: str
    category: str
    shape: str
    price: int
    sizes: tuple[str, ...]
    colours: tuple[str, ...]
    compare_at: int | None = None
    tags: tuple[str, ...] = ()
    status: str = "active"


WOMEN, MEN, ACCESSORIES = "Thời trang nữ", "Thời trang nam", "Phụ kiện"
ITEMS = [
    Item("ATB", "Áo thun cotton basic", "Áo thun 100% cotton 2 chiều, form suông, thấm hút "
         "mồ hôi. Mặc đi học, đi làm, đi chơi đều hợp.", f"{WOMEN} > Áo", "shirt", 149_000,
         ("S", "M", "L", "XL"), ("Trắng", "Đen", "Be"), 199_000, ("bán chạy", "mùa hè")),
    Item("ATO", "Áo thun oversize in chữ", "Áo thun oversize unisex, in lụa chữ Sài Gòn, "
         "vải dày không lộ.", f"{WOMEN} > Áo", "shirt", 189_000, ("M", "L", "XL"),
         ("Đen", "Xám"), tags=("unisex",)),
    Item("SML", "Áo sơ mi linen tay dài", "Sơ mi linen thoáng mát, cúc gỗ, mặc công sở hay "
         "đi biển.", f"{WOMEN} > Áo", "shirt", 359_000, ("S", "M", "L"),
         ("Trắng", "Xanh nhạt"), tags=("công sở",)),
    Item("APL", "Áo polo nam cá sấu", "Áo polo vải cá sấu pique, cổ bẻ, giữ form sau nhiều "
         "lần giặt.", f"{MEN} > Áo", "shirt", 249_000, ("M", "L", "XL"),
         ("Navy", "Trắng", "Đỏ đô")),
    Item("AKT", "Áo kiểu cổ vuông tay phồng", "Áo kiểu voan cổ vuông, tay phồng nhẹ, dáng "
         "ngắn tôn eo.", f"{WOMEN} > Áo", "shirt", 279_000, ("S", "M", "L"), ("Trắng", "Hồng")),
    Item("AKD", "Áo khoác denim", "Áo khoác jean wash nhẹ, túi ngực, mặc quanh năm.",
         f"{WOMEN} > Áo khoác", "shirt", 459_000, ("M", "L"), ("Xanh",), 550_000),
    Item("CDG", "Áo len cardigan mỏng", "Cardigan len mỏng, cúc ngọc trai, khoác phòng máy "
         "lạnh.", f"{WOMEN} > Áo khoác", "shirt", 329_000, ("Free size",),
         ("Kem", "Nâu", "Xanh rêu")),
    Item("QJR", "Quần jean ống rộng", "Quần jean lưng cao ống rộng, vải denim dày dặn, "
         "không phai màu.", f"{WOMEN} > Quần", "trousers", 399_000,
         ("26", "27", "28", "29", "30"), ("Xanh nhạt",)),
    Item("QTS", "Quần tây ống suông", "Quần tây lưng cao, ống suông, vải tuyết mưa đứng "
         "form.", f"{WOMEN} > Quần", "trousers", 349_000, ("S", "M", "L"), ("Đen", "Be"),
         tags=("công sở",)),
    Item("QSK", "Quần short kaki nam", "Short kaki co giãn, 4 túi, mặc đi chơi cuối tuần.",
         f"{MEN} > Quần", "trousers", 219_000, ("29", "30", "31", "32"), ("Be", "Đen")),
    Item("CVA", "Chân váy chữ A", "Chân váy chữ A dáng ngắn, có quần trong, khoá kéo sau.",
         f"{WOMEN} > Chân váy", "dress", 239_000, ("S", "M", "L"), ("Đen", "Nâu")),
    Item("CVX", "Chân váy xếp ly dài", "Chân váy xếp ly voan dài qua gối, lưng thun.",
         f"{WOMEN} > Chân váy", "dress", 289_000, ("Free size",), ("Đen", "Kem")),
    Item("DHN", "Đầm hoa nhí đi biển", "Đầm voan hoa nhí hai dây, dáng xoè, mặc đi biển "
         "hoặc dạo phố.", f"{WOMEN} > Đầm", "dress", 389_000, ("S", "M", "L"),
         ("Vàng", "Xanh"), 459_000, ("mùa hè", "đi biển")),
    Item("DSL", "Đầm suông linen", "Đầm linen dáng suông, cổ tròn, có túi hai bên.",
         f"{WOMEN} > Đầm", "dress", 429_000, ("S", "M", "L"), ("Trắng", "Be")),
    Item("DBT", "Đầm body dự tiệc", "Đầm body thun gân ôm dáng, xẻ tà nhẹ, dự tiệc tối.",
         f"{WOMEN} > Đầm", "dress", 559_000, ("S", "M"), ("Đỏ", "Đen"), tags=("dự tiệc",)),
    Item("ADC", "Áo dài cách tân", "Áo dài cách tân lụa mềm, tà ngắn, kèm quần ống suông. "
         "Mặc Tết, chụp ảnh, đi lễ.", f"{WOMEN} > Áo dài", "dress", 650_000, ("S", "M", "L"),
         ("Đỏ", "Trắng", "Hồng"), tags=("tết",)),
    Item("BNL", "Bộ đồ ngủ lụa", "Bộ pijama lụa satin tay ngắn quần dài, mát và mềm.",
         "Đồ ngủ", "shirt", 299_000, ("M", "L"), ("Hồng", "Xanh nhạt")),
    Item("TTC", "Túi tote canvas", "Túi tote vải canvas dày, có ngăn khoá kéo, đựng vừa "
         "laptop 14 inch.", f"{ACCESSORIES} > Túi", "bag", 129_000, (), ("Be", "Đen")),
    Item("TDC", "Túi đeo chéo da", "Túi đeo chéo da PU mềm, dây đổi được, nhiều ngăn.",
         f"{ACCESSORIES} > Túi", "bag", 459_000, (), ("Đen", "Nâu")),
    Item("NBK", "Nón bucket", "Nón bucket vải kaki, vành rộng che nắng.",
         f"{ACCESSORIES} > Nón", "hat", 99_000, (), ("Be", "Đen")),
    Item("MLT", "Mũ lưỡi trai thêu chữ", "Mũ lưỡi trai cotton thêu chữ, khoá cài sau chỉnh "
         "size.", f"{ACCESSORIES} > Nón", "hat", 119_000, (), ("Trắng", "Đen", "Xanh")),
    Item("KLV", "Khăn lụa vuông", "Khăn lụa vuông 70 cm hoạ tiết hoa sen, quàng cổ hay "
         "buộc túi.", f"{ACCESSORIES} > Khăn", "bag", 159_000, (), ("Hồng",)),
    Item("TLD", "Thắt lưng da nam", "Thắt lưng da bò thật, mặt khoá kim loại chống gỉ.",
         f"{ACCESSORIES} > Thắt lưng", "bag", 279_000, ("100", "110", "120"), ("Đen",)),
    Item("ATE", "Áo thun trẻ em", "Áo thun cotton cho bé, in hình ngộ nghĩnh, không xù lông.",
         "Trẻ em", "shirt", 119_000, ("2Y", "4Y", "6Y"), ("Vàng", "Xanh")),
    Item("BLT", "Blazer linen (sắp về)", "Blazer linen dáng rộng, hàng đang về.",
         f"{WOMEN} > Áo khoác", "shirt", 690_000, ("S", "M", "L"), ("Be",), status="draft"),
]  # fmt: skip


def _stock(sku: str) -> int:
    # Stable per SKU, so every seed looks the same; about one variant in eight is sold out.
    n = zlib.crc32(sku.encode()) % 24
    return 0 if n < 3 else n


def _sku(code: str, *parts: str) -> str:
    return "-".join([code, *(fold(p).replace(" ", "").upper() for p in parts)])


async def products(store: ImageStore, workspace_id: int) -> list[ProductIn]:
    """The demo catalog, its pictures saved in the store (one per colour)."""
    out = []
    for item in ITEMS:
        pictures = {}
        for colour in item.colours:
            key = await store.save(workspace_id, garment_png(item.shape, COLOURS[colour]))
            pictures[colour] = key
        options = (["Size"] if item.sizes else []) + ["Màu"]
        variants = []
        for size in item.sizes or ("",):
            for colour in item.colours:
                values = [size, colour] if item.sizes else [colour]
                sku = _sku(item.code, *values)
                variants.append(
                    VariantIn(
                        sku=sku,
                        option_values=values,
                        price=item.price,
                        compare_at_price=item.compare_at,
                        stock=_stock(sku),
                        image_url=store.url(pictures[colour]),
                    )
                )
        out.append(
            ProductIn(
                name=item.name,
                description=item.description,
                status=item.status,
                kind="variable",
                currency="VND",
                option_names=options,
                categories=[item.category],
                tags=list(item.tags),
                images=[
                    ImageIn(storage_key=key, alt=f"{item.name} {c}") for c, key in pictures.items()
                ],
                variants=variants,
                source="demo",
            )
        )
    return out


async def seed(session: AsyncSession, store: ImageStore, workspace_id: int) -> int:
    """Adds the demo catalog once (a shop that has products keeps them); returns how many."""
    from chatcart.catalog import service

    if await service.count_products(session, workspace_id):
        return 0
    made = 0
    for data in await products(store, workspace_id):
        await service.save_product(session, workspace_id, data)
        made += 1
    return made
