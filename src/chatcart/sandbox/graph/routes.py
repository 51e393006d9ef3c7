"""Graph API routes under any `/v{N}.0/` prefix (platforms.md 1.1, 2.1, 2.5, 2.7).

  POST /v{N}.0/{PAGE_ID|IG_ID|me}/messages         Send API (send.py)
  GET  /v{N}.0/{PSID|IGSID|PAGE_ID|me}?fields=...   profile / page (profile.py)
  POST /v{N}.0/{PAGE_ID|me}/subscribed_apps          subscribe the app → {"success": true}
  GET  /v{N}.0/{PAGE_ID|me}/subscribed_apps
  POST /  and  POST /v{N}.0/  with `batch`: up to 50 of the calls above (batch.py)
Anything else under a version prefix → 2500 "Unknown path components" [U].
"""

from __future__ import annotations

from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from chatcart.sandbox.graph.batch import batch
from chatcart.sandbox.graph.errors import GraphError
from chatcart.sandbox.graph.params import read_params
from chatcart.sandbox.graph.profile import lookup
from chatcart.sandbox.graph.send import (
    Outcome,
    authenticate,
    error_outcome,
    process_send,
    resolve_account,
)
from chatcart.sandbox.graph.state import GraphState


class GraphVersion(Convertor[str]):
    """`v19.0`, `v25.0`, ...: other first segments (e.g. `/_sandbox/`) never reach Graph."""

    regex = r"v[0-9]+\.0"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("graph_version", GraphVersion())


def _state(request: Request) -> GraphState:
    state: GraphState = request.app.state.graph
    return state


def respond(outcome: Outcome) -> Response:
    return JSONResponse(outcome.body, status_code=outcome.status, headers=outcome.headers)


def graph_error(request: Request, err: GraphError) -> Response:
    return respond(error_outcome(_state(request), err))


async def send_message(request: Request) -> Response:
    state = _state(request)
    node = request.path_params["node"]
    try:
        params, token = await read_params(request)
    except GraphError as err:
        outcome = error_outcome(state, err)
        state.record(
            account_id=None,
            platform=None,
            path=request.url.path,
            request={},
            accepted=False,
            http_status=outcome.status,
            error=outcome.body["error"],
            reason=err.reason,
        )
        return respond(outcome)
    return respond(
        process_send(state, node=node, params=params, token=token, path=request.url.path)
    )


async def get_node(request: Request) -> Response:
    try:
        params, token = await read_params(request)
        fields = params.get("fields")
        body = lookup(
            _state(request),
            request.path_params["node"],
            fields if isinstance(fields, str) else None,
            token,
        )
    except GraphError as err:
        return graph_error(request, err)
    return JSONResponse(body)


async def subscribed_apps(request: Request) -> Response:
    state = _state(request)
    try:
        params, token = await read_params(request)
        accounts = authenticate(state, token)
        account = resolve_account(state, accounts, request.path_params["node"], None, "post")
        if request.method == "GET":
            data: dict[str, Any] = {
                "id": account.app_id,
                "name": "chatcart",
                "subscribed_fields": account.subscribed_fields,
            }
            return JSONResponse({"data": [data] if account.subscribed_fields else []})
        raw = params.get("subscribed_fields")
        fields = raw if isinstance(raw, list) else str(raw or "").split(",")
        fields = [str(f).strip() for f in fields if str(f).strip()]
        if not fields:
            raise GraphError(100, "(#100) Param subscribed_fields is required")
        account.subscribed_fields = fields
    except GraphError as err:
        return graph_error(request, err)
    return JSONResponse({"success": True})


routes = [
    Route("/", batch, methods=["POST"]),
    Route("/{version:graph_version}", batch, methods=["POST"]),
    Route("/{version:graph_version}/", batch, methods=["POST"]),
    Route("/{version:graph_version}/{node}/messages", send_message, methods=["POST"]),
    Route(
        "/{version:graph_version}/{node}/subscribed_apps", subscribed_apps, methods=["GET", "POST"]
    ),
    Route("/{version:graph_version}/{node}", get_node, methods=["GET"]),
]
