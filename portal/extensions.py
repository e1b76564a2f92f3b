"""Flask extensions, created unbound and bound to an app with `init_app`."""

from __future__ import annotations

from flask_babel import Babel
from flask_caching import Cache

cache = Cache()
babel = Babel()
