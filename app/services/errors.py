"""Domain errors. Messages are English msgids, translated when rendered (see app.i18n)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    title = "Bad request"
    # Keep what the operation wrote before failing (failure records, audit), instead of
    # rolling back. Only for errors raised before any change of business data.
    commit_writes = False

    def __init__(
        self, message: str, *, field_errors: dict[str, str] | None = None, **params: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.params = params
        self.field_errors = field_errors or {}


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class InvalidInput(DomainError):
    status_code = 422
    title = "Invalid input"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"


class Unauthenticated(DomainError):
    status_code = 401
    title = "Authentication required"


class ContentTooLarge(DomainError):
    status_code = 413
    title = "Content too large"


class ServiceUnavailable(DomainError):
    """A dependency (the database, the file store, the mail server) cannot do its part now."""

    status_code = 503
    title = "Service unavailable"


class CredentialsRejected(Unauthenticated):
    """Wrong credentials: the failure record and its audit event are kept."""

    commit_writes = True


class ReauthenticationFailed(Forbidden):
    """A wrong password when re-authenticating to sign: the failure is kept."""

    commit_writes = True
