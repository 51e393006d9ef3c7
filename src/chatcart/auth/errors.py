from __future__ import annotations

from chatcart.kit.errors import Conflict, NotAuthenticated, TooManyRequests


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class EmailTaken(Conflict):
    code = "email_taken"


class LoginThrottled(TooManyRequests):
    code = "login_throttled"
