"""The demo organisation's content: saved pivots and report links, dashboards, listed apps with
their comments and ratings, the marketing group's members and posts (`init --demo` only).

Each area's seeder is idempotent and returns what it created; this runs them in an order where
each finds what it builds on (pivots and dashboards before the apps that package them).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from portal.services.dashboard_demo import seed_dashboard_demo
from portal.services.pivot_demo import seed_pivot_demo
from portal.services.social_demo import seed_social_demo
from portal.services.store_demo import seed_store_demo

SEEDERS = (
    ("pivots", seed_pivot_demo),
    ("dashboards", seed_dashboard_demo),
    ("store", seed_store_demo),
    ("social", seed_social_demo),
)


def seed_demo_content(session: Session) -> dict[str, int]:
    """Create the demo content that is missing; return {"<area>.<kind>": n} of what was added."""
    created: dict[str, int] = {}
    for area, seed in SEEDERS:
        result = seed(session)
        counts = result if isinstance(result, dict) else {area: result}
        for kind, n in counts.items():
            created[kind if kind == area else f"{area}.{kind}"] = int(n)
    session.flush()
    return created
