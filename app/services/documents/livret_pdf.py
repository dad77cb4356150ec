"""Render a :class:`~app.services.documents.livret.LivretDocument` as an A4 PDF with WeasyPrint.

Rendering is pure: it reads the document's already-loaded values and never touches the
database. The HTML comes from ``templates/documents/livret.html`` through the shared Jinja
environment (:mod:`app.web.templating`), in the locale given. WeasyPrint
may fetch nothing but ``data:`` URLs: the document references no outside resource.
"""

from __future__ import annotations

import re
import unicodedata

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from app.i18n import DEFAULT_LOCALE, LOCALES
from app.services.documents.livret import LivretDocument
from app.web.templating import environment

TEMPLATE = "documents/livret.html"


def render_html(document: LivretDocument, locale: str = DEFAULT_LOCALE) -> str:
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    return environment(html=True).get_template(TEMPLATE).render(doc=document, locale=locale)


def render_pdf(document: LivretDocument, locale: str = DEFAULT_LOCALE) -> bytes:
    """The livret as PDF bytes: A4, selectable text, title/author/language metadata."""
    html = HTML(
        string=render_html(document, locale),
        url_fetcher=URLFetcher(allowed_protocols={"data"}),
    )
    pdf: bytes = html.write_pdf()
    return pdf


def filename(document: LivretDocument) -> str:
    """``livret-rncp39303-alice-apprentie-12.pdf`` (12: the apprenticeship id): ASCII, safe
    in a Content-Disposition header and on any file system."""
    appr = document.apprenticeship
    ascii_name = (
        unicodedata.normalize("NFKD", appr.apprentice.full_name)
        .encode("ascii", "ignore")
        .decode()
        .lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:60] or "apprentice"
    rncp = document.referential.rncp_code.lower()
    return f"livret-{rncp}-{slug}-{appr.id}.pdf"
