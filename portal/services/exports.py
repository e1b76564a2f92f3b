"""Export tables to CSV and Excel safely: every text cell is neutralised against formula
injection (CSV injection, OWASP), on import of user files and on every export.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return would be run as a
formula by Excel or WPS (`=cmd|' /C calc'!A0`); `safe_cell` prefixes such a cell with a
single quote, which spreadsheets show as text. Numbers stay numbers.

`to_csv(frame)` returns UTF-8 with a byte-order mark (Excel in China opens it correctly),
`to_xlsx(frame)` an .xlsx workbook; `send_frame(frame, name, fmt)` wraps either for
`dcc.Download`.
"""

from __future__ import annotations

import datetime
import io
import math
import re

import pandas as pd
from dash import dcc

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
MAX_XLSX_ROWS = 1_048_575  # one row is the header
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters openpyxl refuses
FORMATS = ("csv", "xlsx")


def safe_cell(value):
    """Return the value, with a quote before text that a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with every text cell and column name made safe (numbers unchanged)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[column] = series.map(safe_cell, na_action="ignore")
    out.columns = [safe_cell(str(c)) for c in out.columns]
    return out


def _plain(value):
    """Return a value openpyxl can write: no NaN, no control characters, naive datetimes."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if isinstance(value, str):
        return _ILLEGAL_XLSX.sub("", value)
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return value.item()
    return value


def to_csv(frame: pd.DataFrame) -> bytes:
    """Return the table as CSV bytes (UTF-8 with BOM), formula cells neutralised."""
    return neutralise(frame).to_csv(index=False).encode("utf-8-sig")


def to_xlsx(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """Return the table as an .xlsx workbook, formula cells neutralised; every cell is a
    value (openpyxl would write text starting with `=` as a formula, hence the quote)."""
    from openpyxl import Workbook

    safe = neutralise(frame.head(MAX_XLSX_ROWS))
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31] or "data")
    ws.append([_plain(c) for c in safe.columns])
    for row in safe.itertuples(index=False, name=None):
        ws.append([_plain(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "xlsx":
        return to_xlsx(frame)
    if fmt == "csv":
        return to_csv(frame)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {FORMATS}")


def safe_filename(name: str, default: str = "export") -> str:
    """Return a file name without path separators or control characters."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", str(name or "")).strip(" ._")
    return cleaned[:120] or default


def send_frame(frame: pd.DataFrame, name: str, fmt: str = "csv") -> dict:
    """Return a `dcc.Download` payload of the table as `<name>.<fmt>`."""
    data = export_bytes(frame, fmt)
    return dcc.send_bytes(data, f"{safe_filename(name)}.{fmt}")
