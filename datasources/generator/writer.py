"""Bulk-load generated columns into a DuckDB file, atomically.

This is the one place that writes SQL to the warehouse: each table is handed to DuckDB as
an Arrow table and materialised with `CREATE TABLE ... AS SELECT` and explicit casts to the
contract types of `datasources.schema.TABLES`.

Loading runs on a background thread (DuckDB releases the GIL), so numpy can generate the
next table while DuckDB compresses and writes the previous one. Tables are written in the
order they are submitted; an error on the thread is raised by the next `write` or `commit`.
"""

from __future__ import annotations

import os
import queue
import threading

import duckdb
import numpy as np
import pyarrow as pa

from datasources.schema import TABLES

SQL_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}
_STOP = object()


def _arrow(values) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return pa.array(arr.astype("datetime64[D]"), pa.date32())
    return pa.array(arr)


def create_table_sql(table: str, source: str) -> str:
    select = ", ".join(
        f'CAST("{name}" AS {SQL_TYPES[kind]}) AS "{name}"' for name, kind in TABLES[table].items()
    )
    return f'CREATE TABLE "{table}" AS SELECT {select} FROM {source}'


class WarehouseWriter:
    """Writes tables into `path + '.tmp'`; `commit()` moves the finished file onto `path`."""

    def __init__(self, path: str | os.PathLike, background: bool = True):
        self.path = os.fspath(path)
        self.tmp = self.path + ".tmp"
        self._remove(self.tmp, self.tmp + ".wal")
        self.con = duckdb.connect(self.tmp)
        self.con.execute("SET enable_progress_bar = false")
        self.rows: dict[str, int] = {}
        self._error: BaseException | None = None
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._queue = queue.Queue(maxsize=2)  # bounds the tables held in memory
            self._thread = threading.Thread(target=self._run, name="warehouse-writer", daemon=True)
            self._thread.start()

    @staticmethod
    def _remove(*paths: str) -> None:
        for p in paths:
            if os.path.exists(p):
                os.remove(p)

    def write(self, table: str, columns: dict) -> None:
        """Queue (or, without a background thread, load) one table."""
        if list(columns) != list(TABLES[table]):
            raise ValueError(f"{table}: columns {list(columns)} != schema {list(TABLES[table])}")
        self._raise()
        if self._queue is None:
            self._load(table, columns)
        else:
            self._queue.put((table, columns))

    def _load(self, table: str, columns: dict) -> None:
        arrow = pa.table({name: _arrow(values) for name, values in columns.items()})
        self.con.register("_generated", arrow)
        try:
            self.con.execute(create_table_sql(table, "_generated"))
        finally:
            self.con.unregister("_generated")
        self.rows[table] = arrow.num_rows

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._error is None:
                try:
                    self._load(*item)
                except BaseException as exc:  # handed to the main thread
                    self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _finish(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def build_rollups(self) -> None:
        """Wait for queued tables, then build the monthly summary tables (DWS) from the facts."""
        import ibis

        from datasources.pivot_rollup import build_rollups

        self._finish()
        self._raise()
        self.rows.update(build_rollups(ibis.duckdb.from_connection(self.con)))

    def commit(self) -> dict[str, int]:
        """Wait for queued tables, checkpoint, and move the file into place."""
        self._finish()
        self._raise()
        self.con.execute("CHECKPOINT")
        self.con.close()
        self._remove(self.path + ".wal")  # a stale log must not replay onto the new file
        os.replace(self.tmp, self.path)
        return dict(self.rows)

    def abort(self) -> None:
        try:
            if self._thread is not None:
                # Drop what is still queued so the thread can stop.
                while True:
                    try:
                        self._queue.get_nowait()
                    except queue.Empty:
                        break
                self._finish()
            self.con.close()
        finally:
            self._remove(self.tmp, self.tmp + ".wal")
