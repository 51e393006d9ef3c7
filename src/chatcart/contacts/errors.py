from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed


class ContactNotFound(NotFound):
    code = "contact_not_found"


class UnknownField(ValidationFailed):
    code = "unknown_field"


class FieldValueInvalid(ValidationFailed):
    code = "field_value_invalid"


class MergeRefused(Conflict):
    code = "merge_refused"
