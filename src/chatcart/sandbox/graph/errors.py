"""Graph API errors in Meta's envelope (platforms.md 1.2, 2.9).

Every error body is `{"error": {"message", "type", "code", "error_subcode"?, "fbtrace_id"}}`.
HTTP status: 400 for everything (1.2: "Fake servers: default 400"); token errors (104/190) use
`GraphConfig.auth_error_status`, 400 by default, settable to 401.

`reason` never leaves the sandbox in the Graph body: it is the sandbox's own explanation (which
rule, which platforms.md section) and is written to the send log so a blocked message names the
rule that stopped it (DESIGN.md §6).
"""

from __future__ import annotations

import secrets
from typing import Any

AUTH_CODES = frozenset({104, 190})


def new_fbtrace_id() -> str:
    return secrets.token_urlsafe(8)


class GraphError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type_: str = "OAuthException",
        reason: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.type = type_
        self.reason = reason or message

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    @property
    def is_auth(self) -> bool:
        return self.code in AUTH_CODES


# ---- constructors, one per documented failure -------------------------------------------


def invalid_parameter(detail: str = "Invalid parameter", *, reason: str = "") -> GraphError:
    """Code 100: invalid parameter (2.9 [V])."""
    return GraphError(100, f"(#100) {detail}", reason=reason)


def no_matching_user(reason: str = "") -> GraphError:
    """100/2018001: bad PSID or a PSID of another Page (2.9 [S])."""
    return GraphError(100, "(#100) No matching user found", subcode=2018001, reason=reason)


def unknown_object(node: str, method: str) -> GraphError:
    """100/33: Graph's answer for an id that does not exist or the token cannot see [U]."""
    return GraphError(
        100,
        f"Unsupported {method} request. Object with ID '{node}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        type_="GraphMethodException",
    )


def unknown_path(path: str) -> GraphError:
    """2500: a path Graph does not know [U]."""
    return GraphError(2500, f"Unknown path components: {path}")


def token_missing() -> GraphError:
    """104: no access token at all [U]; 190 is for a token that is present but bad."""
    return GraphError(104, "An access token is required to request this resource.")


def token_invalid() -> GraphError:
    """190: unknown token (2.9 [V], checklist 2.11 #1)."""
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def token_revoked() -> GraphError:
    """190/460: a token that was valid and has been invalidated [U subcode]."""
    return GraphError(
        190,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
        subcode=460,
    )


def outside_window(*, instagram: bool, reason: str) -> GraphError:
    """10/2018278 (Messenger) or 10/2534022 (Instagram) (2.2, 2.9, 3)."""
    return GraphError(
        10,
        "(#10) This message is sent outside of allowed window.",
        subcode=2534022 if instagram else 2018278,
        reason=reason,
    )


def permission_denied(detail: str, *, reason: str = "") -> GraphError:
    """200: permissions error (e.g. HUMAN_AGENT without the feature) [U exact code]."""
    return GraphError(200, f"(#200) {detail}", reason=reason)


def rate_limited(reason: str) -> GraphError:
    """613 (1.3, 2.10)."""
    return GraphError(613, "(#613) Calls to this api have exceeded the rate limit.", reason=reason)


def person_unavailable() -> GraphError:
    """551 (+ subcode 1545041) (2.9 [V/S])."""
    return GraphError(
        551,
        "(#551) This person isn't available right now.",
        subcode=1545041,
        reason="the user is marked unavailable (blocked the Page or deactivated)",
    )
