"""Refresh the catalogs after a change, without rewrapping what is already there.

    .venv/bin/python tools/translate.py [additions.json]

Re-extracts ``app/translations/messages.pot`` (same keywords as ``make messages``), drops from
the French and English catalogs the entries no longer in the source, adds the new ones (English
empty: the msgid is the English text), and takes French translations from the optional JSON
file: ``{"msgid": "traduction"}``; for a plural, key ``"singular|plural"`` and a list of two
French forms. Prints the msgids still without a French translation and exits 1 if any.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
POT = TRANSLATIONS / "messages.pot"


def _keywords() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(x for x in makefile.splitlines() if x.startswith("BABEL_KEYWORDS"))
    return re.findall(r"-k (\S+)", line)


def extract() -> None:
    args = [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg"]
    args += ["-o", str(POT), "--no-location", "--omit-header", "--sort-output"]
    for keyword in _keywords():
        args += ["-k", keyword]
    subprocess.run([*args, "."], cwd=ROOT, check=True, capture_output=True)  # noqa: S603


def _read(path: Path, locale: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _key(msgid: str | tuple[str, ...]) -> str:
    return "|".join(msgid) if isinstance(msgid, tuple) else msgid


def main() -> int:
    additions = {}
    if len(sys.argv) > 1:
        additions = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    extract()
    template = _read(POT, "en")
    wanted = {_key(m.id): m for m in template if m.id}
    missing: list[str] = []
    for locale, width, header in (("fr", 100, True), ("en", 76, False)):
        path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
        catalog = _read(path, locale)
        for message in list(catalog):
            if message.id and _key(message.id) not in wanted:
                catalog.delete(message.id, context=message.context)
        for key, source in wanted.items():
            existing = catalog.get(source.id, context=source.context)
            if existing is None:
                plural = isinstance(source.id, tuple)
                catalog.add(
                    source.id,
                    ("", "") if plural else "",
                    flags=source.flags,
                    context=source.context,
                )
                existing = catalog.get(source.id, context=source.context)
            if locale == "fr" and key in additions:
                value = additions[key]
                existing.string = tuple(value) if isinstance(value, list) else value
            if locale == "fr":
                value = existing.string
                if not all(value if isinstance(value, tuple) else (value,)):
                    missing.append(key)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=width, omit_header=not header, sort_output=True)
    for key in missing:
        print(f"untranslated: {key}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
