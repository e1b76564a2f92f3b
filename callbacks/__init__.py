"""Callbacks, registered per Dash app (never through the global `dash.callback` list)."""

from __future__ import annotations

import dash


def register_callbacks(app: dash.Dash) -> None:
    from callbacks import home, shell

    shell.register(app)
    home.register(app)
    from callbacks import favorites

    favorites.register(app)
