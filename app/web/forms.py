"""Reading HTML form values."""

from __future__ import annotations

from datetime import date

from app.i18n import translate
from app.services.errors import DomainError
from app.services.validation import field_messages


def parse_form_date(raw: str) -> date | None:
    """An ISO date typed in a form, or None when it is not one."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def form_errors(locale: str, exc: DomainError, prefix: str = "") -> dict[str, str]:
    """What a form shows for ``exc``: each field's message next to it (keys ``prefix`` +
    field), and the summary for the form as a whole (``_form``, announced as an alert)."""
    errors = {
        prefix + name: translate(locale, message, **params)
        for name, (message, params) in field_messages(exc).items()
    }
    errors[prefix + "_form"] = translate(locale, exc.message, **exc.params)
    return errors
