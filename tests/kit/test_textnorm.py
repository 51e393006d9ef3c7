"""fold() is the matching key for Vietnamese/Tagalog text typed with or without diacritics."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from chatcart.kit.textnorm import fold, nfc

# A clean clone keeps the shared data next to the repository: <root>/../shared.
# duyet/vietnamese-namedb (MIT), copied with its SOURCE.md from ../shared/data/names-vi-tl/.
NAMES_DIR = Path(__file__).resolve().parents[1] / "data" / "names-vi-tl"


@pytest.mark.parametrize("text", ["ĐẶT HÀNG", "đặt hàng", "dat hang", "Đặt  Hàng ", "DAT HANG"])
def test_fold_variants_of_dat_hang(text: str) -> None:
    assert fold(text) == "dat hang"


def test_fold_treats_latin_eth_like_d_with_stroke() -> None:
    # U+00D0 (Latin capital eth) is a look-alike of U+0110 typed by some keyboards/lists.
    assert unicodedata.normalize("NFD", "\u00d0") == "\u00d0"  # no mark to strip
    assert fold("\u00d0ẶT HÀNG") == "dat hang"
    assert fold("\u00f0ặt hàng") == "dat hang"
    assert fold("\u00d0") == fold("\u0110") == fold("d")


def test_fold_collapses_all_whitespace_kinds() -> None:
    assert fold("  xin\tchào\n\nshop  ") == "xin chao shop"


def test_fold_empty_and_blank() -> None:
    assert fold("") == ""
    assert fold("   ") == ""


def test_nfc_recomposes_nfd_input() -> None:
    composed = "xin chào"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed  # the test means something only if NFD differs
    assert nfc(decomposed) == composed
    assert unicodedata.is_normalized("NFC", nfc(decomposed))
    # Folding does not care which form came in.
    assert fold(decomposed) == fold(composed) == "xin chao"


def test_fold_tagalog_enye() -> None:
    assert fold("Niño") == "nino"
    assert fold("NIÑO") == "nino"
    assert fold("Señora") == "senora"


def _read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("stem", ["boy", "girl", "boy_one_word", "girl_one_word"])
def test_fold_matches_real_name_list_without_accents(stem: str) -> None:
    accented = NAMES_DIR / f"{stem}.txt"
    plain = NAMES_DIR / f"{stem}_no_accents.txt"
    with_accents = _read_lines(accented)
    without_accents = _read_lines(plain)
    assert len(with_accents) == len(without_accents) > 0
    mismatches = [
        (a, b) for a, b in zip(with_accents, without_accents, strict=True) if fold(a) != fold(b)
    ]
    # The lists are line-aligned and differ only in diacritics; a few hundred lines spell
    # "Đ" as U+00D0 "Ð", which fold() must also map to "d". So every pair must agree.
    assert not mismatches, (
        f"{len(mismatches)} of {len(with_accents)} {stem} names fold differently, "
        f"e.g. {mismatches[:5]}"
    )
    # Sanity: the accented list really exercises the look-alike letter and diacritics.
    if stem == "boy":
        assert any("\u00d0" in name for name in with_accents)
        assert sum(a != b for a, b in zip(with_accents, without_accents, strict=True)) > 100
