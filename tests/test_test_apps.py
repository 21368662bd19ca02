"""The test apps' teardown (conftest.make_app) leaves nothing open behind it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import _close_on_checkin


def test_a_connection_given_back_after_the_pool_closed_is_closed(app):
    """A thread of the test that still held a connection when its app's pool
    was disposed: giving it back closes it, instead of leaving it for the
    garbage collector (a ResourceWarning failing a later test)."""
    with app.app_context():
        held = db.engine.connect()
        held.execute(text("SELECT 1"))
        dbapi_connection = held.connection.dbapi_connection
        _close_on_checkin(db.engine.pool)
        db.engine.dispose()
        dbapi_connection.cursor().execute("SELECT 1")  # still open while held
        held.close()
    with pytest.raises(Exception, match="closed"):
        dbapi_connection.cursor().execute("SELECT 1")
