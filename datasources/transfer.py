"""Copy the warehouse's tables from one Ibis backend to another (e.g. DuckDB to PostgreSQL).

Used to load the demo warehouse into a server database, and by the parity tests that check
DuckDB and PostgreSQL give the same answers.
"""

from __future__ import annotations

import logging

import ibis

from datasources.schema import TABLES

log = logging.getLogger(__name__)


def copy_warehouse(
    source_url: str, target_url: str, tables: list[str] | None = None
) -> dict[str, int]:
    """Copy each warehouse table from source to target, replacing it; return rows per table."""
    if source_url.startswith("duckdb://"):
        source = ibis.duckdb.connect(source_url[len("duckdb://") :], read_only=True)
    else:
        source = ibis.connect(source_url)
    target = ibis.connect(target_url)
    counts = {}
    try:
        for name in tables or list(TABLES):
            data = source.table(name).to_pyarrow()
            target.create_table(name, data, overwrite=True)
            counts[name] = data.num_rows
            log.info("copied %s: %d rows", name, data.num_rows)
    finally:
        for con in (source, target):
            disconnect = getattr(con, "disconnect", None)
            if disconnect:
                disconnect()
    return counts
