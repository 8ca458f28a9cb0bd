"""Typed errors of the data layer and the API, raised deep and rendered once per surface.

OAuth protocol errors live in ``axiom_mcp.oauth.errors``; these are the rest.
"""

from __future__ import annotations


class AxiomError(Exception):
    """Base of every error this package raises on purpose."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(AxiomError):
    """The record does not exist, or belongs to someone else (never told apart)."""

    status_code = 404
    code = "not_found"


class ValidationFailed(AxiomError):
    """Input that names a field and says what is wrong with it."""

    status_code = 400
    code = "validation_failed"


class ConflictError(AxiomError):
    """The change would break a uniqueness rule (an email already taken, say)."""

    status_code = 409
    code = "conflict"


class NameTaken(ConflictError):
    """A name the person already gives another record of the kind (tag names are unique, in any case)."""

    def __init__(self, message: str, *, field: str, holder: str) -> None:
        super().__init__(message, field=field)
        self.holder = holder
        """The id of the record that has the name (a model may use it instead)."""


class AuthenticationFailed(AxiomError):
    """No credentials, or credentials that do not check out."""

    status_code = 401
    code = "unauthorized"


class PermissionDenied(AxiomError):
    """Authenticated, but the token lacks the scope this needs."""

    status_code = 403
    code = "insufficient_scope"

    def __init__(self, message: str, *, scope: str | None = None) -> None:
        super().__init__(message)
        self.scope = scope


class OutOfView(AxiomError):
    """The app's connection is restricted to a client profile, which does not allow this."""

    status_code = 403
    code = "out_of_view"


class RateLimited(AxiomError):
    """Too many attempts; try again later."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryTimedOut(AxiomError):
    """A read ran past ``settings.statement_timeout`` and was cancelled."""

    status_code = 503
    code = "query_timeout"

    def __init__(self) -> None:
        super().__init__("This search took too long. Narrow it down (fewer words, a filter) and try again.")
