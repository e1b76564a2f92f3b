"""Every visible string has a Chinese translation (SPEC §7.5)."""

from portal.i18n import compile_catalogs, missing_translations


def test_every_message_has_a_chinese_translation():
    missing = missing_translations("zh_CN")
    assert not missing, "untranslated (run `make translations`, then translate): " + "; ".join(
        f"{msgid!r} at {where[0]}" for msgid, where in missing.items()
    )


def test_catalogs_compile(tmp_path):
    target = compile_catalogs(tmp_path)
    assert (target / "zh" / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
