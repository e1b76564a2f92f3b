"""Bring your own data (Excel 融合分析, SPEC §4.5): upload a CSV or Excel file as a private
dataset, join it to warehouse customers, and mine it like the warehouse scenarios.

- `parse_upload(name, raw)` reads CSV (encoding UTF-8, UTF-8 with BOM or GBK/GB18030;
  separator comma, semicolon, tab or pipe) or .xlsx, checks it (size, empty, ragged rows,
  binary junk), infers each column's type and neutralises formula cells. Every problem is an
  `UploadError` with a translated one-line message; nothing is stored then.
- `save_upload(...)` stores the table as Parquet under `<data_dir>/uploads/<key>.parquet`
  (written to a temporary file and renamed) and records a Resource of type "upload" owned
  by the user, with the columns, types, row count and file name in its spec.
- `join_warehouse(...)` adds warehouse attributes of the customers on a key column, through
  the user's scoped tables (row scope and masking apply; PII columns are never added).
- `mine_table(...)` runs the default pipeline with cross-validation: AUC per fold,
  out-of-fold lift and calibration, permutation importance and a scored list.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Resource
from portal.services.audit import record_event
from portal.services.exports import FORMULA_PREFIXES, safe_cell
from portal.services.grants import granted_keys, has_permission

DEFAULT_MAX_MB = 20
MAX_COLUMNS = 500
MAX_MINING_ROWS = 100_000  # rows cross-validated at most (a random sample above it)
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
TYPES = ("integer", "number", "boolean", "date", "text")
TRUE_WORDS = {"true", "yes", "y", "t", "是"}
FALSE_WORDS = {"false", "no", "n", "f", "否"}
_DATE_LIKE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?([ T]\d{1,2}:\d{2}(:\d{2})?)?$")
WAREHOUSE_PREFIX = "wh_"
WAREHOUSE_COLUMNS = ("segment", "age_band", "gender", "occupation", "risk_grade", "is_payroll")
WAREHOUSE_BALANCES = ("deposit_balance", "deposit_avg_daily_year", "wealth_balance", "n_products")


class UploadError(Invalid):
    """The file cannot be used as uploaded; the message (translated) says why."""

    code = "upload_invalid"


# -- settings --------------------------------------------------------------------------------------
def max_upload_bytes() -> int:
    """Return the largest upload accepted, from PORTAL_UPLOAD_MAX_MB (default 20 MB)."""
    return int(current_app.config["PORTAL_SETTINGS"].upload_max_mb * 1024 * 1024)


def uploads_dir() -> Path:
    return Path(current_app.config["PORTAL_SETTINGS"].data_dir) / "uploads"


# -- reading files ---------------------------------------------------------------------------------
def _decode(raw: bytes, name: str) -> tuple[str, str]:
    """Return (text, encoding name) of a CSV file's bytes; refuse binary files."""
    if raw.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    if b"\x00" in raw[:65536] and encodings != ["utf-16"]:
        raise UploadError(_("%(file)s is not a text (CSV) or Excel file.", file=name))
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\r\n\t")
        if controls > max(2, len(text[:65536]) // 200):
            break  # decodes, but is binary junk
        label = {"utf-8-sig": "UTF-8 BOM", "utf-8": "UTF-8", "gb18030": "GBK/GB18030"}
        return text, label.get(encoding, encoding.upper())
    raise UploadError(
        _(
            "%(file)s is not readable text: save it as CSV in UTF-8 or GBK, or as .xlsx.",
            file=name,
        )
    )


def _sniff(text: str) -> str:
    """Return the separator: the candidate that splits the first lines into the same number
    of fields (more than one) most consistently."""
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        pass
    best, best_score = ",", 0
    for sep in SEPARATORS:
        counts = [len(next(csv.reader([line], delimiter=sep))) for line in lines]
        if not counts or counts[0] < 2:
            continue
        score = sum(1 for c in counts if c == counts[0]) * counts[0]
        if score > best_score:
            best, best_score = sep, score
    return best


def _rows_from_csv(text: str, sep: str, name: str) -> tuple[list[str], pd.DataFrame]:
    """Return the header and the body (all text) of a CSV file; refuse ragged rows."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header, width = None, 0
    try:
        for row in reader:
            if not any(row):
                continue  # a blank line
            if header is None and not any(cell.strip() for cell in row):
                continue
            if header is None:
                header, width = row, len(row)
            elif len(row) != width and any(cell.strip() for cell in row):
                raise UploadError(
                    _(
                        "Row %(row)d of %(file)s has %(found)d fields; the header has "
                        "%(expected)d. Check the separator and quotes.",
                        row=reader.line_num,
                        file=name,
                        found=len(row),
                        expected=width,
                    )
                )
    except csv.Error as exc:
        raise UploadError(
            _("%(file)s is not a valid CSV file: %(reason)s", file=name, reason=str(exc))
        ) from None
    if header is None:
        raise UploadError(_("The file %(file)s is empty.", file=name), code="upload_empty")
    try:
        body = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            skiprows=1,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
            names=list(range(width)),
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, pd.errors.EmptyDataError):
            body = pd.DataFrame(columns=list(range(width)), dtype=str)
        else:
            raise UploadError(
                _("%(file)s is not a valid CSV file: %(reason)s", file=name, reason=reason)
            ) from None
    blank = (body.apply(lambda c: c.str.strip()) == "").all(axis=1)
    return header, body[~blank].reset_index(drop=True)


def _rows_from_xlsx(raw: bytes, name: str) -> tuple[list[str], list[list]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any parse failure is the same to the user
        raise UploadError(_("%(file)s is not a valid Excel (.xlsx) file.", file=name)) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        rows = [] if sheet is None else [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    rows = [r for r in rows if any(v is not None and str(v).strip() for v in r)]
    if not rows:
        raise UploadError(_("The file %(file)s is empty.", file=name))
    width = max(len(r) for r in rows)
    while width > 0 and all(len(r) < width or r[width - 1] is None for r in rows):
        width -= 1  # trailing empty columns
    rows = [(r + [None] * width)[:width] for r in rows]
    header = ["" if v is None else str(v) for v in rows[0]]
    return header, rows[1:]


def _column_names(header: list) -> list[str]:
    names, seen = [], set()
    for index, raw in enumerate(header, start=1):
        name = safe_cell(str(raw).strip()) if raw is not None and str(raw).strip() else ""
        name = name or f"column_{index}"
        base, n = name, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        names.append(name)
    return names


_DANGER = re.compile("^[" + re.escape("".join(FORMULA_PREFIXES)) + "]")
_INTEGER = r"[+-]?\d+"
_NUMBER = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"


def _infer_text(series: pd.Series) -> tuple[pd.Series, str, int]:
    """Infer the type of a column of text (vectorised); return (column, type, neutralised)."""
    text = series.astype("string").str.strip()
    text = text.mask(text == "")
    present = text.dropna()
    if present.empty:
        return text, "text", 0
    lower = present.str.lower()
    if lower.isin(TRUE_WORDS | FALSE_WORDS).all() and lower.nunique() <= 2:
        return text.str.lower().isin(TRUE_WORDS).astype("boolean").mask(text.isna()), "boolean", 0
    if not present.str.match(r"^[+-]?0\d").any():  # account numbers, postcodes stay text
        cleaned = text.str.replace(",", "", regex=False)
        kept = cleaned.dropna()
        try:
            if kept.str.fullmatch(_INTEGER).all():
                numbers = pd.to_numeric(cleaned)
                if (numbers.dropna().abs() < 2**63).all():
                    return numbers.astype("Int64"), "integer", 0
            if kept.str.fullmatch(_NUMBER).all():
                return pd.to_numeric(cleaned).astype("float64"), "number", 0
        except (ValueError, OverflowError, TypeError):
            pass
    if present.str.match(_DATE_LIKE).all():
        normalised = text.str.replace(r"[年月/.]", "-", regex=True).str.replace("日", "")
        dates = pd.to_datetime(normalised, errors="coerce", format="mixed")
        if dates[text.notna()].notna().all():
            return dates, "date", 0
    danger = text.str.match(_DANGER).fillna(False).astype(bool)
    count = int(danger.sum())
    if count:
        text = text.where(~danger, "'" + text)
    return text, "text", count


def _infer(series: pd.Series) -> tuple[pd.Series, str, int]:
    """Return the column converted to its inferred type, the type's name and how many
    formula-like cells were neutralised. Text columns (CSV, most Excel) are inferred from
    their text; typed Excel cells keep their type."""
    if pd.api.types.is_string_dtype(series) and not pd.api.types.is_object_dtype(series):
        return _infer_text(series)  # CSV columns are read as text
    present = series.dropna()
    if present.empty or all(isinstance(v, str) for v in present):
        return _infer_text(series)
    if all(isinstance(v, bool) for v in present):
        return series.astype("boolean"), "boolean", 0
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in present):
        numbers = pd.to_numeric(series)
        if (numbers.dropna() % 1 == 0).all():
            return numbers.astype("Int64"), "integer", 0
        return numbers.astype("float64"), "number", 0
    if all(hasattr(v, "year") and hasattr(v, "month") for v in present):
        return pd.to_datetime(series, errors="coerce"), "date", 0
    return _infer_text(series.map(lambda v: v if v is None else str(v)))


def parse_upload(filename: str, raw: bytes, max_bytes: int | None = None) -> tuple:
    """Read an uploaded file; return (frame, info) or raise UploadError.

    `info`: file_name, format, encoding, delimiter, size_bytes, rows, columns
    ([{name, type}]) and `neutralised` (cells that looked like formulas).
    """
    name = os.path.basename(str(filename or "")).strip() or "upload"
    limit = max_bytes if max_bytes is not None else DEFAULT_MAX_MB * 1024 * 1024
    if len(raw) > limit:
        raise UploadError(
            _(
                "%(file)s is %(size).1f MB; the largest file accepted is %(limit).0f MB.",
                file=name,
                size=len(raw) / 1024 / 1024,
                limit=limit / 1024 / 1024,
            ),
            code="upload_too_large",
        )
    if not raw.strip():
        raise UploadError(_("The file %(file)s is empty.", file=name), code="upload_empty")
    suffix = Path(name).suffix.lower()
    info = {"file_name": name, "size_bytes": len(raw)}
    if raw.startswith(b"PK\x03\x04") or suffix in (".xlsx", ".xlsm"):
        if not zipfile.is_zipfile(io.BytesIO(raw)):
            raise UploadError(_("%(file)s is not a valid Excel (.xlsx) file.", file=name))
        header, body = _rows_from_xlsx(raw, name)
        info.update(format="xlsx", encoding=None, delimiter=None)
    elif suffix == ".xls" or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError(
            _("%(file)s is an old Excel (.xls) file: save it as .xlsx or CSV.", file=name)
        )
    else:
        text, encoding = _decode(raw, name)
        sep = _sniff(text)
        header, body = _rows_from_csv(text, sep, name)
        info.update(format="csv", encoding=encoding, delimiter=SEPARATOR_NAMES.get(sep, sep))
    if len(header) < 2:
        raise UploadError(
            _(
                "Only one column was found in %(file)s; check the separator "
                "(comma, semicolon or tab).",
                file=name,
            )
        )
    if len(header) > MAX_COLUMNS:
        raise UploadError(
            _("%(file)s has more than %(count)d columns.", file=name, count=MAX_COLUMNS)
        )
    if len(body) == 0:
        raise UploadError(_("The file %(file)s has no data rows.", file=name), code="upload_empty")
    columns = _column_names(header)
    if isinstance(body, pd.DataFrame):
        frame = body.set_axis(columns, axis=1)
    else:
        frame = pd.DataFrame(body, columns=columns, dtype=object)
    types, neutralised, out = {}, 0, {}
    for column in columns:
        out[column], types[column], count = _infer(frame[column])
        neutralised += count
    frame = pd.DataFrame(out)
    info.update(
        rows=int(len(frame)),
        columns=[{"name": c, "type": types[c]} for c in columns],
        neutralised=int(neutralised),
    )
    return frame, info


# -- storing ---------------------------------------------------------------------------------------
def _parquet_path(key: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", key or ""):
        raise NotFound(_("This upload does not exist."), code="upload_not_found")
    return uploads_dir() / f"{key}.parquet"


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_upload(session: Session, user, frame: pd.DataFrame, info: dict, client_addr=None):
    """Store a parsed upload as the user's private dataset; return its Resource."""
    key = uuid.uuid4().hex
    path = _parquet_path(key)
    _atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    try:
        title = Path(info["file_name"]).stem[:200] or info["file_name"][:200]
        resource = Resource(
            type="upload",
            key=key,
            title_zh=title,
            title_en=title,
            description=_(
                "Uploaded file %(file)s: %(rows)d rows, %(columns)d columns",
                file=info["file_name"],
                rows=info["rows"],
                columns=len(info["columns"]),
            ),
            owner_id=user.id,
            spec={**info, "storage": f"uploads/{key}.parquet"},
        )
        session.add(resource)
        session.flush()
        record_event(
            session,
            event_type="upload",
            actor=user,
            client_addr=client_addr,
            object_type="upload",
            object_id=resource.id,
            row_count=info["rows"],
            details={"file_name": info["file_name"], "size_bytes": info["size_bytes"]},
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return resource


def list_uploads(session: Session, user) -> list[Resource]:
    """Return the uploads the user owns or was granted, newest first."""
    shared = granted_keys(session, user, "upload", "view")
    query = select(Resource).where(
        Resource.type == "upload",
        or_(Resource.owner_id == user.id, Resource.key.in_(shared) if shared else false()),
    )
    return list(session.scalars(query.order_by(Resource.id.desc())))


def get_upload(session: Session, user, resource_id, permission: str = "view") -> Resource:
    """Return an upload the user may view (and holds `permission` on); NotFound / Forbidden
    otherwise. Mining an upload rewrites its stored result: that needs "edit"."""
    try:
        resource = session.get(Resource, int(resource_id))
    except (TypeError, ValueError):
        resource = None
    if resource is None or resource.type != "upload":
        raise NotFound(_("This upload does not exist."), code="upload_not_found")
    if not has_permission(session, user, resource.id, "view"):
        raise Forbidden(_("You may not open this upload."), code="upload_forbidden")
    if permission != "view" and not has_permission(session, user, resource.id, permission):
        raise Forbidden(_("You may not change this upload."), code="upload_forbidden")
    return resource


def delete_upload(session: Session, user, resource_id, client_addr=None) -> str:
    """Delete an upload the user manages (its owner); return its key. The caller commits,
    then removes the files with `remove_files(key)`, so a failed commit loses nothing."""
    resource = get_upload(session, user, resource_id)
    if not has_permission(session, user, resource.id, "manage"):
        raise Forbidden(_("Only the owner may delete this upload."), code="upload_forbidden")
    key = resource.key
    record_event(
        session,
        event_type="upload_delete",
        actor=user,
        client_addr=client_addr,
        object_type="upload",
        object_id=resource.id,
        details={"file_name": (resource.spec or {}).get("file_name")},
    )
    session.delete(resource)
    return key


def remove_files(key: str) -> None:
    """Remove an upload's data and its last mining result."""
    for path in (_parquet_path(key), *_result_paths(key)):
        path.unlink(missing_ok=True)


def load_frame(resource: Resource) -> pd.DataFrame:
    return load_frame_by_key(resource.key)


def load_frame_by_key(key: str) -> pd.DataFrame:
    """Return an upload's table (the caller has checked the user may view it)."""
    path = _parquet_path(key)
    if not path.exists():
        raise NotFound(_("The data of this upload is missing."), code="upload_data_missing")
    return pd.read_parquet(path)


# -- joining the warehouse -----------------------------------------------------------------------
def join_warehouse(frame: pd.DataFrame, key: str, warehouse, tables) -> tuple[pd.DataFrame, int]:
    """Return the upload with warehouse attributes of its customers (`wh_...` columns) on
    the key column matched to customer_id, and how many rows matched.

    Only customers the user may see are matched (scoped tables); PII is never added.
    """
    import ibis

    from datasources import features as F
    from mining.training import data_range

    if key not in frame.columns:
        raise UploadError(_("Column %(column)s is not in the data.", column=key))
    ids = pd.to_numeric(frame[key], errors="coerce")
    if ids.notna().sum() == 0:
        raise UploadError(_("Column %(column)s holds no customer numbers to join on.", column=key))
    wanted = ibis.memtable(
        pd.DataFrame({"customer_id": ids.dropna().astype("int64").unique()}),
        schema={"customer_id": "int64"},
    )
    customers = tables.table("dim_customer")
    picked = customers.select("customer_id", "branch_id", *WAREHOUSE_COLUMNS)
    joined = picked.join(wanted, "customer_id")
    attributes = warehouse.execute(
        joined, scope_key=tables.scope_key, label="uploads:join", use_cache=False
    )
    as_of = data_range(warehouse, tables)["as_of"]
    balances = F.balance_features(tables, as_of).select("customer_id", *WAREHOUSE_BALANCES)
    balances = balances.join(wanted, "customer_id")
    amounts = warehouse.execute(
        balances, scope_key=tables.scope_key, label="uploads:join", use_cache=False
    )
    attributes = attributes.merge(amounts, on="customer_id", how="left")
    attributes = attributes.rename(
        columns={c: f"{WAREHOUSE_PREFIX}{c}" for c in attributes.columns if c != "customer_id"}
    )
    keyed = frame.assign(_join_key=ids.astype("Int64"))
    attributes["customer_id"] = attributes["customer_id"].astype("Int64")
    out = keyed.merge(attributes, left_on="_join_key", right_on="customer_id", how="left")
    matched = int(out[f"{WAREHOUSE_PREFIX}branch_id"].notna().sum())
    out = out.drop(columns=["_join_key", "customer_id"] if key != "customer_id" else ["_join_key"])
    if "customer_id_x" in out.columns:
        out = out.rename(columns={"customer_id_x": "customer_id"}).drop(
            columns=["customer_id_y"], errors="ignore"
        )
    return out, matched


# -- mining ----------------------------------------------------------------------------------------
def mine_table(frame: pd.DataFrame, target: str, drop=(), folds: int = 5, progress=None) -> tuple:
    """Cross-validate the default pipeline on a table; return (result, scored frame).

    The scored frame is the table's rows with their out-of-fold `probability` (each row
    scored by a model that did not see it), highest first.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    from mining import MiningInputError
    from mining.evaluation import auc, holdout_report, permutation_importance_table
    from mining.pipelines import build_pipeline, prepare_table

    progress = progress or (lambda _f, _m: None)
    started = time.perf_counter()
    sampled = len(frame) > MAX_MINING_ROWS
    if sampled:
        frame = frame.sample(MAX_MINING_ROWS, random_state=0)
    frame = frame.reset_index(drop=True)
    X, y, plan, positive = prepare_table(frame, target, drop=list(drop))
    y = np.asarray(y)
    smallest = int(min(y.sum(), len(y) - y.sum()))
    if smallest < 2:
        raise MiningInputError(
            _("Too few rows of the rarer class (%(count)d) to evaluate.", count=smallest)
        )
    folds = max(2, min(folds, smallest))
    pipeline = build_pipeline(plan, "gbm")
    oof = np.full(len(y), np.nan)
    fold_aucs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    with threadpool_limits(limits=1):
        model = None
        for number, (train_idx, test_idx) in enumerate(splitter.split(X, y), start=1):
            progress(
                0.05 + 0.75 * (number - 1) / folds,
                lazy_gettext(
                    "Cross-validating: fold %(fold)d of %(folds)d", fold=number, folds=folds
                ),
            )
            model = clone(pipeline).fit(X.iloc[train_idx], y[train_idx])
            oof[test_idx] = model.predict_proba(X.iloc[test_idx])[:, 1]
            fold_aucs.append(auc(y[test_idx], oof[test_idx]))
        progress(0.85, lazy_gettext("Measuring feature importance"))
        importance = permutation_importance_table(
            model, X.iloc[test_idx], y[test_idx], n_repeats=3, max_rows=3000
        )
    report = holdout_report(y, oof)
    scored = frame.loc[X.index].copy()
    scored.insert(0, "probability", oof)
    scored = scored.sort_values("probability", ascending=False, kind="stable")
    result = {
        "target": target,
        "positive": positive,
        "rows": int(len(y)),
        "sampled": bool(sampled),
        "positive_rate": float(y.mean()),
        "folds": folds,
        "auc": float(np.mean(fold_aucs)),
        "auc_std": float(np.std(fold_aucs)),
        "fold_aucs": [float(a) for a in fold_aucs],
        "metrics": {k: v for k, v in report.items() if k not in ("lift", "calibration")},
        "lift": report["lift"],
        "calibration": report["calibration"],
        "importance": importance,
        "columns": plan.to_dict(),
        "dropped": [*drop],
        "elapsed_s": round(time.perf_counter() - started, 1),
    }
    return result, scored.reset_index(drop=True)


def _result_paths(key: str) -> tuple[Path, Path]:
    base = _parquet_path(key)
    return base.with_suffix(".mining.json"), base.with_suffix(".scored.parquet")


def save_mining_result(key: str, result: dict, scored: pd.DataFrame) -> None:
    """Keep the last mining run of an upload beside its data (atomic writes)."""
    from mining.registry import _json_safe

    meta_path, scored_path = _result_paths(key)
    _atomic_write(scored_path, lambda tmp: scored.to_parquet(tmp, index=False))
    text = json.dumps(_json_safe(result), ensure_ascii=False)
    _atomic_write(meta_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def load_mining_result(
    key: str, scope_key: str | None = None
) -> tuple[dict | None, pd.DataFrame | None]:
    """Return an upload's last mining run. The scored rows hold the warehouse columns joined
    under the scope of whoever ran it: for a reader of another scope (`scope_key`, a shared
    upload) those columns are left out, so nobody sees customers beyond their own rights."""
    meta_path, scored_path = _result_paths(key)
    if not meta_path.exists() or not scored_path.exists():
        return None, None
    result, scored = json.loads(meta_path.read_text(encoding="utf-8")), pd.read_parquet(scored_path)
    if scope_key is not None and result.get("scope_key") != scope_key:
        added = [c for c in result.get("warehouse_columns") or [] if c in scored.columns]
        scored = scored.drop(columns=added)
    return result, scored
