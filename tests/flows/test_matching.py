"""Trigger matching, table-driven: diacritics, upper case, missing tone marks, "Ð", typos,
refs, payloads, comments, intents, priority and channel filters."""

from __future__ import annotations

import pytest

from chatcart.flows.document import Flow
from chatcart.flows.loading import load
from chatcart.flows.matching import (
    KeywordIntentResolver,
    TriggerIndex,
    damerau_at_most_one,
    ref_of,
)
from chatcart.flows.schemas import FlowInput

FLOWS = """\
flows:
  - id: order
    name: Order
    triggers:
      - {type: keyword, keyword: đặt hàng}
      - {type: keyword, any_of: [mua ngay, "order now"]}
    start: s
    steps: {s: {type: end}}
  - id: hello
    name: Hello
    triggers:
      - {type: keyword, keyword: xin chào, match: exact}
      - {type: welcome}
    start: s
    steps: {s: {type: end}}
  - id: tiktok
    name: TikTok
    triggers: [{type: ref, ref: tiktok-tool}]
    start: s
    steps: {s: {type: end}}
  - id: human
    name: Human
    triggers:
      - {type: payload, payload: HUMAN}
      - {type: keyword, keyword: nhân viên, channels: [messenger]}
    start: s
    steps: {s: {type: end}}
  - id: share
    name: Share
    triggers: [{type: comment, any_of: [đã share], posts: [p1]}]
    start: s
    steps: {s: {type: end}}
  - id: price
    name: Price
    triggers: [{type: intent, intent: ask_price}]
    start: s
    steps: {s: {type: end}}
  - id: vip
    name: VIP beats order
    triggers: [{type: keyword, keyword: đặt hàng vip, priority: 5}]
    start: s
    steps: {s: {type: end}}
  - id: fallback
    name: Fallback
    triggers: [{type: default}]
    start: s
    steps: {s: {type: end}}
"""


def _flows() -> list[Flow]:
    loaded = load(FLOWS)
    assert loaded.ok, loaded.errors
    return loaded.flows


INDEX = TriggerIndex(_flows())
RESOLVER = KeywordIntentResolver()


@pytest.mark.parametrize(
    ("data", "flow"),
    [
        (FlowInput(text="đặt hàng"), "order"),
        (FlowInput(text="ĐẶT HÀNG"), "order"),
        (FlowInput(text="dat hang"), "order"),
        (FlowInput(text="Dat Hang"), "order"),
        (FlowInput(text="ÐẶT HÀNG"), "order"),  # U+00D0, Icelandic eth
        (FlowInput(text="đặt hang giúp em với"), "order"),
        (FlowInput(text="em muốn đặt hàng ạ!"), "order"),
        (FlowInput(text="đặt hàng vip"), "vip"),  # priority 5
        (FlowInput(text="ORDER NOW please"), "order"),
        (FlowInput(text="ordr now"), "order"),  # "order" has 5 letters: one typo is fine
        (FlowInput(text="mua ngayy"), "fallback"),  # "ngay" has 4: no typo allowed
        (FlowInput(text="xin chào"), "hello"),
        (FlowInput(text="XIN CHAO"), "hello"),
        (FlowInput(text="xin chào, đặt hàng"), "order"),  # exact hello does not match
        (FlowInput(text="anything", first=True), "hello"),  # welcome
        (FlowInput(kind="postback", payload="GET_STARTED"), "hello"),
        (FlowInput(kind="referral", ref="tiktok-tool"), "tiktok"),
        (FlowInput(kind="referral", ref="TIKTOK-TOOL"), "tiktok"),
        (FlowInput(text="/start tiktok-tool"), "tiktok"),  # Telegram deep link
        (FlowInput(text="Xin chào #tiktok-tool", first=True), "tiktok"),  # wa.me text
        (FlowInput(kind="postback", payload="HUMAN", text="Gặp ai đó"), "human"),
        (FlowInput(text="gặp nhân viên", channel="messenger"), "human"),
        (FlowInput(text="gặp nhân viên", channel="telegram"), "fallback"),
        (FlowInput(kind="comment", text="Đã share rồi nha", post_id="p1"), "share"),
        (FlowInput(kind="comment", text="DA SHARE", post_id="p1"), "share"),
        (FlowInput(kind="comment", text="đã share", post_id="p2"), None),
        (FlowInput(text="áo này giá bao nhiêu"), "price"),  # keyword intent resolver
        (FlowInput(text="magkano po"), "price"),
        (FlowInput(text="hmm"), "fallback"),
        (FlowInput(kind="wake"), None),
    ],
)
def test_trigger_table(data: FlowInput, flow: str | None) -> None:
    found = INDEX.match(data, RESOLVER)
    assert (found.flow if found else None) == flow


def test_one_typo_in_words_of_five_letters_or_more() -> None:
    index = TriggerIndex(
        load(
            "id: t\nname: T\nstart: s\nsteps: {s: {type: end}}\ntriggers:\n"
            "  - {type: keyword, keyword: khuyến mãi}\n"
            "  - {type: keyword, keyword: thanh toán, typos: false}\n"
        ).flows
    )
    assert index.match(FlowInput(text="khuyne mai")) is not None  # swapped letters
    assert index.match(FlowInput(text="khuyenn mai")) is not None  # extra letter
    assert index.match(FlowInput(text="khyen mai")) is not None  # missing letter
    assert index.match(FlowInput(text="khuyxn mai")) is not None  # wrong letter
    assert index.match(FlowInput(text="khxyxn mai")) is None  # two typos
    assert index.match(FlowInput(text="khuyen mia")) is None  # "mai" is too short for one
    assert index.match(FlowInput(text="thanh toan")) is not None
    assert index.match(FlowInput(text="thanh toaan")) is None  # typos: false


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        ("khuyen", "khuyen", True),
        ("khuyen", "khuyne", True),
        ("khuyen", "khuyn", True),
        ("khuyen", "khuyenx", True),
        ("khuyen", "kxuyen", True),
        ("khuyen", "kxuyxn", False),
        ("khuyen", "khu", False),
    ],
)
def test_damerau_at_most_one(a: str, b: str, near: bool) -> None:
    assert damerau_at_most_one(a, b) is near
    assert damerau_at_most_one(b, a) is near


def test_ref_sources() -> None:
    assert ref_of(FlowInput(kind="referral", ref="Summer")) == "summer"
    assert ref_of(FlowInput(text="/start@shop_bot promo-1")) == "promo-1"
    assert ref_of(FlowInput(text="hi #promo-1")) is None  # a hashtag later is just a word
    assert ref_of(FlowInput(text="hi #promo-1", first=True)) == "promo-1"


def test_the_keyword_intent_resolver() -> None:
    resolver = KeywordIntentResolver()
    guess = resolver.resolve("phí ship về Hà Nội bao nhiêu", "vi")
    assert guess is not None
    assert guess.name in {"ask_shipping", "ask_price"}
    assert resolver.resolve("cảm ơn shop", "vi") is None
    hours = resolver.resolve("mấy giờ shop mở cửa", "vi")
    assert hours is not None and hours.name == "ask_hours"
