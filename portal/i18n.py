"""Translations: compile the .po catalogs at start-up and find strings that lack one.

Message ids are English; `translations/zh_CN/LC_MESSAGES/*.po` hold the Chinese: messages.po
for the shared strings, and one file per feature area where that keeps work apart.
The compiled .mo files go to the data dir (generated, never committed), rebuilt whenever a
.po file is newer.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "translations"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}
SCANNED = ("app.py", "pages", "components", "callbacks", "api", "portal", "mining", "datasources")


def read_catalog(locale: str) -> Catalog:
    """Return the merged catalog of a locale: messages.po, then every other .po beside it.

    Each feature area may keep its translations in its own file (e.g. store.po) so that
    work on different areas does not edit one file; a later file wins on a duplicate id.
    """
    folder = SOURCE_DIR / locale / "LC_MESSAGES"
    paths = sorted(folder.glob("*.po"), key=lambda p: (p.name != "messages.po", p.name))
    merged = Catalog(locale=locale, fuzzy=False)
    for path in paths:
        with path.open("rb") as f:
            for message in read_po(f, locale=locale):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message
    return merged


def compile_catalogs(target: Path) -> Path:
    """Compile each locale's .po files under translations/ into one messages.mo in `target`."""
    for folder in SOURCE_DIR.glob("*/LC_MESSAGES"):
        locale = folder.parts[-2]
        sources = list(folder.glob("*.po"))
        if not sources:
            continue
        # Babel parses zh_CN as zh_Hans_CN, which gettext looks up as zh_Hans_CN, then zh.
        mo_path = target / locale.split("_")[0] / "LC_MESSAGES" / "messages.mo"
        newest = max(p.stat().st_mtime for p in sources)
        if mo_path.exists() and mo_path.stat().st_mtime >= newest:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo_path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            write_mo(f, read_catalog(locale))
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
    translated = {m.id for m in read_catalog(locale) if m.id}
    return {msgid: where for msgid, where in extract_messages().items() if msgid not in translated}
