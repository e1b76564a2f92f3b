"""A grid of widgets on 12 columns: draggable and resizable when editing, a CSS grid otherwise.

Editing uses `dash-dynamic-grid-layout` (a Dash wrapper of react-grid-layout that works with
Dash 4): each item carries a drag handle and resize handles, and the grid's `currentLayout`
property changes when the user drops or resizes an item. Viewing renders the same positions
with a plain CSS grid (assets/dashboards.css), which stacks the items on a phone.

Positions are stored per item as {"x", "y", "w", "h"} in grid units (x + w <= 12); use
`to_grid_layout` / `from_grid_layout` to convert to and from the grid's own property (read
`currentLayout`: the grid sets it whenever the user drops or resizes an item). Items get the
component id `item_id(grid id, key)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash_dynamic_grid_layout as dgl
from dash import html

COLUMNS = 12
ROW_HEIGHT = 60  # px per grid row; the CSS grid uses the same unit and gap
MARGIN = 12  # px between items
HANDLE_BACKGROUND = "#eef3f9"
HANDLE_COLOR = "#15467d"


def _box(value, default: dict | None = None) -> dict:
    """Return a clean {"x","y","w","h"} box (ints, inside the 12 columns)."""
    default = default or {"x": 0, "y": 0, "w": 6, "h": 4}
    try:
        x = int(value.get("x", default["x"]))
        y = int(value.get("y", default["y"]))
        w = int(value.get("w", default["w"]))
        h = int(value.get("h", default["h"]))
    except (AttributeError, TypeError, ValueError):
        return dict(default)
    x = min(max(x, 0), COLUMNS - 1)
    w = min(max(w, 1), COLUMNS - x)
    return {"x": x, "y": max(y, 0), "w": w, "h": min(max(h, 1), 40)}


def item_id(grid_id: str, key: str) -> str:
    """Return the component id of an item of the grid (prefixed, so it clashes with nothing)."""
    return f"{grid_id}--{key}"


def to_grid_layout(layout: dict[str, dict], grid_id: str | None = None) -> list[dict]:
    """Return the grid's layout property ({"i", "x", "y", "w", "h"} per item) for positions.

    With `grid_id`, "i" is the item's component id as `widget_grid` makes it.
    """
    return [
        {"i": item_id(grid_id, str(key)) if grid_id else str(key), **_box(box)}
        for key, box in layout.items()
    ]


def from_grid_layout(
    grid_layout,
    keys: Sequence[str],
    fallback: dict[str, dict] | None = None,
    grid_id: str | None = None,
) -> dict[str, dict]:
    """Return {key: {"x","y","w","h"}} for `keys` from the grid's `currentLayout` property.

    An entry's "i" is the item's component id (`item_id(grid_id, key)`); without `grid_id`
    any "<grid>--key" (or the bare key) matches. Items the grid does not report (not moved
    yet, or just added) keep their `fallback` position; entries for unknown keys are ignored.
    """
    fallback = fallback or {}
    keys = [str(key) for key in keys]
    reported = {}
    for entry in grid_layout or []:
        if not isinstance(entry, dict):
            continue
        name = str(entry.get("i"))
        for key in keys:
            if (
                name == item_id(grid_id, key)
                if grid_id
                else name == key or name.endswith("--" + key)
            ):
                reported[key] = entry
                break
    out = {}
    for key in keys:
        base = fallback.get(key)
        out[key] = _box(reported[key], base) if key in reported else _box(base or {})
    return out


def _item(entry) -> tuple[str, object, str]:
    key, content, *rest = entry
    return str(key), content, (rest[0] if rest else "")


def widget_grid(
    id: str,
    items: Sequence[tuple],
    layout: dict[str, dict],
    editable: bool,
    *,
    row_height: int = ROW_HEIGHT,
    class_name: str = "",
):
    """Return the grid of `items` — (key, component) or (key, component, handle text) — placed
    by `layout` ({key: {"x","y","w","h"}}).

    editable: a drag-and-resize grid whose `currentLayout` property reports the positions
    (read it with `from_grid_layout`); otherwise a static CSS grid (stacked on phones).
    """
    entries = [_item(e) for e in items]
    boxes = {key: _box(layout.get(key) or {}) for key, _c, _t in entries}
    if editable:
        return dgl.DashGridLayout(
            id=id,
            items=[
                dgl.DraggableWrapper(
                    content,
                    id=item_id(id, key),
                    handleText=text or "⠿",
                    handleBackground=HANDLE_BACKGROUND,
                    handleColor=HANDLE_COLOR,
                )
                for key, content, text in entries
            ],
            itemLayout=to_grid_layout(boxes, id),
            rowHeight=row_height,
            cols={bp: COLUMNS for bp in ("lg", "md", "sm", "xs", "xxs")},
            margin=[MARGIN, MARGIN],
            compactType="vertical",
            showRemoveButton=False,
            showResizeHandles=True,
            draggableChildStyle={"overflow": "hidden", "height": "100%"},
            className=f"widget-grid-edit {class_name}".strip(),
        )
    return html.Div(
        [
            html.Div(
                content,
                className="widget-grid-item",
                style={
                    "--gx": boxes[key]["x"] + 1,
                    "--gy": boxes[key]["y"] + 1,
                    "--gw": boxes[key]["w"],
                    "--gh": boxes[key]["h"],
                },
                **{"data-key": key},
            )
            for key, content, _t in entries
        ],
        id=id,
        className=f"widget-grid {class_name}".strip(),
        style={"--grid-row": f"{row_height}px", "--grid-gap": f"{MARGIN}px"},
    )
