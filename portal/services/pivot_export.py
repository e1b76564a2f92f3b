"""Shape a pivot result for people: row headers, value columns, Excel and CSV files.

The grid on the pivot page and the exports share these helpers, so a cell shows and exports
the same number. The Excel file keeps the pivot's shape: row header columns on the left,
column headers as merged rows on top, subtotal and total rows bold and shaded, numbers with
formats ('#,##0.00', '#,##0', '0.00%'). Text that a spreadsheet would run as a formula
(see `exports.safe_cell`) gets a leading quote.
"""

from __future__ import annotations

import csv
import io
import re

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from portal.services.exports import safe_cell

NUMBER_FORMATS = {
    "currency": "#,##0.00",
    "number": "#,##0.00",
    "count": "#,##0",
    "percent": "0.00%",
}
HEADER_FILL = PatternFill("solid", fgColor="DCE6F2")
SUBTOTAL_FILL = PatternFill("solid", fgColor="EEF3F9")
TOTAL_FILL = PatternFill("solid", fgColor="D9E2EE")
THIN = Side(style="thin", color="B8C4D2")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FIRST_HEADER_ROW = 3  # row 1: title, row 2: notes


def safe_text(value) -> str:
    """Return text a spreadsheet will not evaluate (see `exports.safe_cell`)."""
    return safe_cell("" if value is None else str(value))


def value_format(value: dict) -> str:
    """Return how a value column is formatted: currency, number, count or percent."""
    if value.get("metric"):
        return value.get("format") or "number"
    return "count" if value.get("agg") in ("count", "count_distinct") else "number"


def level_of(record: dict) -> str:
    """Return 'total', 'subtotal' or 'leaf' for a result row."""
    level = record.get("_level")
    if level == "total":
        return "total"
    return "leaf" if level == 0 else "subtotal"


def depth_of(result: dict, record: dict) -> int:
    """Return how many row fields a result row keeps (its keys)."""
    level = record.get("_level")
    if level == "total":
        return 0
    return len(result["rows"]) - int(level)


def _key_text(value) -> str:
    if value is None:
        return _("(blank)")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def row_header_labels(result: dict, record: dict) -> list[str]:
    """Return the row header texts of a result row (subtotal / total rows say so)."""
    rows = result["rows"]
    width = max(1, len(rows))
    if record.get("_level") == "total":
        return [_("Grand total")] + [""] * (width - 1)
    depth = depth_of(result, record)
    out = []
    for i, name in enumerate(rows):
        if i < depth:
            label = record.get(f"{name}_label")
            out.append(_key_text(label if label is not None else record.get(name)))
        else:
            out.append("")
    if depth < len(rows):  # a subtotal: its last kept key names what it sums
        out[depth - 1] = _("%(label)s subtotal", label=out[depth - 1]) if depth else ""
    return out or [""]


def row_header_names(result: dict) -> list[str]:
    """Return the names of the row header columns."""
    names = [result["fields"].get(name, name) for name in result["rows"]]
    return names or [""]


def value_columns(result: dict) -> list[dict]:
    """Return the value columns in grid order: each column key, then each value.

    Each is {"field": "v0_c1", "path": [column labels...], "value": label, "format",
    "total": bool, "column": header id, "index": value number}.
    """
    values = result["values"]
    out = []
    for header in result["header"]:
        if header.get("total"):
            path = [_("Total")] if result["columns"] else []
        else:
            path = [_key_text(x) for x in header["label"]]
        for k, value in enumerate(values):
            out.append(
                {
                    "field": f"v{k}_{header['id']}",
                    "path": path,
                    "value": value["label"],
                    "format": value_format(value),
                    "total": bool(header.get("total")),
                    "column": header["id"],
                    "index": k,
                }
            )
    return out


def _sheet_title(title: str) -> str:
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title or "").strip()
    return (cleaned or "Pivot")[:31]


def to_xlsx(result: dict, title: str, notes: list[str] | None = None) -> bytes:
    """Return an .xlsx workbook of the pivot in its shape (see the module docstring)."""
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(title)
    names = row_header_names(result)
    columns = value_columns(result)
    nrh, m, nv = len(names), len(result["columns"]), len(result["values"])
    value_row = nv > 1 or m == 0
    levels = m + (1 if value_row else 0)
    top = FIRST_HEADER_ROW
    first_value_col = nrh + 1

    ws.cell(row=1, column=1, value=safe_text(title)).font = Font(bold=True, size=13)
    lines = list(notes or [])
    if not value_row:
        lines.insert(0, _("Value: %(value)s", value=result["values"][0]["label"]))
    if result.get("notice"):
        lines.append(result["notice"])
    if lines:
        ws.cell(row=2, column=1, value=safe_text(" · ".join(lines))).font = Font(
            italic=True, color="555555"
        )

    def header_cell(row: int, col: int, text) -> None:
        cell = ws.cell(row=row, column=col, value=safe_text(text))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for i, name in enumerate(names):
        header_cell(top, i + 1, name)
        for r in range(top + 1, top + levels):
            header_cell(r, i + 1, "")
        if levels > 1:
            ws.merge_cells(
                start_row=top, start_column=i + 1, end_row=top + levels - 1, end_column=i + 1
            )
    # column header levels: one row per column field, merged over equal neighbours; the
    # total column's label spans every level
    for j in range(m):
        groups: list[list[int]] = []
        for c, col in enumerate(columns):
            key = (col["total"], tuple(col["path"][: j + 1]))
            if groups and groups[-1][0] == key and groups[-1][2] == c - 1:
                groups[-1][2] = c
            else:
                groups.append([key, c, c])
        for (total, path), first, last in groups:
            if total and j > 0:
                continue
            text = _("Total") if total else path[j]
            for cc in range(first, last + 1):
                header_cell(top + j, first_value_col + cc, text if cc == first else "")
                for r in range(top + j + 1, top + m) if total else ():
                    header_cell(r, first_value_col + cc, "")
            bottom = top + m - 1 if total else top + j
            if last > first or bottom > top + j:
                ws.merge_cells(
                    start_row=top + j,
                    start_column=first_value_col + first,
                    end_row=bottom,
                    end_column=first_value_col + last,
                )
    if value_row:
        for c, col in enumerate(columns):
            header_cell(top + levels - 1, first_value_col + c, col["value"])

    row = top + levels
    for record in result["data"]:
        kind = level_of(record)
        bold = kind != "leaf"
        fill = TOTAL_FILL if kind == "total" else SUBTOTAL_FILL if kind == "subtotal" else None
        for i, text in enumerate(row_header_labels(result, record)):
            cell = ws.cell(row=row, column=i + 1, value=safe_text(text))
            cell.border = BORDER
            if bold:
                cell.font = Font(bold=True)
            if fill:
                cell.fill = fill
        for c, col in enumerate(columns):
            value = record.get(col["field"])
            if isinstance(value, bool) or not isinstance(value, int | float):
                value = None if value is None else safe_text(value)
            cell = ws.cell(row=row, column=first_value_col + c, value=value)
            cell.number_format = NUMBER_FORMATS.get(col["format"], "#,##0.00")
            cell.border = BORDER
            if bold:
                cell.font = Font(bold=True)
            if fill:
                cell.fill = fill
        row += 1

    for i in range(nrh):
        ws.column_dimensions[get_column_letter(i + 1)].width = 18
    for c in range(len(columns)):
        ws.column_dimensions[get_column_letter(first_value_col + c)].width = 16
    ws.freeze_panes = ws.cell(row=top + levels, column=first_value_col)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_header(result: dict) -> list[str]:
    """Return the one header row of the CSV export."""
    cells = row_header_names(result)
    for col in value_columns(result):
        cells.append(" / ".join([*col["path"], col["value"]]))
    return cells


def to_csv(result: dict) -> bytes:
    """Return the pivot as CSV (UTF-8 with BOM, so Excel reads Chinese): one header row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_text(c) for c in csv_header(result)])
    columns = value_columns(result)
    for record in result["data"]:
        cells = [safe_text(t) for t in row_header_labels(result, record)]
        for col in columns:
            value = record.get(col["field"])
            if value is None:
                cells.append("")
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cells.append(repr(value) if isinstance(value, float) else str(value))
            else:
                cells.append(safe_text(value))
        writer.writerow(cells)
    return out.getvalue().encode("utf-8-sig")
