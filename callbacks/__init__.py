"""Callbacks, registered per Dash app (never through the global `dash.callback` list)."""

from __future__ import annotations

import importlib

import dash

# One module per page or feature, each with a `register(app)`.
MODULES = (
    "shell",
    "home",
    "favorites",
    "search",
    "home_grid",
    "admin_home",
    "pivot",
    "reports",
    "dashboards",
    "carousel",
    "bigscreen",
    "mining",
    "uploads",
    "store",
    "social",
)


def register_callbacks(app: dash.Dash) -> None:
    for name in MODULES:
        importlib.import_module(f"callbacks.{name}").register(app)
