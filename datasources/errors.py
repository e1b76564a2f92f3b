"""Errors of the query builders: a translated message, a stable code and its parameters."""

from __future__ import annotations


class QueryError(ValueError):
    """A request the data layer cannot answer; the message says why, `code` is for clients."""

    default_code = "invalid_query"

    def __init__(self, message: str, code: str | None = None, **params):
        super().__init__(message)
        self.code = code or self.default_code
        self.params = params
