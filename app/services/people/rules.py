"""The rules of accounts, each in one place: how long an address and a password may be, what
a password needs, which languages a person may choose."""

from __future__ import annotations

from app.i18n import LOCALES, N_
from app.services.validation import FieldErrors

EMAIL_MAX = 254  # RFC 5321's limit for a forward path
PASSWORD_MAX = 1024
MIN_PASSWORD_LENGTH = 10
LANGUAGES = LOCALES

PASSWORD_TOO_SHORT = N_("The password must have at least {n} characters.")


def check_password(password: str, field: str = "password") -> None:
    """Refuse a password too weak to keep (FieldErrors naming ``field``)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldErrors.single(field, PASSWORD_TOO_SHORT, n=MIN_PASSWORD_LENGTH)
