"""The rows the benchmarks write straight to the database (bench/connections.py,
bench/common.py) skip the app's own code: they must still be rows the app
accepts, or `make bench` breaks while the suite stays green (it did twice: a
NOT NULL column added to the connections, and the agreement before Kit's
consent added to the users)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import KitConnection
from bench.common import add_creators
from bench.connections import populate
from tests.support.installing import kit_redirect, start_install


def test_the_benchmarks_connections_are_rows_the_app_reads(app):
    with app.app_context():
        populate(5, set(), [])
        db.session.remove()
        rows = db.session.scalars(select(KitConnection)).all()
    assert len(rows) == 5
    assert all(row.status == KitConnection.ACTIVE for row in rows)
    assert [row.account_name for row in rows] == [f"Creator {i}" for i in range(1, 6)]
    assert all(row.zone is not None for row in rows)


def test_the_benchmarks_creators_sign_in_and_go_straight_on_to_kit(app, client, kit):
    [(email, password)] = add_creators(app.config["SQLALCHEMY_DATABASE_URI"], 1)
    signed_in = client.post("/login", data={"email": email, "password": password})
    assert signed_in.status_code == 302, signed_in.text
    to_kit = start_install(client, redirect=kit_redirect(kit))
    assert to_kit.status_code == 302, to_kit.text
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")
