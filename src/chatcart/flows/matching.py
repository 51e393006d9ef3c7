"""Which flow an input starts: triggers compiled once per set of published flows.

Keywords match on folded words (case and diacritics dropped, "Ð" read as "Đ"), with one
typo allowed in words of 5+ letters (Damerau: a letter missing, extra, wrong or swapped).
The typo look-up is a deletion index (SymSpell's idea): every keyword word and its one-letter
deletions point back at the word, so a message word finds its candidates by its own
deletions instead of being compared with all 200 keywords.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from pydantic import BaseModel

from chatcart.flows.document import (
    CommentTrigger,
    DefaultTrigger,
    Flow,
    IntentTrigger,
    KeywordTrigger,
    PayloadTrigger,
    RefTrigger,
    Trigger,
    WelcomeTrigger,
)
from chatcart.flows.schemas import FlowInput
from chatcart.kit.textnorm import fold

_WORD = re.compile(r"[^\W_]+")
_START = re.compile(r"^/start(?:@\w+)?\s+(\S+)", re.IGNORECASE)  # Telegram deep link
_HASH_REF = re.compile(r"(?:^|\s)#([\w-]{2,64})")  # wa.me/<n>?text=...%23tiktok-tool
TYPO_MIN_LETTERS = 5
GET_STARTED = {"GET_STARTED", "GET_STARTED_PAYLOAD", "get_started"}

# Rank of each kind among triggers of the same priority: the most specific wins.
_RANK = {"payload": 70, "ref": 60, "comment": 50, "exact": 40, "contains": 30, "welcome": 20}
_RANK_INTENT, _RANK_DEFAULT = 10, 0


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def ref_of(data: FlowInput) -> str | None:
    """The entry ref: m.me ?ref=, Telegram /start <x>, or a #tag in a wa.me prefilled text."""
    if data.ref:
        return fold(data.ref)
    if data.kind == "message" and data.text:
        found = _START.match(data.text) or (_HASH_REF.search(data.text) if data.first else None)
        if found:
            return fold(found.group(1))
    return None


def damerau_at_most_one(a: str, b: str) -> bool:
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = (a, b) if la < lb else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class IntentGuess(BaseModel):
    name: str
    confidence: float


class IntentResolver(Protocol):
    """What the NLU issue implements; the runtime asks it only when an intent trigger
    could still win."""

    def resolve(self, text: str, language: str | None) -> IntentGuess | None: ...


@dataclass
class _Phrase:
    words: tuple[str, ...]
    typos: bool


class _WordIndex:
    def __init__(self) -> None:
        self._exact: dict[str, set[str]] = {}
        self._deleted: dict[str, set[str]] = {}

    def add(self, word: str) -> None:
        self._exact.setdefault(word, set()).add(word)
        if len(word) >= TYPO_MIN_LETTERS:
            for variant in _deletions(word):
                self._deleted.setdefault(variant, set()).add(word)
            self._deleted.setdefault(word, set()).add(word)

    def near(self, token: str) -> tuple[set[str], set[str]]:
        """(keyword words equal to token, keyword words one typo away)."""
        exact = self._exact.get(token, set())
        if len(token) < TYPO_MIN_LETTERS - 1:
            return exact, set()
        candidates: set[str] = set(self._deleted.get(token, ()))
        for variant in _deletions(token):
            candidates |= self._deleted.get(variant, set())
        typo = {w for w in candidates - exact if damerau_at_most_one(token, w)}
        return exact, typo


def _phrase_at(tokens: list[str], start: int, phrase: _Phrase, near: _Near, skip: int = 0) -> bool:
    for offset in range(skip, len(phrase.words)):
        word = phrase.words[offset]
        exact, typo = near(tokens[start + offset])
        if word not in exact and not (phrase.typos and word in typo):
            return False
    return True


class _Near:
    """Memoised look-ups of one message's tokens."""

    def __init__(self, index: _WordIndex) -> None:
        self._index = index
        self._seen: dict[str, tuple[set[str], set[str]]] = {}

    def __call__(self, token: str) -> tuple[set[str], set[str]]:
        found = self._seen.get(token)
        if found is None:
            found = self._seen[token] = self._index.near(token)
        return found


def phrase_matches(tokens: list[str], phrase: _Phrase, mode: str, near: _Near) -> bool:
    n = len(phrase.words)
    if n == 0 or n > len(tokens):
        return False
    if mode == "exact":
        return n == len(tokens) and _phrase_at(tokens, 0, phrase, near)
    return any(_phrase_at(tokens, i, phrase, near) for i in range(len(tokens) - n + 1))


@dataclass(order=True)
class Match:
    score: tuple[int, int, int, int]
    flow: str = field(compare=False)
    trigger: str = field(compare=False)


@dataclass
class _Entry:
    flow: str
    order: int
    trigger: Trigger
    phrases: list[_Phrase]


class TriggerIndex:
    """Every trigger of a set of flows, ready to match inputs."""

    def __init__(self, flows: Iterable[Flow]) -> None:
        self._words = _WordIndex()
        self._payload: dict[str, list[_Entry]] = {}
        self._ref: dict[str, list[_Entry]] = {}
        # keyword phrases by their first word
        self._by_word: dict[str, list[tuple[_Entry, _Phrase]]] = {}
        self._comment: list[_Entry] = []
        self._rest: list[_Entry] = []  # welcome, intent, default
        order = 0
        for flow in flows:
            for trigger in flow.triggers:
                order += 1
                entry = _Entry(flow.id, order, trigger, [])
                if isinstance(trigger, PayloadTrigger):
                    self._payload.setdefault(trigger.payload, []).append(entry)
                elif isinstance(trigger, RefTrigger):
                    self._ref.setdefault(fold(trigger.ref), []).append(entry)
                elif isinstance(trigger, KeywordTrigger | CommentTrigger):
                    for text in trigger.phrases():
                        phrase = _Phrase(tuple(words(text)), trigger.typos)
                        entry.phrases.append(phrase)
                        for word in phrase.words:
                            self._words.add(word)
                    if isinstance(trigger, CommentTrigger):
                        self._comment.append(entry)
                    else:
                        for phrase in entry.phrases:
                            for word in phrase.words[:1]:
                                self._by_word.setdefault(word, []).append((entry, phrase))
                else:
                    self._rest.append(entry)
        intents = [e.trigger.priority for e in self._rest if isinstance(e.trigger, IntentTrigger)]
        self.intents = bool(intents)
        self._intent_priority = max(intents, default=0)

    def match(
        self, data: FlowInput, resolver: IntentResolver | None = None, language: str | None = None
    ) -> Match | None:
        best: Match | None = None

        def offer(entry: _Entry, rank: int, detail: int = 0) -> None:
            nonlocal best
            trigger = entry.trigger
            if trigger.channels and data.channel not in trigger.channels:
                return
            found = Match((trigger.priority, rank, detail, -entry.order), entry.flow, trigger.type)
            if best is None or found > best:
                best = found

        if data.payload:
            for entry in self._payload.get(data.payload, []):
                offer(entry, _RANK["payload"])
        ref = ref_of(data)
        if ref:
            for entry in self._ref.get(ref, []):
                offer(entry, _RANK["ref"])
        tokens = words(data.text) if data.text else []
        near = _Near(self._words)
        if data.kind == "comment":
            for entry in self._comment:
                self._offer_comment(entry, data, tokens, near, offer)
            return best
        if tokens and data.kind in {"message", "postback"}:
            for start, token in enumerate(tokens):
                exact, typo = near(token)
                for word in exact | typo:
                    for entry, phrase in self._by_word.get(word, ()):
                        if word in exact or phrase.typos:
                            self._offer_keyword(entry, phrase, tokens, start, near, offer)
        welcome = data.first or data.payload in GET_STARTED or (data.kind == "referral" and not ref)
        for entry in self._rest:
            trigger = entry.trigger
            if isinstance(trigger, WelcomeTrigger) and welcome:
                offer(entry, _RANK["welcome"])
            elif isinstance(trigger, DefaultTrigger) and data.kind in {"message", "postback"}:
                offer(entry, _RANK_DEFAULT)
        could_win = best is None or best.score[:2] < (self._intent_priority, _RANK_INTENT)
        if self.intents and could_win and resolver is not None and data.text:
            # Asked only when an intent could still win, so a keyword hit costs no NLU.
            guess = resolver.resolve(data.text, language)
            if guess is not None:
                for entry in self._rest:
                    trigger = entry.trigger
                    if (
                        isinstance(trigger, IntentTrigger)
                        and trigger.intent == guess.name
                        and guess.confidence >= trigger.min_confidence
                    ):
                        offer(entry, _RANK_INTENT)
        return best

    @staticmethod
    def _offer_keyword(
        entry: _Entry, phrase: _Phrase, tokens: list[str], start: int, near: _Near, offer: _Offer
    ) -> None:
        trigger = entry.trigger
        assert isinstance(trigger, KeywordTrigger)
        n = len(phrase.words)
        if start + n > len(tokens):
            return
        if trigger.match == "exact" and (start or n != len(tokens)):
            return
        if _phrase_at(tokens, start, phrase, near, skip=1):
            offer(entry, _RANK[trigger.match], n)

    @staticmethod
    def _offer_comment(
        entry: _Entry, data: FlowInput, tokens: list[str], near: _Near, offer: _Offer
    ) -> None:
        trigger = entry.trigger
        assert isinstance(trigger, CommentTrigger)
        if trigger.posts and data.post_id not in trigger.posts:
            return
        if not entry.phrases:
            offer(entry, _RANK["comment"])
            return
        for phrase in entry.phrases:
            if phrase_matches(tokens, phrase, trigger.match, near):
                offer(entry, _RANK["comment"], len(phrase.words))
                return


class _Offer(Protocol):
    def __call__(self, entry: _Entry, rank: int, detail: int = 0) -> None: ...


class KeywordIntentResolver:
    """Intents named by keyword phrases (any-of, contains, typo-tolerant): what ships until
    the NLU issue plugs a model in behind the same Protocol."""

    DEFAULT: ClassVar[dict[str, list[str]]] = {
        "ask_price": ["giá", "bao nhiêu", "bao nhieu tien", "price", "how much", "magkano"],
        "ask_shipping": ["ship", "giao hàng", "phí ship", "shipping", "delivery", "padala"],
        "ask_hours": ["mấy giờ", "mở cửa", "giờ mở cửa", "opening hours", "open", "bukas"],
        "ask_size": ["size", "kích cỡ", "kích thước", "sukat"],
        "talk_to_human": ["nhân viên", "gặp người", "tư vấn viên", "human", "agent", "kausapin"],
    }

    def __init__(self, intents: dict[str, list[str]] | None = None) -> None:
        self._index = _WordIndex()
        self._by_word: dict[str, list[tuple[str, _Phrase]]] = {}
        for name, phrases in (intents or self.DEFAULT).items():
            for text in phrases:
                phrase = _Phrase(tuple(words(text)), True)
                self._by_word.setdefault(phrase.words[0], []).append((name, phrase))
                for word in phrase.words:
                    self._index.add(word)

    def resolve(self, text: str, language: str | None) -> IntentGuess | None:
        tokens = words(text)
        near = _Near(self._index)
        best: IntentGuess | None = None
        for start, token in enumerate(tokens):
            exact, typo = near(token)
            for word in exact | typo:
                for name, phrase in self._by_word.get(word, ()):
                    if start + len(phrase.words) > len(tokens):
                        continue
                    if not _phrase_at(tokens, start, phrase, near):
                        continue
                    strict = _Phrase(phrase.words, False)
                    confidence = 0.9 if _phrase_at(tokens, start, strict, near) else 0.7
                    if best is None or confidence > best.confidence:
                        best = IntentGuess(name=name, confidence=confidence)
        return best
