"""A segment filter's problems in the admin's language: pydantic's errors and the segments
room's own, each with its path in words."""

from __future__ import annotations

from typing import Any

import pytest

from chatcart.segments.errors import FilterInvalid
from chatcart.segments.schemas import parse_filter
from chatcart.web.filter_problems import localized
from chatcart.web.i18n import translations


def _shown(raw: Any, locale: str) -> list[dict[str, str]]:
    with pytest.raises(FilterInvalid) as caught:
        parse_filter(raw)
    return localized(caught.value.details["fields"], translations(locale).gettext)


def _and(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"type": "group", "op": "and", "rules": list(rules)}


TAGS = {"type": "tags", "has": "any", "tags": ["VIP"]}


@pytest.mark.parametrize(
    ("raw", "vi", "en"),
    [
        (  # pydantic: missing
            _and(TAGS, {"type": "messageable"}),
            ("Điều kiện 2 › kênh", "Bắt buộc."),
            ("Condition 2 › channel", "Required."),
        ),
        (  # pydantic: a choice, with its "or" said in the language
            _and({"type": "tags", "has": "most", "tags": ["a"]}),
            ("Điều kiện 1 › cách khớp nhãn", "Chọn một trong 'any', 'all' hoặc 'none'."),
            ("Condition 1 › which tags", "Choose one of 'any', 'all' or 'none'."),
        ),
        (  # pydantic: the kind of condition
            _and({"type": "zodiac"}),
            ("Điều kiện 1 › loại điều kiện", "Không có loại điều kiện “zodiac”."),
            ("Condition 1 › kind of condition", "There is no kind of condition called “zodiac”."),
        ),
        (  # the room's own, with a value
            _and(_and(TAGS, {"type": "created", "op": "within_days", "value": 99_999})),
            ("Điều kiện 1 › điều kiện 2 › giá trị", "Số ngày phải từ 0 đến 36500."),
            ("Condition 1 › condition 2 › value", "Write between 0 and 36500 days."),
        ),
        (
            _and({"type": "orders", "metric": "count", "op": "between", "value": 3}),
            ("Điều kiện 1 › giá trị", "“between” nhận hai giá trị (từ, đến), không phải một."),
            ("Condition 1 › value", "“between” takes two values (from, to), not one."),
        ),
        (  # a list item
            _and({"type": "channel", "kinds": ["messenger", "myspace"]}),
            ("Điều kiện 1 › các kênh 2", None),
            ("Condition 1 › channels 2", None),
        ),
    ],
)
def test_problems_are_said_in_the_admins_language(
    raw: Any, vi: tuple[str, str | None], en: tuple[str, str | None]
) -> None:
    for locale, (label, sentence) in (("vi", vi), ("en", en)):
        first = _shown(raw, locale)[0]
        assert first["label"] == label, (locale, first)
        if sentence is not None:
            assert first["problem"] == sentence, (locale, first)
        assert first["field"].startswith("filter.rules[")  # the builder marks the condition


def test_json_and_unknown_codes() -> None:
    (broken,) = _shown("{not json", "vi")
    assert broken == {
        "field": "filter",
        "label": "Bộ lọc",
        "problem": "Không đọc được bộ lọc (JSON không hợp lệ).",
    }
    unknown = {"field": "filter.rules[0]", "problem": "in English", "code": "new_code"}
    assert localized([unknown], translations("vi").gettext)[0]["problem"] == "in English"
    missing = {"field": "", "problem": "as it was", "code": "no_such_field", "params": {}}
    assert localized([missing], translations("vi").gettext)[0] == {
        "field": "",
        "label": "",
        "problem": "as it was",  # the sentence names a value the problem does not carry
    }
