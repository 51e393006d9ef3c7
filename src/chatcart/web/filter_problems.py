"""A segment filter's problems in the admin's language.

The segments room reports each problem with its path (filter.rules[2].op), an English text
for API clients, and a code with its values (segments.errors.Problem: pydantic's error type,
or the room's own). Here the code picks a translated sentence and the path becomes words
("Condition 3 › comparison"); a code without a sentence here keeps the English text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["localized"]

Gettext = Callable[[str], str]


def N_(message: str) -> str:  # Babel's marker: extracted here, translated when shown
    return message


# What is wrong, by code. %(name)s is a value from the problem's params.
_MESSAGES: dict[str, str] = {
    # pydantic's own error types
    "missing": N_("Required."),
    "literal_error": N_("Choose one of %(expected)s."),
    "union_tag_invalid": N_("There is no kind of condition called “%(tag)s”."),
    "union_tag_not_found": N_("Choose a kind of condition."),
    "extra_forbidden": N_("This condition has no such setting."),
    "too_short": N_("Add at least %(min_length)s."),
    "too_long": N_("At most %(max_length)s."),
    "string_too_short": N_("Cannot be empty."),
    "string_too_long": N_("At most %(max_length)s characters."),
    "string_pattern_mismatch": N_("Use lower-case letters, digits and _ only."),
    "string_type": N_("Write text here."),
    "int_type": N_("Write a whole number here."),
    "int_parsing": N_("Write a whole number here."),
    "int_from_float": N_("Write a whole number here."),
    "float_type": N_("Write a number here."),
    "float_parsing": N_("Write a number here."),
    "bool_type": N_("Choose yes or no."),
    "bool_parsing": N_("Choose yes or no."),
    "list_type": N_("Give a list here."),
    "model_type": N_("Give a condition here."),
    "model_attributes_type": N_("Give a condition here."),
    "dict_type": N_("Give a condition here."),
    "json_invalid": N_("The filter cannot be read (invalid JSON)."),
    # the segments room's own (segments/schemas.py, compiler.py, web/segments.py)
    "empty": N_("Add at least one condition."),
    "days_whole": N_("Write a whole number of days."),
    "days_range": N_("Write between 0 and %(max)s days."),
    "instant": N_("Write a date (YYYY-MM-DD) or a date and time."),
    "no_value": N_("“%(op)s” takes no value."),
    "needs_value": N_("“%(op)s” needs a value."),
    "needs_text": N_("“%(op)s” needs some text."),
    "between_values": N_("“between” needs two values: from and to."),
    "between_no_value": N_("“between” takes two values (from, to), not one."),
    "no_values": N_("“%(op)s” takes one value, not two."),
    "between_order": N_("“between” needs the smaller value first."),
    "whole_number": N_("Write a whole number here."),
    "time_ops": N_("Compare “%(metric)s” with before, after, within or not within days."),
    "number_ops": N_("Compare “%(metric)s” with is, is not, greater, less or between."),
    "too_deep": N_("Groups nest at most %(max)s levels deep."),
    "too_many": N_("A filter holds at most %(max)s conditions."),
    "name_empty": N_("Give the segment a name."),
    "no_channel_rules": N_("chatcart has no messaging rules for %(channel)s yet."),
    "no_such_field": N_("There is no custom field “%(key)s” in this workspace."),
    "text_field": N_("“%(key)s” is a text field: write text."),
    "choice_field": N_("“%(key)s” is a choice field: choose one of its choices."),
    "number_field": N_("“%(key)s” is a number field: write a number."),
    "date_field": N_("“%(key)s” is a date field: write a date (YYYY-MM-DD)."),
    "boolean_field": N_("“%(key)s” is a yes/no field: choose yes or no."),
    "not_a_choice": N_("“%(value)s” is not a choice of “%(key)s” (%(choices)s)."),
    "text_field_op": N_("“%(key)s” is a text field: use one of %(allowed)s."),
    "choice_field_op": N_("“%(key)s” is a choice field: use one of %(allowed)s."),
    "number_field_op": N_("“%(key)s” is a number field: use one of %(allowed)s."),
    "date_field_op": N_("“%(key)s” is a date field: use one of %(allowed)s."),
    "boolean_field_op": N_("“%(key)s” is a yes/no field: use one of %(allowed)s."),
    # errors of the segments room that are not about one condition
    "segment_name_taken": N_("A segment named “%(name)s” already exists."),
}

# The words of a path: a condition's settings, and the request's fields.
_WORDS: dict[str, str] = {
    "filter": N_("Filter"),
    "name": N_("Name"),
    "type": N_("kind of condition"),
    "op": N_("comparison"),
    "has": N_("which tags"),
    "tags": N_("tags"),
    "key": N_("key"),
    "value": N_("value"),
    "values": N_("values"),
    "kinds": N_("channels"),
    "channel": N_("channel"),
    "metric": N_("what is counted"),
    "purpose": N_("purpose"),
    "status": N_("status"),
    "rules": N_("conditions"),
}
_ITEM = re.compile(r"^(\w+)\[(\d+)\]$")


def _label(path: str, gettext: Gettext) -> str:
    """filter.rules[2].op -> "Condition 3 › comparison" (in the admin's language)."""
    words: list[str] = []
    for part in path.split("."):
        item = _ITEM.match(part)
        if item and item.group(1) == "rules":
            words.append(gettext("condition %(n)s") % {"n": int(item.group(2)) + 1})
        elif item:
            name = item.group(1)
            word = gettext(_WORDS[name]) if name in _WORDS else name
            words.append(f"{word} {int(item.group(2)) + 1}")
        elif part == "filter" and len(path) > len("filter"):
            continue  # every condition is in the filter: "Condition 3", not "Filter › ..."
        else:
            words.append(gettext(_WORDS[part]) if part in _WORDS else part)
    text = " › ".join(words)
    return text[:1].upper() + text[1:]


def _message(code: str, english: str, params: Mapping[str, Any], gettext: Gettext) -> str:
    template = _MESSAGES.get(code)
    if template is None:
        return english
    values = {key: str(value) for key, value in params.items()}
    if "expected" in values:  # pydantic's "'any', 'all' or 'none'"
        word = gettext("or")
        values["expected"] = values["expected"].replace(" or ", f" {word} ")
    try:
        return gettext(template) % values
    except (KeyError, TypeError, ValueError):  # a value the sentence names is missing
        return english


def localized(problems: Iterable[Mapping[str, Any]], gettext: Gettext) -> list[dict[str, str]]:
    """Each problem as {"field": its path (the builder marks the condition), "label": the
    path in words, "problem": the sentence}, in the language of `gettext`."""
    shown: list[dict[str, str]] = []
    for found in problems:
        field = str(found.get("field", ""))
        english = str(found.get("problem", ""))
        params = found.get("params")
        shown.append(
            {
                "field": field,
                "label": _label(field, gettext) if field else "",
                "problem": _message(
                    str(found.get("code", "")),
                    english,
                    params if isinstance(params, Mapping) else {},
                    gettext,
                ),
            }
        )
    return shown
