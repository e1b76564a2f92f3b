"""Settings come from PORTAL_* variables; a bad value names the variable in one line."""

import pytest

from config import ConfigError, load_settings


def test_embedded_defaults(tmp_path):
    s = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    assert s.warehouse_url == f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    assert s.database_url == f"sqlite:///{tmp_path / 'portal.sqlite'}"
    assert s.cache_url == "simple://"
    assert (s.host, s.port, s.scale) == ("127.0.0.1", 8050, 1.0)
    assert s.warehouse_path == tmp_path / "warehouse.duckdb"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key
    second = load_settings({"PORTAL_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_server_urls_are_accepted(tmp_path):
    s = load_settings(
        {
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_WAREHOUSE_URL": "postgres://u@db:5432/wh",
            "PORTAL_DATABASE_URL": "postgresql+psycopg2://u@db/portal",
            "PORTAL_CACHE_URL": "redis://cache:6379/1",
            "PORTAL_SECRET_KEY": "x" * 32,
        }
    )
    assert s.warehouse_path is None and s.secret_key == "x" * 32


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORTAL_PORT", "eighty", "PORTAL_PORT='eighty' is not a whole number"),
        ("PORTAL_PORT", "70000", "PORTAL_PORT='70000' must be between 1 and 65535"),
        ("PORTAL_SCALE", "-1", "PORTAL_SCALE='-1' must be greater than 0"),
        ("PORTAL_SCALE", "big", "PORTAL_SCALE='big' is not a number"),
        (
            "PORTAL_WAREHOUSE_URL",
            "warehouse.duckdb",
            "PORTAL_WAREHOUSE_URL='warehouse.duckdb' is not a URL",
        ),
        (
            "PORTAL_WAREHOUSE_URL",
            "ftp://x/y",
            "PORTAL_WAREHOUSE_URL='ftp://x/y' has unsupported scheme",
        ),
        (
            "PORTAL_DATABASE_URL",
            "mongodb://x",
            "PORTAL_DATABASE_URL='mongodb://x' has unsupported scheme",
        ),
        (
            "PORTAL_CACHE_URL",
            "memcached://x",
            "PORTAL_CACHE_URL='memcached://x' has unsupported scheme",
        ),
        ("PORTAL_SECRET_KEY", "short", "PORTAL_SECRET_KEY is too short"),
    ],
)
def test_invalid_values_name_the_variable(tmp_path, name, value, message):
    with pytest.raises(ConfigError) as info:
        load_settings({"PORTAL_DATA_DIR": str(tmp_path), name: value})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match="PORTAL_DATA_DIR"):
        load_settings({"PORTAL_DATA_DIR": str(f)})


def test_the_cli_prints_one_line_for_a_bad_setting(tmp_path):
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_PORT": "abc"}
    for args in (["-m", "flask", "--app", "app", "portal", "metrics"], ["app.py"]):
        done = subprocess.run(
            [sys.executable, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
        )
        assert done.returncode == 2, done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert lines == [lines[0]] and "PORTAL_PORT='abc' is not a whole number" in lines[0]
