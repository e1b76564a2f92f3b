"""Settings from environment variables; the defaults are the embedded ones.

`load_settings()` reads `PORTAL_*` variables, validates them and returns a frozen
`Settings`. An invalid value raises `ConfigError` with one line naming the variable, which
`app.py` and the CLI print before exiting.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

import click

DEFAULT_PORT = 8050
WAREHOUSE_SCHEMES = {
    "duckdb",
    "postgres",
    "postgresql",
    "sqlite",
    "mysql",
    "trino",
    "clickhouse",
    "snowflake",
    "bigquery",
    "mssql",
    "oracle",
    "datafusion",
    "pyspark",
    "risingwave",
}


class ConfigError(click.ClickException, ValueError):
    """A setting is invalid; the message names the variable.

    A ClickException, so that `flask --app app ...` prints it as one `Error: ...` line.
    """

    def __init__(self, message: str):
        click.ClickException.__init__(self, message)
        self.exit_code = 2


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_url: str
    database_url: str
    cache_url: str
    cache_prefix: str
    cache_timeout: int
    secret_key: str
    demo_password: str
    scale: float
    host: str
    port: int
    seed: int
    sso_header: str | None = None
    trust_proxy: bool = False
    upload_max_mb: float = 20.0  # largest file a user may upload (bring your own data)
    extra: dict = field(default_factory=dict)

    @property
    def warehouse_path(self) -> Path | None:
        """Return the DuckDB file behind the warehouse URL, or None for a server backend."""
        parsed = urlparse(self.warehouse_url)
        if parsed.scheme != "duckdb":
            return None
        raw = self.warehouse_url[len("duckdb://") :]
        return Path(raw) if raw and raw != ":memory:" else None


def _env(environ, name: str, default: str | None = None) -> str | None:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip()


def _positive_float(environ, name: str, default: float, upper: float) -> float:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number (expected e.g. 1 or 0.01)") from None
    if not 0 < value <= upper:
        raise ConfigError(f"{name}={raw!r} must be greater than 0 and at most {upper:g}")
    return value


def _int(environ, name: str, default: int, low: int, high: int) -> int:
    raw = _env(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def _flag(environ, name: str) -> bool:
    raw = (_env(environ, name) or "0").lower()
    if raw not in {"0", "1", "true", "false", "yes", "no"}:
        raise ConfigError(f"{name}={raw!r} must be 1 or 0")
    return raw in {"1", "true", "yes"}


def _header_name(environ, name: str) -> str | None:
    raw = _env(environ, name)
    if raw is not None and not all(c.isalnum() or c == "-" for c in raw):
        raise ConfigError(f"{name}={raw!r} is not an HTTP header name")
    return raw


def _check_url(name: str, url: str, schemes: set[str] | None = None) -> str:
    parsed = urlparse(url)
    if not parsed.scheme or "://" not in url:
        raise ConfigError(f"{name}={url!r} is not a URL (expected scheme://...)")
    base_scheme = parsed.scheme.split("+", 1)[0]
    if schemes is not None and base_scheme not in schemes:
        raise ConfigError(
            f"{name}={url!r} has unsupported scheme {parsed.scheme!r} "
            f"(expected one of: {', '.join(sorted(schemes))})"
        )
    return url


def _secret_key(environ, data_dir: Path) -> str:
    """Return PORTAL_SECRET_KEY, or a key generated once and kept in the data dir."""
    raw = _env(environ, "PORTAL_SECRET_KEY")
    if raw is not None:
        if len(raw) < 16:
            raise ConfigError("PORTAL_SECRET_KEY is too short (use at least 16 characters)")
        return raw
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(environ=None, overrides: dict | None = None) -> Settings:
    """Read and validate settings from the environment, then apply overrides."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})

    data_dir = Path(overrides.pop("data_dir", None) or _env(environ, "PORTAL_DATA_DIR", "data"))
    data_dir = data_dir.expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigError(f"PORTAL_DATA_DIR={str(data_dir)!r} exists and is not a directory")

    warehouse_url = _env(
        environ, "PORTAL_WAREHOUSE_URL", f"duckdb://{data_dir / 'warehouse.duckdb'}"
    )
    _check_url("PORTAL_WAREHOUSE_URL", warehouse_url, WAREHOUSE_SCHEMES)
    database_url = _env(environ, "PORTAL_DATABASE_URL", f"sqlite:///{data_dir / 'portal.sqlite'}")
    _check_url("PORTAL_DATABASE_URL", database_url, {"sqlite", "postgresql", "postgres", "mysql"})
    cache_url = _env(environ, "PORTAL_CACHE_URL", "simple://")
    _check_url("PORTAL_CACHE_URL", cache_url, {"simple", "null", "redis", "rediss"})

    host = _env(environ, "PORTAL_HOST", "127.0.0.1")
    settings = Settings(
        data_dir=data_dir,
        warehouse_url=warehouse_url,
        database_url=database_url,
        cache_url=cache_url,
        cache_prefix=_env(environ, "PORTAL_CACHE_PREFIX", "portal:"),
        cache_timeout=_int(environ, "PORTAL_CACHE_TIMEOUT", 300, 0, 7 * 24 * 3600),
        secret_key="",
        demo_password=_env(environ, "PORTAL_DEMO_PASSWORD", "Portal#2026"),
        scale=_positive_float(environ, "PORTAL_SCALE", 1.0, 100.0),
        host=host,
        port=_int(environ, "PORTAL_PORT", DEFAULT_PORT, 1, 65535),
        seed=_int(environ, "PORTAL_SEED", 20261130, 0, 2**31 - 1),
        sso_header=_header_name(environ, "PORTAL_SSO_HEADER"),
        trust_proxy=_flag(environ, "PORTAL_TRUST_PROXY"),
        upload_max_mb=_positive_float(environ, "PORTAL_UPLOAD_MAX_MB", 20.0, 1024.0),
    )
    known = {f for f in Settings.__dataclass_fields__ if f != "extra"}
    direct = {k: v for k, v in overrides.items() if k in known}
    extra = {k: v for k, v in overrides.items() if k not in known}
    settings = replace(settings, **direct, extra=extra)
    if not settings.secret_key:
        settings = replace(settings, secret_key=_secret_key(environ, settings.data_dir))
    return settings
