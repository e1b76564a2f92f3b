"""Page views and warehouse queries reach the audit chain, with duration and row count."""

from sqlalchemy import select

from portal.db import get_db
from portal.models import AuditEvent
from portal.services.audit import verify_chain


def _events(app, event_type):
    app.extensions["access_log"].flush()
    with app.app_context(), get_db().session() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.event_type == event_type)).all()


def test_queries_are_logged_with_actor_duration_and_rows(app, client_as):
    c = client_as("bj_cm")
    assert (
        c.post(
            "/api/v1/metrics/query", json={"metric": "loan_balance", "by": ["grade"]}
        ).status_code
        == 200
    )
    events = [e for e in _events(app, "query") if e.object_id == "metric:loan_balance"]
    assert events and events[-1].actor_name == "bj_cm"
    assert events[-1].row_count >= 1 and events[-1].duration_ms is not None
    logins = _events(app, "login")
    assert logins[-1].actor_name == "bj_cm" and logins[-1].result == "ok"


def test_page_views_are_logged(app):
    import dash
    from flask import g
    from flask_login import login_user

    from portal.models import User

    with app.test_request_context("/"):
        user = get_db().scoped.scalar(select(User).where(User.username == "leader"))
        login_user(user)
        g.user = user
        dash.page_registry["pages.home"]["layout"]()
    views = _events(app, "page_view")
    assert views and views[-1].object_id == "/" and views[-1].actor_name == "leader"


def test_failed_login_is_audited_even_though_the_request_fails(app, anonymous):
    anonymous.post("/api/v1/auth/login", json={"username": "leader", "password": "Wrong#pass1"})
    failed = _events(app, "login_failed")
    assert failed and failed[-1].actor_name == "leader" and failed[-1].result == "denied"


def test_the_chain_stays_valid(app, client):
    client.post("/api/v1/metrics/query", json={"metric": "deposit_balance"})
    app.extensions["access_log"].flush()
    with app.app_context(), get_db().session() as s:
        assert verify_chain(s) == (True, None)


def test_events_wait_while_the_store_is_down_and_are_written_later(app):
    writer = app.extensions["access_log"]
    writer.flush()
    real_db = writer.db

    class Down:
        def session(self):
            raise ConnectionError("store unreachable")

    writer.db = Down()
    writer.record(
        event_type="page_view", object_type="page", object_id="/outage", actor_name="leader"
    )
    assert writer.flush() == 0 and writer.failed == 1
    writer.db = real_db
    assert writer.flush() == 1
    views = _events(app, "page_view")
    assert views[-1].object_id == "/outage"
