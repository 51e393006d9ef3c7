"""Reading Graph request parameters the ways Graph accepts them (platforms.md 2.1):
a JSON body, form fields holding JSON strings, or query parameters (Meta's own curl
examples put `recipient={'id':'PSID'}` in the query, single quotes included); the access
token from `access_token` (query or form) or `Authorization: Bearer`."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from chatcart.sandbox.graph.errors import invalid_parameter

JSON_FIELDS = ("recipient", "message")


def json_field(name: str, raw: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return orjson.loads(raw.replace("'", '"'))  # Meta's examples use single quotes [V]
    except orjson.JSONDecodeError:
        raise invalid_parameter(f"param {name} must be JSON") from None


async def read_params(request: Request) -> tuple[dict[str, Any], str | None]:
    params: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if raw.strip():
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise invalid_parameter("The request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise invalid_parameter("The request body must be a JSON object")
            params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in JSON_FIELDS:
        if isinstance(params.get(name), str):
            params[name] = json_field(name, params[name])
    token = params.pop("access_token", None)
    if not token:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
    return params, (str(token) if token else None)
