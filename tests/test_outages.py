"""The database not answering is a 503 "try again" with Retry-After, never a
500; and every 503 the app sends says when to try again (Retry-After)."""

from __future__ import annotations

from flask import abort

from tests.servers import free_port
from tests.support.accounts import PASSWORD, sign_up


def _dead_postgres() -> str:
    """A PostgreSQL URL nothing listens on: the server is down."""
    return f"postgresql+psycopg://app:secret@127.0.0.1:{free_port()}/app"


def test_a_database_outage_is_a_503_with_retry_after(make_app):
    app = make_app(DATABASE_URL=_dead_postgres())
    client = app.test_client()
    answers = {
        "sign-in": client.post(
            "/login", data={"email": "a@example.com", "password": PASSWORD}
        ),
        "sign-up": client.post(
            "/signup",
            data={"email": "b@example.com", "password": PASSWORD, "confirm": PASSWORD},
        ),
        "health": client.get("/healthz"),
        "as json": client.post(
            "/login",
            data={"email": "a@example.com", "password": PASSWORD},
            headers={"Accept": "application/json"},
        ),
    }
    for name, answer in answers.items():
        assert answer.status_code == 503, (name, answer.status_code, answer.text[:300])
        assert answer.headers["Retry-After"] == "5", name
        assert "Something went wrong" not in answer.text, name
    assert "database" in answers["sign-in"].text.lower()
    assert answers["health"].json["database"] == "unreachable"


def test_signed_in_when_the_database_goes_away_is_a_503(make_app, kit, tmp_path):
    """A signed-in creator's session is read from the database on every page:
    with the database gone, that read is the first to fail."""
    path = tmp_path / "app.db"
    app = make_app(DATABASE_URL=f"sqlite:///{path}")
    with app.app_context():
        from app.extensions import db

        db.create_all()
    client = app.test_client()
    sign_up(client)
    with app.app_context():
        db.engine.dispose()
    path.unlink()
    path.mkdir()  # SQLite cannot open a folder: "unable to open database file"
    page = client.get("/accounts")
    assert page.status_code == 503, page.text[:300]
    assert page.headers["Retry-After"] == "5"


def test_every_503_carries_retry_after(app):
    def refuses() -> str:
        abort(503)

    def answers_503() -> tuple[str, int]:
        return "down for a moment", 503

    app.add_url_rule("/_test/abort-503", "abort_503", refuses)
    app.add_url_rule("/_test/plain-503", "plain_503", answers_503)
    client = app.test_client()
    for path in ("/_test/abort-503", "/_test/plain-503"):
        answer = client.get(path)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5", path
