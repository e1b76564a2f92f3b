"""Who is asking, and which warehouse tables they may read.

`current_tables()` is the single place where a request obtains warehouse tables. Every query
path (metrics, pivots, ad-hoc, exports, APIs) goes through it, and it hands out a provider
that applies the user's row-level scope and PII masking (datasources/scope.py) when a table
is obtained, so no path can skip them.
"""

from __future__ import annotations

from flask import current_app, g
from flask_babel import gettext as _
from flask_login import current_user

from datasources.relations import TableProvider
from datasources.scope import Principal, ScopedTables
from portal.db import get_db
from portal.errors import Unauthorized
from portal.services.grants import unmask_tables


def current_principal() -> Principal:
    """Return the logged-in user as a Principal (roles, groups, unmask grants), once per request."""
    principal = g.get("principal")
    if principal is None:
        if not current_user or not current_user.is_authenticated:
            raise Unauthorized(_("Please log in first."))
        with get_db().session() as s:
            unmask = unmask_tables(s, current_user)
        principal = g.principal = Principal.from_user(current_user, unmask=unmask)
    return principal


def current_tables() -> TableProvider:
    """Return the table provider for the current request's user."""
    tables = g.get("tables")
    if tables is None:
        tables = g.tables = ScopedTables(current_app.extensions["warehouse"], current_principal())
    return tables
