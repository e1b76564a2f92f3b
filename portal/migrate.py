"""Run the portal store's Alembic migrations with a URL given in code, not in an ini file.

python -m portal.migrate upgrade            # URL from PORTAL_DATABASE_URL / defaults
python -m portal.migrate revision -m "add comments"   # autogenerate against the models
python -m portal.migrate current
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal.db import create_store_engine, normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Build an Alembic configuration for the store at `database_url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Kept out of the main options: configparser would choke on '%' in encoded passwords.
    config.attributes["database_url"] = normalize_url(database_url)
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Migrate the store up to `revision` (the latest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the store down to `revision` ('base' drops every table)."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """Return the latest revision in `migrations/versions` (heads joined by ',' if several)."""
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    return ",".join(sorted(heads)) or None


def current_revision(database_url: str) -> str | None:
    """Return the revision the store is at, or None if it has never been migrated."""
    engine = create_store_engine(database_url)
    try:
        with engine.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
            return ",".join(sorted(heads)) or None
    finally:
        engine.dispose()


def make_revision(database_url: str, message: str, autogenerate: bool = True) -> None:
    """Write a new migration numbered after the head, diffing the models against the store."""
    head = head_revision()
    numbers = [int(h) for h in (head or "").split(",") if h.isdigit()]
    rev_id = f"{max(numbers) + 1:04d}" if numbers else None
    command.revision(
        alembic_config(database_url), message=message, autogenerate=autogenerate, rev_id=rev_id
    )


def main(argv: list[str] | None = None) -> int:
    """Run `upgrade`, `downgrade`, `revision` or `current` from the command line."""
    parser = argparse.ArgumentParser(prog="python -m portal.migrate")
    parser.add_argument("action", choices=["upgrade", "downgrade", "revision", "current"])
    parser.add_argument("revision", nargs="?", default=None)
    parser.add_argument("--url", help="database URL (default: from PORTAL_* settings)")
    parser.add_argument("-m", "--message", default="change")
    args = parser.parse_args(argv)
    if args.url:
        url = args.url
    else:
        from config import load_settings

        url = load_settings().database_url
    if args.action == "upgrade":
        upgrade(url, args.revision or "heads")
    elif args.action == "downgrade":
        downgrade(url, args.revision or "-1")
    elif args.action == "revision":
        make_revision(url, args.message)
    else:
        print(current_revision(url) or "(none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
