"""Account mail on its way out: a mail server that is down changes no answer,
mail to one address and the routes that send it are rate limited, `flask kit
dev` delivers to the sandbox's outbox, and `flask kit doctor` wants a mail
server in production."""

from __future__ import annotations

from app.extensions import db
from tests.servers import free_port
from tests.support.accounts import PASSWORD, create_user, outbox, sign_in


def _ask_for_reset(client, email: str = "creator@example.com"):  # type: ignore[no-untyped-def]
    return client.post("/forgot-password", data={"email": email})


# --- mail that cannot go -------------------------------------------------------------


def test_a_mail_server_that_is_down_gives_the_same_answer(make_app, caplog):
    app = make_app(MAIL_PORT=free_port())  # nothing listens there
    client = app.test_client()
    answer = client.post(
        "/signup",
        data={"email": "ada@example.com", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert answer.status_code == 302
    assert answer.location == "/signup/check-inbox"
    assert "could not be sent" in caplog.text
    assert _ask_for_reset(client, "ada@example.com").status_code == 302


# --- rate limits ---------------------------------------------------------------------


def test_mail_to_one_address_is_capped_on_every_route_without_saying_so(make_app):
    """Over the cap, the mail is not sent, and the answer is the one every
    address gets: a 429 for addresses that get mail would tell which ones
    have an account (tests/test_enumeration.py)."""
    app = make_app(RATELIMIT_ENABLED=True)
    create_user(app, "owner@example.com")
    create_user(app, "new@example.com", verified=False)

    def signup(client):  # type: ignore[no-untyped-def]
        return client.post(
            "/signup",
            data={
                "email": "owner@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        ).status_code

    # Each from a different address would still count: the key is the recipient.
    codes = [signup(app.test_client()) for _ in range(3)]
    codes.append(_ask_for_reset(app.test_client(), "owner@example.com").status_code)
    assert codes == [302, 302, 302, 302]
    assert len(outbox(app, "owner@example.com")) == 3
    # Mail asked for by others never locks the owner out of signing in.
    assert sign_in(app.test_client(), "owner@example.com").location == "/dashboard"

    resend = [sign_in(app.test_client(), "new@example.com").location for _ in range(4)]
    assert resend == ["/signup/check-inbox"] * 4
    assert len(outbox(app, "new@example.com")) == 3


def test_forgot_password_is_rate_limited_per_client(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    codes = [
        _ask_for_reset(client, f"person{n}@example.com").status_code for n in range(6)
    ]
    assert codes == [302] * 5 + [429]
    assert "Too many requests" in _ask_for_reset(client, "x@example.com").text


def test_sign_up_is_rate_limited_per_client(make_app):
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    codes = [
        client.post(
            "/signup",
            data={
                "email": f"p{n}@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        ).status_code
        for n in range(6)
    ]
    assert codes == [302] * 5 + [429]


# --- development ---------------------------------------------------------------------


def test_flask_kit_dev_sends_the_mail_to_the_sandbox_outbox(kit, database_url):
    """`flask kit dev` in sandbox mode: the sandbox it starts receives the
    app's mail on its HTTP port + 24, and shows it in its outbox."""
    from app import create_app
    from app.cli.dev import start_sandbox
    from tests.support.settings import app_settings

    settings = app_settings(kit, database_url)
    for name in ("KIT_CLIENT_ID", "KIT_CLIENT_SECRET", "KIT_APP_URL", "KIT_API_URL"):
        del settings[name]
    del settings["MAIL_SERVER"], settings["MAIL_PORT"]
    port = free_port()
    settings["KIT_SANDBOX_URL"] = f"http://127.0.0.1:{port}"
    app = create_app(settings)
    assert app.config["MAIL_BACKEND"] == "console"  # before the sandbox starts
    with app.app_context():
        app.config["KIT_REDIRECT_URI"] = "http://localhost/kit/oauth/callback"
        server = start_sandbox(app, "http://localhost")
    try:
        assert server.smtp_port == port + 24
        assert app.config["MAIL_PORT"] == port + 24
        app.test_client().post(
            "/signup",
            data={
                "email": "dev@example.com",
                "password": PASSWORD,
                "confirm": PASSWORD,
            },
        )
        assert len(outbox(app, "dev@example.com")) == 1  # read at KIT_API_URL
    finally:
        server.stop()
        with app.app_context():
            db.engine.dispose()


def test_doctor_fails_production_without_a_mail_server(make_app):
    from app.cli.checks import outgoing_mail

    production = make_app(APP_ENV="production", MAIL_SERVER=None, MAIL_PORT=None)
    assert production.config["MAIL_BACKEND"] == "smtp"
    check = outgoing_mail(production)
    assert check.status == "FAIL"
    assert "MAIL_SERVER" in check.fix
    assert outgoing_mail(make_app(MAIL_SERVER=None, MAIL_PORT=None)).status == "WARN"
    ready = make_app(
        APP_ENV="production",
        MAIL_USE_TLS="true",
        MAIL_USERNAME="apikey",
        MAIL_DEFAULT_SENDER="Kit App <hello@example.com>",
    )
    assert outgoing_mail(ready).status == "PASS"
