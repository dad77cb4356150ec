"""Every user-facing string has a French translation; placeholders survive translation."""

from __future__ import annotations

import re

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.config import PROJECT_ROOT
from app.i18n import TRANSLATIONS_DIR, translate


def _domain_error_names() -> set[str]:
    from app.services.errors import DomainError
    from app.web.csrf import CsrfError

    names, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return names | {CsrfError.__name__}


KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "translate": (2,),
    "NotFound": None,
    "Forbidden": None,
    "Conflict": None,
    "InvalidInput": None,
    "TooManyRequests": None,
    "Unauthenticated": None,
    "CsrfError": None,
    "DomainError": None,
}
KEYWORDS.update(dict.fromkeys(_domain_error_names()))
METHOD_MAP = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
OPTIONS = {"app/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _source_messages() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(PROJECT_ROOT), METHOD_MAP, OPTIONS, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_has_a_french_translation() -> None:
    with (TRANSLATIONS_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(_source_messages() - translated)
    assert not missing, "run `make messages` and translate: " + "\n".join(missing)


def test_placeholders_are_kept_in_french() -> None:
    with (TRANSLATIONS_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    pattern = re.compile(r"%\(\w+\)s|\{\w+\}")
    for message in catalog:
        if message.id and isinstance(message.id, str) and message.string:
            assert sorted(pattern.findall(message.id)) == sorted(pattern.findall(message.string)), (
                message.id
            )


def test_translate_formats_parameters() -> None:
    assert translate("fr", "The password must have at least {n} characters.", n=10) == (
        "Le mot de passe doit comporter au moins 10 caractères."
    )
    assert translate("en", "Wrong email or password.") == "Wrong email or password."


def test_makefile_extracts_every_domain_error() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    keywords = set(re.findall(r"-k (\w+)", makefile))
    missing = sorted(_domain_error_names() - keywords)
    assert not missing, f"add to the Makefile's BABEL_KEYWORDS: {missing}"
