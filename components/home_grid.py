"""The home page's grid: widgets placed by the user's layout; draggable while customising."""

from __future__ import annotations

from components.grid import widget_grid
from components.home_widgets import widget_frame, widget_meta
from portal.services.home_layout import WIDGETS

HOME_IDS = {
    "layout": "home-layout",
    "editing": "home-editing",
    "edit": "home-edit",
    "edit_bar": "home-edit-bar",
    "grid": "home-grid",
    "grid_view": "home-grid-view",
    "grid_edit": "home-grid-edit",
    "status": "home-status",
    "add_choice": "home-add-choice",
    "add": "home-add",
    "reset": "home-reset",
    "role_choice": "home-role-choice",
    "role_save": "home-role-save",
    "tiles_modal": "home-tiles-modal",
    "tiles_order": "home-tiles-order",
    "tiles_save": "home-tiles-save",
    "tiles_feedback": "home-tiles-feedback",
}


def home_grid(layout: dict, editing: bool):
    """Return the grid of the layout's widgets (each body is filled by its own callback)."""
    items = [(w["id"], widget_frame(w["id"], editing)) for w in layout["widgets"]]
    boxes = {w["id"]: {k: w[k] for k in ("x", "y", "w", "h")} for w in layout["widgets"]}
    grid_id = HOME_IDS["grid_edit"] if editing else HOME_IDS["grid_view"]
    return widget_grid(grid_id, items, boxes, editable=editing, class_name="home-grid")


def add_widget_options(layout: dict) -> list[dict]:
    """Return the "add a widget" choices: the widgets not on the layout yet."""
    meta = widget_meta()
    present = {w["id"] for w in layout["widgets"]}
    return [{"label": meta[w][1], "value": w} for w in WIDGETS if w not in present]
