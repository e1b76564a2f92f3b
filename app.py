"""The portal's entry point: `create_app(overrides)` builds the Flask server with Dash on it.

`python app.py` runs the development server on PORTAL_HOST:PORTAL_PORT; in production run
`gunicorn 'app:create_app()'`.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import dash
from flask import Flask, request, session

from api.vendor import BOOTSTRAP_CSS, ICONS_CSS
from config import ConfigError, Settings, load_settings
from portal.extensions import babel, cache

ROOT = Path(__file__).resolve().parent
LANGUAGES = ("zh_CN", "en")
log = logging.getLogger(__name__)


def _cache_config(settings: Settings) -> dict:
    url = settings.cache_url
    base = {
        "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout,
        "CACHE_KEY_PREFIX": settings.cache_prefix,
    }
    if url.startswith(("redis://", "rediss://")):
        return {**base, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url}
    if url.startswith("null://"):
        return {**base, "CACHE_TYPE": "NullCache"}
    return {**base, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}


def select_locale() -> str:
    """Return the user's language: their choice in the session, else the browser's."""
    chosen = session.get("lang") if request else None
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"]) if request else None
    return "en" if best == "en" else "zh_CN"


def create_app(overrides: dict | None = None) -> Flask:
    """Build the portal: settings, extensions, data layer, API, CLI and the Dash pages."""
    settings = load_settings(overrides=overrides)
    server = Flask(__name__, root_path=str(ROOT))
    server.config.update(
        SECRET_KEY=settings.secret_key,
        PORTAL_SETTINGS=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE="zh_CN",
        JSON_AS_ASCII=False,
        PORTAL_SSO_HEADER=settings.sso_header,
        PORTAL_TRUST_PROXY=settings.trust_proxy,
        **_cache_config(settings),
    )
    server.config.update(settings.extra)
    server.json.ensure_ascii = False

    from portal.i18n import compile_catalogs

    server.config["BABEL_TRANSLATION_DIRECTORIES"] = str(
        compile_catalogs(settings.data_dir / "translations")
    )
    cache.init_app(server)
    babel.init_app(server, locale_selector=select_locale)

    from portal.auth import init_auth
    from portal.db import init_db
    from portal.services.search_index import install_hooks

    install_hooks()  # keep the search index current on every flush

    init_db(server)
    init_auth(server)

    from datasources.catalog import load_catalog
    from datasources.warehouse import Warehouse
    from portal.services.metrics import MetricService
    from portal.services.pivot import PivotService

    warehouse = Warehouse(settings.warehouse_url, cache=cache)
    catalog = load_catalog()
    server.extensions["warehouse"] = warehouse
    server.extensions["metric_catalog"] = catalog
    server.extensions["metric_service"] = MetricService(warehouse, catalog)
    server.extensions["pivot_service"] = PivotService(warehouse, catalog)

    from api import register_api
    from portal.cli import register_cli
    from portal.services.access_log import init_access_log

    register_api(server)
    register_cli(server)
    init_access_log(server)
    create_dash(server)
    return server


def create_dash(server: Flask) -> dash.Dash:
    """Mount the Dash front end (pages, shell, callbacks) on the Flask server."""
    app = dash.Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        external_stylesheets=[BOOTSTRAP_CSS, ICONS_CSS],
        suppress_callback_exceptions=True,
        title="Bank Data Portal",
        update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    from callbacks import register_callbacks
    from components.shell import shell_layout
    from portal.services.access_log import audit_page_views

    audit_page_views(dash.page_registry)
    app.layout = shell_layout
    register_callbacks(app)
    server.extensions["dash"] = app
    return app


def demo_login_lines(server: Flask) -> list[str]:
    """Return lines describing the demo accounts present in the store, for the console."""
    from sqlalchemy import select

    from portal.db import get_db
    from portal.models import User
    from portal.services.setup import DEMO_USERS

    demo = {u.username for u in DEMO_USERS}
    try:
        with server.app_context(), get_db().session() as s:
            users = s.scalars(select(User).where(User.username.in_(demo)).order_by(User.id)).all()
    except Exception:  # noqa: BLE001 - no store yet: nothing to list
        return ["(no portal store yet: run `flask --app app portal init --demo`)"]
    if not users:
        return []
    settings: Settings = server.config["PORTAL_SETTINGS"]
    hint = (
        "Portal#2026"
        if settings.demo_password == "Portal#2026"
        else "the value of PORTAL_DEMO_PASSWORD"
    )
    lines = [f"Demo logins (password: {hint}):"]
    for user in users:
        roles = ", ".join(sorted(user.role_codes))
        lines.append(f"  {user.username:<10} {user.display_name}  {roles}  @ {user.branch.name_en}")
    return lines


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        server = create_app()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    settings: Settings = server.config["PORTAL_SETTINGS"]
    print("", *demo_login_lines(server), sep="\n", flush=True)
    print(f"\nBank data portal: http://{settings.host}:{settings.port}/\n", flush=True)
    server.run(host=settings.host, port=settings.port, debug=False, threaded=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
