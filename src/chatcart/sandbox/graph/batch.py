"""Graph batch requests: `POST /` or `POST /v{N}.0/` with `batch` (docs/sandbox.md, sources).

Meta's documented shape ([V] = developers.facebook.com/docs/graph-api/batch-requests):
- `batch` is a JSON array of calls `{"method", "relative_url", "body"?}`; `body` is a raw
  HTTP POST string (form-encoded, as a query string would be) [V]; a top-level
  `access_token` is used by every call that names none of its own [V].
- At most 50 calls; more → the whole request is refused, code 1 "Too many requests in batch
  message. Maximum batch size is 50" (type GraphBatchException) [V: the limit; the error as
  Meta answers it, seen in the wild].
- The answer is a JSON array in the calls' order, each `{"code", "headers", "body"}` with
  `body` a JSON-encoded string [V]; `include_headers=false` leaves out the headers [V].
- Every call counts as one call for the rate limits [V], and each call gets exactly the
  checks and the error of the direct request (send.py, profile.py): this module only
  unpacks calls and hands them over.
[U] the sandbox's reading: a missing or malformed `batch`, a call that is no JSON object, a
`body` that is not a string, and methods other than GET / POST are 100 (whole request, or
that call); a top-level access token is required (104).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatcart.sandbox.graph.errors import (
    GraphError,
    invalid_parameter,
    token_missing,
    unknown_path,
)
from chatcart.sandbox.graph.params import JSON_FIELDS, json_field, read_params
from chatcart.sandbox.graph.profile import lookup
from chatcart.sandbox.graph.send import Outcome, error_outcome, process_send
from chatcart.sandbox.graph.state import GraphState

MAX_CALLS = 50
VERSION = re.compile(r"v[0-9]+\.0")


def too_many_calls() -> GraphError:
    return GraphError(
        1,
        f"Too many requests in batch message. Maximum batch size is {MAX_CALLS}",
        type_="GraphBatchException",
        reason=f"a batch takes at most {MAX_CALLS} calls (Graph batch requests, Limitations)",
    )


def _calls(raw: object) -> list[Any]:
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise invalid_parameter("param batch must be a JSON array") from None
    if raw is None:
        raise invalid_parameter("The parameter batch is required")
    if not isinstance(raw, list) or not raw:
        raise invalid_parameter("param batch must be a non-empty JSON array")
    if len(raw) > MAX_CALLS:
        raise too_many_calls()
    return raw


def _split(relative_url: str) -> tuple[str, list[str], dict[str, Any]]:
    """`v23.0/123/messages?x=1` -> ("/v23.0/123/messages", ["123", "messages"], {"x": "1"});
    the version prefix is optional, as in Meta's own samples."""
    parts = urlsplit(relative_url)
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + "/".join(segments)
    if segments and VERSION.fullmatch(segments[0]):
        segments = segments[1:]
    return path, segments, dict(parse_qsl(parts.query, keep_blank_values=True))


def _call_params(call: dict[str, Any]) -> tuple[str, str, list[str], dict[str, Any]]:
    method = str(call.get("method") or "").upper()
    relative_url = call.get("relative_url")
    if method not in ("GET", "POST"):
        raise invalid_parameter("param method must be GET or POST")
    if not isinstance(relative_url, str) or not relative_url.strip():
        raise invalid_parameter("param relative_url is required")
    path, segments, params = _split(relative_url.strip())
    body = call.get("body")
    if body is not None:
        if not isinstance(body, str):
            raise invalid_parameter("param body must be a string (a form-encoded POST body)")
        params.update(parse_qsl(body, keep_blank_values=True))
    for name in JSON_FIELDS:
        if isinstance(params.get(name), str):
            params[name] = json_field(name, params[name])
    return method, path, segments, params


def _one(state: GraphState, call: object, token: str | None) -> Outcome:
    """One call of the batch, answered exactly as the direct request would be."""
    try:
        if not isinstance(call, dict):
            raise invalid_parameter("each call of a batch must be a JSON object")
        method, path, segments, params = _call_params(call)
        own = params.pop("access_token", None)
        token = str(own) if own else token
        if method == "POST" and len(segments) == 2 and segments[1] == "messages":
            return process_send(state, node=segments[0], params=params, token=token, path=path)
        if method == "GET" and len(segments) == 1:
            fields = params.get("fields")
            body = lookup(state, segments[0], fields if isinstance(fields, str) else None, token)
            return Outcome(200, body)
        raise unknown_path(path)
    except GraphError as err:
        return error_outcome(state, err)


def _answer(outcome: Outcome, headers: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"code": outcome.status}
    if headers:
        item["headers"] = [
            {"name": "Content-Type", "value": "application/json; charset=UTF-8"},
            *({"name": k, "value": v} for k, v in outcome.headers.items()),
        ]
    item["body"] = orjson.dumps(outcome.body).decode()
    return item


async def batch(request: Request) -> Response:
    state: GraphState = request.app.state.graph
    try:
        params, token = await read_params(request)
        calls = _calls(params.get("batch"))
        if not token:
            raise token_missing()
    except GraphError as err:
        outcome = error_outcome(state, err)
        return JSONResponse(outcome.body, status_code=outcome.status, headers=outcome.headers)
    headers = str(params.get("include_headers", "true")).lower() != "false"
    return JSONResponse([_answer(_one(state, call, token), headers) for call in calls])
