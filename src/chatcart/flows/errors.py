from __future__ import annotations

from chatcart.kit.errors import Conflict, NotFound, ValidationFailed


class FlowInvalid(ValidationFailed):
    """The document has errors; details.errors lists each with its path and line."""

    code = "flow_invalid"


class FlowNotFound(NotFound):
    code = "flow_not_found"


class FlowNotPublishable(Conflict):
    code = "flow_not_publishable"
