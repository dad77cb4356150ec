"""Translations: gettext catalogs under ``app/translations/<locale>/LC_MESSAGES/messages.po``.

Message ids are English; French is the default locale. Catalogs are compiled in memory from the
.po files at start-up, so there is no build artefact to forget.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it here."""
    return message


@cache
def get_translations(locale: str) -> NullTranslations:
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def translate(locale: str, message: str, **params: Any) -> str:
    text = get_translations(locale).gettext(message)
    return text.format(**params) if params else text


def pick_locale(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate in LOCALES:
            return candidate
    return DEFAULT_LOCALE


def locale_from_accept_language(header: str | None) -> str | None:
    if not header:
        return None
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LOCALES:
            return tag
    return None
