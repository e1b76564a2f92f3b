"""The portal's one chart template, and small chart builders used across pages."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

PALETTE = ["#1f5fa8", "#c8102e", "#2a9d8f", "#e9a23b", "#6c5ce7", "#7f8c8d", "#00838f", "#b5651d"]
FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Helvetica Neue", Arial, sans-serif'

pio.templates["portal"] = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT, "size": 13, "color": "#1c2733"},
        colorway=PALETTE,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 40, "r": 16, "t": 32, "b": 32},
        xaxis={"gridcolor": "#e6ebf1", "zeroline": False},
        yaxis={"gridcolor": "#e6ebf1", "zeroline": False},
        hoverlabel={"font": {"family": FONT}},
    )
)


def sparkline(
    labels: list[str], values: list[float], tone: str = "flat", hover_format: str = ",.0f"
) -> dict:
    """Return a small line chart with no axes, for a KPI card.

    A plain figure dict, not a go.Figure: plotly's validation costs more than the query
    behind a warm card, and this figure sets everything it needs itself.
    """
    color = {"good": "#2a9d8f", "bad": "#c8102e"}.get(tone, PALETTE[0])
    present = [v for v in values if v is not None]
    low, high = (min(present), max(present)) if present else (0, 1)
    pad = (high - low) * 0.15 or abs(high) * 0.05 or 1
    return {
        "data": [
            {
                "type": "scatter",
                "x": labels,
                "y": values,
                "mode": "lines",
                "line": {"color": color, "width": 2},
                # Shade down to zero only when zero is the floor: above a negative line the
                # shading would read as the value.
                "fill": "tozeroy" if low >= 0 else "none",
                "fillcolor": "rgba(31,95,168,0.06)",
                "hovertemplate": "%{x}: %{y:" + hover_format + "}<extra></extra>",
            }
        ],
        "layout": {
            "autosize": True,
            "margin": {"l": 0, "r": 0, "t": 4, "b": 0},
            "showlegend": False,
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"family": FONT},
            "hoverlabel": {"font": {"family": FONT}},
            "xaxis": {"visible": False, "fixedrange": True},
            "yaxis": {"visible": False, "fixedrange": True, "range": [low - pad, high + pad]},
        },
    }
