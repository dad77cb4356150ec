"""The rules of accounts, each in one place: how long an address and a password may be, what
a password needs, which languages a person may choose.

Passwords follow OWASP ASVS 4.0.3 (2.1.1-2.1.9): at least 12 characters, at most 128, no
composition rules, and refused when guessable: zxcvbn (a maintained estimator of guessing
effort, with common passwords, names, words, dates and keyboard patterns) must score 3 or more.
Its reason is shown next to the field, translated.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from zxcvbn import zxcvbn

from app.i18n import LOCALES, N_
from app.services.people.password_feedback import reason
from app.services.validation import Collector, FieldErrors

if TYPE_CHECKING:
    from app.models import User

EMAIL_MAX = 254  # RFC 5321's limit for a forward path
PASSWORD_MAX = 1024  # what a form may send; longer than any password we keep
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MIN_PASSWORD_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline attacks"
LANGUAGES = LOCALES

PASSWORD_TOO_SHORT = N_("The password must have at least {n} characters.")
PASSWORD_TOO_LONG = N_("The password may have at most {n} characters.")
PASSWORDS_DIFFER = N_("The two passwords differ.")


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


def check_new_password(password: str, confirm: str, *, personal: Sequence[str] = ()) -> None:
    """A password chosen by its owner: :func:`check_password`, and typed twice alike
    (FieldErrors on ``password`` or ``confirm``)."""
    errors = Collector()
    errors.check("password", lambda: check_password(password, personal=personal))
    if "password" not in errors and password != confirm:
        errors.add("confirm", PASSWORDS_DIFFER)
    errors.raise_if_any()


class AccountStatus(enum.Enum):
    """Where an account stands, as the users page shows it."""

    NEW = "new"  # created, no password, never invited nor signed in
    INVITED = "invited"  # invited, not signed in yet
    ACTIVE = "active"  # has a password or has signed in
    DEACTIVATED = "deactivated"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    AccountStatus.NEW: N_("not invited yet"),
    AccountStatus.INVITED: N_("invited"),
    AccountStatus.ACTIVE: N_("active"),
    AccountStatus.DEACTIVATED: N_("deactivated"),
}


def account_status(user: User) -> AccountStatus:
    if not user.is_active:
        return AccountStatus.DEACTIVATED
    if user.password_hash is not None or user.last_login_at is not None:
        return AccountStatus.ACTIVE
    if user.invited_at is not None:
        return AccountStatus.INVITED
    return AccountStatus.NEW


HAS_PASSWORD = N_("This person already has a password: they can reset it from the sign-in page.")
DEACTIVATED = N_("This account is deactivated.")


def invitation_blocker(user: User) -> str | None:
    """Why ``user`` cannot be invited to choose a password (a msgid), or None if they can:
    only an active account without a password may be."""
    if not user.is_active:
        return DEACTIVATED
    if user.password_hash is not None:
        return HAS_PASSWORD
    return None
