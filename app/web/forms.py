"""Reading HTML form values."""

from __future__ import annotations

from datetime import date


def parse_form_date(raw: str) -> date | None:
    """An ISO date typed in a form, or None when it is not one."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None
