"""Bring your own data: reading uploads (encodings, separators, Excel), refusing bad files
with a clear message while keeping what was stored, formula-injection neutralising on import
and export, joining the warehouse under the user's scope, and mining an upload."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import dash
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from mining import MiningInputError
from portal.db import get_db
from portal.models import Resource
from portal.services import uploads as U
from portal.services.exports import safe_cell, to_csv, to_xlsx
from tests.conftest import request_as

DATASETS = Path(
    os.environ.get("PORTAL_DATASETS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
)
INJECTION = "=cmd|' /C calc'!A0"


class _Ctx:
    """Stands in for dash.ctx: which button fired the callback."""

    def __init__(self, trigger):
        self.triggered_id = trigger
        self.triggered = [{"prop_id": f"{trigger}.n_clicks", "value": 1}]


def _datasets_or_skip():
    if not (DATASETS / "bank-marketing.csv").exists():
        message = f"public datasets not found at {DATASETS} (set PORTAL_DATASETS_DIR)"
        if os.environ.get("PORTAL_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(f"!!! {message} !!!")


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _types(info) -> dict:
    return {c["name"]: c["type"] for c in info["columns"]}


# -- reading ---------------------------------------------------------------------------------------
def test_gbk_csv_with_chinese_headers(app):
    raw = "客户号,姓名,余额,开户日期,是否流失\n1001,张三,1234.5,2024-01-02,是\n1002,李四,-20,2024/02/03,否\n"
    with app.app_context():
        frame, info = U.parse_upload("客户.csv", raw.encode("gbk"))
    assert info["encoding"] == "GBK/GB18030" and info["delimiter"] == "comma"
    assert list(frame.columns) == ["客户号", "姓名", "余额", "开户日期", "是否流失"]
    assert _types(info) == {
        "客户号": "integer",
        "姓名": "text",
        "余额": "number",
        "开户日期": "date",
        "是否流失": "boolean",
    }
    assert frame["姓名"].tolist() == ["张三", "李四"] and frame["余额"].tolist() == [1234.5, -20.0]


def test_utf8_bom_tab_and_leading_zeros_stay_text(app):
    raw = "\ufeffaccount\tamount\tflag\n00123\t5\tyes\n00456\t7\tno\n".encode()
    with app.app_context():
        frame, info = U.parse_upload("a.tsv", raw)
    assert info["encoding"] == "UTF-8 BOM" and info["delimiter"] == "tab"
    assert frame.columns[0] == "account"  # no BOM in the name
    assert _types(info)["account"] == "text" and frame["account"].tolist() == ["00123", "00456"]


def test_semicolon_bank_marketing(app):
    _datasets_or_skip()
    raw = (DATASETS / "bank-marketing.csv").read_bytes()
    with app.app_context():
        frame, info = U.parse_upload("bank-marketing.csv", raw)
    assert info["delimiter"] == "semicolon" and info["rows"] == 4521 and len(frame.columns) == 17
    assert _types(info)["age"] == "integer" and _types(info)["job"] == "text"


def test_xlsx_keeps_types(app):
    from datetime import datetime

    raw = _xlsx(
        [["id", "score", "when", "name"], [1, 0.5, datetime(2026, 1, 2), "a"], [2, 1.5, None, "b"]]
    )
    with app.app_context():
        frame, info = U.parse_upload("book.xlsx", raw)
    assert info["format"] == "xlsx" and info["rows"] == 2
    assert _types(info) == {"id": "integer", "score": "number", "when": "date", "name": "text"}


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("empty.csv", b"", ["empty.csv"]),
        ("blank.csv", b"\n\n  \n", ["blank.csv"]),
        ("header.csv", b"a,b,c\n", ["header.csv"]),
        ("ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n", ["3", "2"]),
        ("ragged2.csv", b"a,b\n1,2\n3,4,5,6\n", ["3", "4"]),
        ("junk.csv", bytes(range(256)) * 64, ["junk.csv"]),
        (
            "junk2.bin",
            b"\x89PNG\r\n\x1a\n" + b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e" * 400,
            ["junk2"],
        ),
        ("fake.xlsx", b"PK\x03\x04not really a zip", ["fake.xlsx"]),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, [".xls"]),
        ("one.csv", b"a\n1\n2\n", ["one.csv"]),
    ],
)
def test_bad_files_get_a_clear_error(app, name, raw, words):
    with app.app_context(), pytest.raises(U.UploadError) as caught:
        U.parse_upload(name, raw)
    message = caught.value.message
    assert "\n" not in message and "Traceback" not in message
    for word in words:
        assert word in message, message


def test_too_large_is_refused_in_chinese(app):
    headers = {"Accept-Language": "zh-CN"}
    with request_as(app, "analyst", headers=headers), pytest.raises(U.UploadError) as caught:
        U.parse_upload("big.csv", b"a,b\n" + b"1,2\n" * 1000, max_bytes=1000)
    assert caught.value.code == "upload_too_large" and "big.csv" in caught.value.message
    assert "上限" in caught.value.message


def test_the_size_limit_comes_from_settings(make_app):
    app = make_app(upload_max_mb=0.5)
    with app.app_context():
        assert U.max_upload_bytes() == 512 * 1024


# -- formula injection ---------------------------------------------------------------------------
def test_formula_cells_are_neutralised_on_import_and_export(app):
    raw = f"name,note,amount\n{INJECTION},+1+2,-5\n@SUM(A1),-x,7\nplain,ok,8\n".encode()
    with app.app_context():
        frame, info = U.parse_upload("inject.csv", raw)
    assert frame["name"].tolist() == ["'" + INJECTION, "'@SUM(A1)", "plain"]
    assert frame["note"].tolist() == ["'+1+2", "'-x", "ok"]
    assert frame["amount"].tolist() == [-5, 7, 8]  # numbers stay numbers
    assert info["neutralised"] == 4

    # Export of raw, hostile values (not only uploads) is neutralised too.
    hostile = pd.DataFrame({"=HYPERLINK(1)": [INJECTION, "+cmd", "fine"], "n": [-1.5, 2, 3]})
    text = to_csv(hostile).decode("utf-8-sig")
    assert text.splitlines()[0] == "'=HYPERLINK(1),n"
    assert f"'{INJECTION}" in text and "'+cmd" in text and "-1.5" in text
    book = load_workbook(io.BytesIO(to_xlsx(hostile)))
    cells = [c.value for row in book.active.iter_rows() for c in row]
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in cells)
    assert f"'{INJECTION}" in cells and -1.5 in cells
    assert all(c.data_type != "f" for row in book.active.iter_rows() for c in row)
    assert safe_cell("'already") == "'already" and safe_cell(3) == 3


# -- storing ---------------------------------------------------------------------------------------
def _upload_count(app) -> int:
    with app.app_context(), get_db().session() as s:
        return s.scalar(select(func.count()).select_from(Resource).where(Resource.type == "upload"))


def _contents(raw: bytes) -> str:
    return "data:text/csv;base64," + base64.b64encode(raw).decode()


def test_upload_callback_stores_a_private_dataset_and_failures_keep_it(app):
    from callbacks.uploads import receive_upload, show_upload

    raw = "客户号,余额,流失\n1,10,是\n2,20,否\n3,30,否\n".encode("gb18030")
    with request_as(app, "analyst", headers={"Accept-Language": "en"}) as user:
        message, options, resource_id = receive_upload(_contents(raw), "first.csv")
        assert "first.csv" in str(message) and resource_id in [o["value"] for o in options]
        with get_db().session() as s:
            resource = s.get(Resource, resource_id)
            assert resource.type == "upload" and resource.owner_id == user.id
            assert resource.spec["rows"] == 3 and resource.spec["file_name"] == "first.csv"
            key = resource.key
        path = Path(app.config["PORTAL_SETTINGS"].data_dir) / "uploads" / f"{key}.parquet"
        assert path.exists() and len(pd.read_parquet(path)) == 3
        before = sorted(p.name for p in path.parent.iterdir())

        for bad_name, bad in [
            ("ragged.csv", b"a,b\n1,2,3\n"),
            ("junk.csv", bytes(range(256)) * 10),
            ("empty.csv", b""),
        ]:
            alert, opts, value = receive_upload(_contents(bad), bad_name)
            assert bad_name in str(alert) and opts is dash.no_update and value is dash.no_update
        assert sorted(p.name for p in path.parent.iterdir()) == before  # nothing half-written
        assert len(pd.read_parquet(path)) == 3 and _upload_count(app) == 1

        rows, columns, info, targets, *_rest = show_upload(resource_id)
        assert len(rows) == 3 and columns[0]["headerName"] == "客户号 (integer)"
        assert [t["value"] for t in targets] == ["客户号", "余额", "流失"]

    # Another user cannot open it.
    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        rows, _cols, alert, *_rest = show_upload(resource_id)
        assert rows == [] and "may not" in str(alert)


# -- joining and mining ---------------------------------------------------------------------------
def _customer_sample(warehouse_path, n=400) -> pd.DataFrame:
    import duckdb
    import numpy as np

    con = duckdb.connect(str(warehouse_path), read_only=True)
    ids = con.execute(
        "SELECT customer_id, branch_id FROM dim_customer WHERE customer_type = 'retail' "
        "ORDER BY customer_id LIMIT ?",
        [n],
    ).df()
    con.close()
    rng = np.random.default_rng(1)
    ids["visits"] = rng.integers(0, 20, len(ids))
    ids["responded"] = np.where(ids["visits"] + rng.normal(0, 4, len(ids)) > 12, "yes", "no")
    return ids


def test_join_warehouse_is_scoped_and_never_adds_pii(app, warehouse_path):
    sample = _customer_sample(warehouse_path)
    frame = sample.drop(columns=["branch_id"])
    warehouse = app.extensions["warehouse"]
    from portal.security import current_tables

    with request_as(app, "bj_cm"):
        joined, matched = U.join_warehouse(frame, "customer_id", warehouse, current_tables())
    assert len(joined) == len(frame)  # the user's rows all stay
    expected = int((sample["branch_id"] == "BJ-CY").sum())
    assert matched == expected > 0
    assert set(joined["wh_branch_id"].dropna()) == {"BJ-CY"}
    assert not {"wh_name", "wh_phone", "wh_id_number", "name"} & set(joined.columns)
    assert "wh_deposit_balance" in joined.columns


def test_mine_an_upload_and_download_the_scored_list(app, warehouse_path, monkeypatch):
    from callbacks.uploads import download_scored, poll_mining, receive_upload, start_mining
    from portal.services.mining_pages import jobs

    sample = _customer_sample(warehouse_path).drop(columns=["branch_id"])
    sample["note"] = [INJECTION if i % 50 == 0 else f"n{i % 3}" for i in range(len(sample))]
    raw = sample.to_csv(index=False).encode()
    with request_as(app, "leader", headers={"Accept-Language": "en"}):
        _msg, _opts, resource_id = receive_upload(_contents(raw), "campaign.csv")
        job_id, stopped, _text, _style = start_mining(
            1, resource_id, "responded", [], "customer_id"
        )
        assert job_id and stopped is False
        done = jobs().wait(job_id, timeout=120)
        assert done["state"] == "done", done
        _value, _label, text, stop, _s, results = poll_mining(1, job_id, resource_id)
        assert stop is True and "Cross-validated AUC" in str(results)

        with get_db().session() as s:
            key = s.get(Resource, resource_id).key
        result, scored = U.load_mining_result(key)
        assert result["auc"] > 0.75 and result["folds"] == 5 and result["joined"] > 0
        assert result["positive"] == "True" and len(result["lift"]) == 10
        assert "visits" in [r["feature"] for r in result["importance"][:3]]
        assert scored["probability"].is_monotonic_decreasing and len(scored) == len(sample)

        monkeypatch.setattr(dash, "ctx", _Ctx("up-download-csv"))
        payload, error = download_scored(1, None, resource_id)
        assert error is None and payload["filename"] == "campaign-scored.csv"
        text = base64.b64decode(payload["content"]).decode("utf-8-sig")
        assert text.splitlines()[0].startswith("probability,")
        assert f"'{INJECTION}" in text and f",{INJECTION}" not in text
        assert len(text.strip().splitlines()) == len(sample) + 1
        assert "wh_segment" in text.splitlines()[0]  # joined under the leader's own rights

    # A branch manager given view on the upload sees the result without the leader's
    # warehouse columns, and may not mine it again (that rewrites the stored result).
    from portal.models import Grant

    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}) as reader:
        with get_db().session() as s, s.begin():
            s.add(
                Grant(
                    subject_type="user",
                    subject_id=reader.id,
                    resource_id=resource_id,
                    permission="view",
                )
            )
        payload, error = download_scored(1, None, resource_id)
        header = base64.b64decode(payload["content"]).decode("utf-8-sig").splitlines()[0]
        assert error is None and "visits" in header and "wh_" not in header
        job, _stopped, alert, _s = start_mining(1, resource_id, "responded", [], None)
        assert job is None and "may not change" in str(alert)


def test_mining_errors_are_clear(app):
    from callbacks.uploads import receive_upload, start_mining

    raw = b"a,b,t\n1,2,x\n3,4,y\n5,6,z\n"
    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        _m, _o, resource_id = receive_upload(_contents(raw), "three.csv")
        job, stopped, alert, _s = start_mining(1, resource_id, None, [], None)
        assert job is None and "target" in str(alert)
        job, stopped, alert, _s = start_mining(1, None, "t", [], None)
        assert job is None and "dataset" in str(alert)
        with pytest.raises(MiningInputError) as caught:
            U.mine_table(pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 4], "t": ["x", "y", "z"]}), "t")
        assert "two values" in str(caught.value)


def test_only_the_owner_deletes_an_upload_and_its_files(app):
    from callbacks.uploads import delete_dataset, receive_upload

    raw = b"a,b,t\n1,2,yes\n3,4,no\n"
    with request_as(app, "analyst", headers={"Accept-Language": "en"}) as user:
        _m, _o, keep_id = receive_upload(_contents(raw), "keep.csv")
        _m, _o, gone_id = receive_upload(_contents(raw), "gone.csv")
        with get_db().session() as s:
            gone_key = s.get(Resource, gone_id).key
        from portal.services.activity import record_view, set_favorite

        with get_db().session() as s, s.begin():  # starred and viewed: deleted with it
            set_favorite(s, user, gone_id, True)
            record_view(s, user, gone_id)
    folder = Path(app.config["PORTAL_SETTINGS"].data_dir) / "uploads"
    assert (folder / f"{gone_key}.parquet").exists()

    with request_as(app, "bj_cm", headers={"Accept-Language": "en"}):
        alert, options, value = delete_dataset(1, gone_id)
        assert "may not" in str(alert) and value is dash.no_update
    assert (folder / f"{gone_key}.parquet").exists() and _upload_count(app) == 2

    with request_as(app, "analyst", headers={"Accept-Language": "en"}):
        alert, options, value = delete_dataset(1, gone_id)
    assert "deleted" in str(alert) and value == keep_id
    assert [o["value"] for o in options] == [keep_id]
    assert not (folder / f"{gone_key}.parquet").exists() and _upload_count(app) == 1
