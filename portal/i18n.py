"""Translations: compile the .po catalogs at start-up and find strings that lack one.

Message ids are English; `translations/zh_CN/LC_MESSAGES/messages.po` holds the Chinese.
The compiled .mo files go to the data dir (generated, never committed), rebuilt whenever a
.po file is newer.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "translations"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
SCANNED = ("app.py", "pages", "components", "callbacks", "api", "portal", "mining", "datasources")


def compile_catalogs(target: Path) -> Path:
    """Compile every .po under translations/ into `target`; return `target`."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/*.po"):
        locale = po_path.parts[-3]
        # Babel parses zh_CN as zh_Hans_CN, which gettext looks up as zh_Hans_CN, then zh.
        mo_path = target / locale.split("_")[0] / "LC_MESSAGES" / po_path.with_suffix(".mo").name
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=locale)
        tmp = mo_path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog)
        tmp.replace(mo_path)
    return target


def extract_messages() -> dict[str, list[str]]:
    """Return every translatable message id in the code, with where it appears."""
    found: dict[str, list[str]] = {}
    for part in SCANNED:
        path = ROOT / part
        if path.is_file():
            entries = ((path.name, *m) for m in _extract_file(path))
        else:
            entries = extract_from_dir(
                str(path), method_map=[("**.py", "python")], keywords=KEYWORDS
            )
        for filename, lineno, message, _comments, _context in entries:
            msgid = message[0] if isinstance(message, tuple) else message
            found.setdefault(msgid, []).append(f"{part}/{filename}:{lineno}")
    for template in sorted(ROOT.glob("*/templates/*.html")):
        with template.open("rb") as f:
            for lineno, _func, message, _comments in babel_extract(f, KEYWORDS.keys(), [], {}):
                msgid = message[0] if isinstance(message, tuple) else message
                found.setdefault(msgid, []).append(f"{template.relative_to(ROOT)}:{lineno}")
    return found


def _extract_file(path: Path):
    from babel.messages.extract import extract

    with path.open("rb") as f:
        yield from extract("python", f, keywords=KEYWORDS)


def missing_translations(locale: str = "zh_CN") -> dict[str, list[str]]:
    """Return message ids used in the code that have no translation in `locale`."""
    po_path = SOURCE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    return {msgid: where for msgid, where in extract_messages().items() if msgid not in translated}
