"""Flows bench: `python -m bench flows [--seconds S] [--rounds N]` (`run(argv)` is the entry
point for `python -m bench`).

50 published flows with 200 triggers between them (Vietnamese keyword phrases — exact,
contains, any-of, typo-tolerant —, payloads, refs, intents, a default), compiled once into
one Book as the engine caches it. Each message goes through trigger matching and one runtime
step (the matched flow's one step renders a text with {{first_name}} and quick replies):
`flows.runtime.conduct`, pure, no database. The messages mix what people type: keywords
with and without tone marks, upper case, "Ð", typos, taps, ref links, and text no keyword
matches (the default flow, after every keyword was tried).

Baseline, in the same run: a bare loop doing one dict look-up per message (the floor of any
router). Figures only, never pass/fail on time; best of N rounds, interleaved.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from chatcart.flows.loading import load
from chatcart.flows.matching import KeywordIntentResolver
from chatcart.flows.runtime import Book, Context, conduct
from chatcart.flows.schemas import ContactView, FlowInput, WorkspaceView

FLOWS = 50
WORDS = [
    "áo thun", "quần jean", "váy hoa", "giày thể thao", "túi xách", "mũ lưỡi trai", "áo khoác",
    "đồng hồ", "kính mát", "ví da", "khăn lụa", "áo sơ mi", "đầm dạ hội", "dép lê", "balo",
    "son môi", "nước hoa", "kem chống nắng", "sữa rửa mặt", "dầu gội", "bàn chải", "khẩu trang",
    "ốp lưng", "tai nghe", "sạc dự phòng",
]  # fmt: skip
ACTIONS = ["giá", "còn hàng", "đặt mua", "khuyến mãi"]


def _document() -> str:
    """50 flows x 4 triggers = 200: 150 keyword, 25 payload, 24 ref, 1 intent; plus a default."""
    out = ["flows:"]
    for number in range(FLOWS):
        product = WORDS[number % len(WORDS)]
        action = ACTIONS[number % len(ACTIONS)]
        triggers = [
            f'{{type: keyword, keyword: "{action} {product}"}}',
            f'{{type: keyword, any_of: ["{product} size {number}", "mã {number} {product}"]}}',
            f'{{type: keyword, keyword: "{product} {number}", match: exact}}',
        ]
        if number == 0:
            triggers.append("{type: intent, intent: ask_shipping}")
        elif number == FLOWS - 1:
            triggers.append("{type: default}")
        elif number % 2:
            triggers.append(f"{{type: payload, payload: P{number}}}")
        else:
            triggers.append(f"{{type: ref, ref: camp-{number}}}")
        out += [
            f"  - id: f{number}",
            f"    name: Flow {number}",
            f"    triggers: [{', '.join(triggers)}]",
            "    start: hi",
            "    steps:",
            f'      hi: {{type: send, text: "Chào {{{{first_name}}}}, về {product}:",'
            " quick_replies: [{title: Mua, payload: BUY}, {title: Hỏi thêm, payload: ASK}]}",
        ]
    return "\n".join(out) + "\n"


def _messages(count: int, seed: int) -> list[FlowInput]:
    rng = random.Random(seed)
    out: list[FlowInput] = []
    for _ in range(count):
        number = rng.randrange(FLOWS)
        product = WORDS[number % len(WORDS)]
        action = ACTIONS[number % len(ACTIONS)]
        kind = rng.randrange(10)
        if kind == 0:
            text = f"{action} {product}".upper().replace("Đ", "Ð")  # caps and U+00D0
        elif kind == 1:
            text = f"shop ơi {action} {product} bao nhiêu vậy ạ"
        elif kind == 2:
            text = _unaccent(f"cho em hoi {action} {product} voi")
        elif kind == 3:
            text = f"{product} {number}"
        elif kind == 4:
            text = _typo(f"{action} {product}", rng)
        elif kind == 5:
            out.append(FlowInput(kind="postback", payload=f"P{number | 1}"))
            continue
        elif kind == 6:
            out.append(FlowInput(kind="referral", ref=f"camp-{number & ~1}"))
            continue
        elif kind == 7:
            text = "phí ship về Đà Nẵng mấy ngày"
        else:
            text = rng.choice(["ok shop", "dạ vâng", "cảm ơn nhiều nha", "hihi", "để em xem"])
        out.append(FlowInput(text=text, channel="messenger"))
    return out


def _unaccent(text: str) -> str:
    from chatcart.kit.textnorm import fold

    return fold(text)


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) >= 5:
        i = rng.randrange(1, len(word) - 1)
        words[longest] = word[:i] + word[i + 1 :]
    return " ".join(words)


def _rate(work: Callable[[], int], seconds: float) -> float:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += work()
    return done / elapsed


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench flows")
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args(argv)

    loaded = load(_document())
    if not loaded.ok:
        raise SystemExit("\n".join(map(str, loaded.errors)))
    book = Book(loaded.flows, {f.id: i for i, f in enumerate(loaded.flows, start=1)})
    triggers = sum(len(f.triggers) for f in loaded.flows)
    context = Context(
        ContactView(first_name="Lan", name="Trần Lan"),
        WorkspaceView(name="Shop Áo"),
        book,
        KeywordIntentResolver(),
    )
    messages = _messages(args.messages, seed=7)
    now = datetime(2026, 11, 20, 3, tzinfo=UTC)
    rng = random.Random(1)
    table = {m.text or m.payload or m.ref or "": i for i, m in enumerate(messages)}
    keys = [m.text or m.payload or m.ref or "" for m in messages]

    def baseline() -> int:
        hits = 0
        for key in keys:
            hits += table.get(key, 0) >= 0
        return len(keys)

    matched = 0

    def flows() -> int:
        nonlocal matched
        matched = 0
        for message in messages:
            outcome = conduct(None, message, now, rng, context)
            matched += outcome.matched and bool(outcome.sends())
        return len(messages)

    best_base = best_flows = 0.0
    for _ in range(args.rounds):
        best_base = max(best_base, _rate(baseline, args.seconds))
        best_flows = max(best_flows, _rate(flows, args.seconds))
    print(
        f"flows: {len(loaded.flows)} flows, {triggers} triggers, {len(messages)} messages "
        f"({matched} answered by a flow), best of {args.rounds} x {args.seconds:g} s"
    )
    print(f"{'':32}{'baseline':>14}{'chatcart':>12}{'ratio':>10}")
    print(
        f"{'messages/s (match + 1 step)':32}{best_base:14.0f}{best_flows:12.0f}"
        f"{best_flows / best_base:10.4f}x"
    )
    slower = best_base / best_flows
    print(f"  baseline: one dict look-up per message; chatcart is {slower:.0f}x slower")


if __name__ == "__main__":
    import sys

    run(sys.argv[1:])
