"""Refresh translations/zh_CN/LC_MESSAGES/messages.po from the code (`make translations`).

Ids translated in another .po file of the locale (a feature area's own) are left there.

New message ids are added untranslated (the i18n test then fails until someone translates
them); ids no longer used are dropped; existing translations are kept.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from portal.i18n import SOURCE_DIR, extract_messages, read_catalog  # noqa: E402


def main() -> int:
    po_path = SOURCE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po"
    old = {}
    if po_path.exists():
        with po_path.open("rb") as f:
            old = {m.id: m.string for m in read_po(f, locale="zh_CN") if m.id}
    elsewhere = {m.id for m in read_catalog("zh_CN") if m.id} - set(old)
    catalog = Catalog(locale="zh_CN", project="bank-data-portal", fuzzy=False)
    for msgid, where in sorted(extract_messages().items()):
        if msgid in elsewhere:
            continue  # translated in a feature area's own .po file
        locations = [(w.rsplit(":", 1)[0], int(w.rsplit(":", 1)[1])) for w in where]
        catalog.add(msgid, old.get(msgid, ""), locations=locations)
    po_path.parent.mkdir(parents=True, exist_ok=True)
    with po_path.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{po_path}: {len(catalog) - 1} messages, {len(missing)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
