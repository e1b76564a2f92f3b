"""Domain errors raised by services and turned into 404 / 403 / 422 / alerts by adapters.

Each error carries a message already translated into the current user's language (services
call `gettext` when they raise) plus a stable machine-readable `code` for API clients.
"""

from __future__ import annotations


class PortalError(Exception):
    """Base of the domain errors."""

    status = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(PortalError):
    status = 404
    code = "not_found"


class Forbidden(PortalError):
    status = 403
    code = "forbidden"


class Unauthorized(PortalError):
    status = 401
    code = "unauthorized"


class Invalid(PortalError):
    status = 422
    code = "invalid"


class Unavailable(PortalError):
    """A backing service (warehouse, cache) cannot be reached."""

    status = 503
    code = "unavailable"


class TooManyAttempts(Invalid):
    """Too many failed attempts: the account or client is locked out for a while."""

    status = 429
    code = "too_many_attempts"
