"""Callbacks of the application shell."""

from __future__ import annotations

import dash
from dash import Input, Output, State


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("navbar-collapse", "is_open"),
        Input("navbar-toggler", "n_clicks"),
        State("navbar-collapse", "is_open"),
        prevent_initial_call=True,
    )
    def toggle_navbar(n_clicks, is_open):
        """Open or close the collapsed navigation on small screens."""
        return not is_open
