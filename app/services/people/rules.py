"""The rules of accounts, each in one place: how long an address and a password may be, what
a password needs, which languages a person may choose.

Passwords follow OWASP ASVS 4.0.3 (2.1.1-2.1.9): at least 12 characters, at most 128, no
composition rules, and refused when guessable: zxcvbn (a maintained estimator of guessing
effort, with common passwords, names, words, dates and keyboard patterns) must score 3 or more.
Its reason is shown next to the field, translated.
"""

from __future__ import annotations

from collections.abc import Sequence

from zxcvbn import zxcvbn

from app.i18n import LOCALES, N_
from app.services.people.password_feedback import reason
from app.services.validation import FieldErrors

EMAIL_MAX = 254  # RFC 5321's limit for a forward path
PASSWORD_MAX = 1024  # what a form may send; longer than any password we keep
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_PASSWORD_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline attacks"
LANGUAGES = LOCALES

PASSWORD_TOO_SHORT = N_("The password must have at least {n} characters.")
PASSWORD_TOO_LONG = N_("The password may have at most {n} characters.")


def check_password(password: str, field: str = "password", *, personal: Sequence[str] = ()) -> None:
    """Refuse a password too short, too long or too easy to guess (FieldErrors naming
    ``field``). ``personal`` holds what the password must not lean on (the person's name and
    address)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldErrors.single(field, PASSWORD_TOO_SHORT, n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise FieldErrors.single(field, PASSWORD_TOO_LONG, n=MAX_PASSWORD_LENGTH)
    estimate = zxcvbn(password, user_inputs=[p for p in personal if p])
    if estimate["score"] < MIN_PASSWORD_SCORE:
        feedback = estimate["feedback"]
        raise FieldErrors.single(field, reason(feedback["warning"], feedback["suggestions"]))
