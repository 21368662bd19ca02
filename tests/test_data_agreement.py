"""The creator agrees to what the app keeps before any install goes on to
Kit's consent (app/creator_data/agreement.py): asked once per account, on the
way in (sign-in, plugin consent) or on "Before you connect Kit"."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select

from app.config import public_base_url
from app.extensions import db
from app.models import OAuthAttempt, User
from tests.support.accounts import (
    PASSWORD,
    confirm_email,
    create_user,
    csrf_token,
    outbox_link,
    sign_in,
    sign_up,
)
from tests.support.installing import (
    connect,
    kit_redirect,
    past_agreement,
    start_install,
)
from tests.support.plugins import allow, authorize_url


def agreed_at(app, email="creator@example.com"):  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(User.data_agreed_at).where(User.email == email))


def attempts(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OAuthAttempt))


@pytest.fixture
def not_agreed(app, client):  # type: ignore[no-untyped-def]
    """Signed in, never agreed (an account made before this page existed)."""
    create_user(app, agreed=False)
    assert sign_in(client).status_code == 302


def test_an_install_asks_once_then_goes_on_to_kit(app, client, kit, not_agreed):
    before = start_install(client, redirect=kit_redirect(kit), tenant_name="Blog")
    assert before.status_code == 200
    assert "Before you connect Kit" in before.text
    assert "each event carries the subscriber" in before.text
    assert "90 days" in before.text  # WEBHOOK_EVENTS_KEPT_DAYS, from the settings
    # Nothing has gone to Kit yet: no attempt, no state.
    assert attempts(app) == 0
    assert agreed_at(app) is None

    to_kit = past_agreement(client, before)
    assert to_kit.status_code == 302
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")
    # The install goes on where it was: the same tenant, Kit's redirect kept.
    assert parse_qs(urlsplit(to_kit.location).query)["tenant_name"] == ["Blog"]
    assert attempts(app) == 1
    assert agreed_at(app) is not None

    # Asked once: the next install goes straight to Kit.
    again = start_install(client, redirect=kit_redirect(kit))
    assert again.status_code == 302
    assert again.location.startswith(f"{kit.url}/v4/oauth/authorize?")


def test_signing_in_on_the_way_to_kit_is_agreeing(app, client, kit):
    """The sign-in form on the way to Kit shows the notice above its button."""
    create_user(app, agreed=False)
    next_url = f"/kit/oauth?redirect={quote(kit_redirect(kit))}"
    form = client.get(f"/login?next={quote(next_url)}")
    assert "each event carries the subscriber" in form.text
    assert "Signing in to connect Kit means you agree" in form.text
    signed_in = client.post(
        "/login",
        data={"email": "creator@example.com", "password": PASSWORD, "next": next_url},
    )
    assert signed_in.location == next_url
    assert agreed_at(app) is not None
    to_kit = client.get(next_url)
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")


def test_a_sign_in_elsewhere_neither_shows_nor_records_the_agreement(app, client):
    """Only the way to the Authorization URL asks: the page says what the
    sign-in records, for a look-alike path as for any other."""
    create_user(app, agreed=False)
    for next_url in ("/kit/oauth/callback?code=x", "/kit/oauthx", "/dashboard"):
        form = client.get(f"/login?next={quote(next_url)}")
        assert "Signing in to connect Kit" not in form.text, next_url
    client.post(
        "/login",
        data={
            "email": "creator@example.com",
            "password": PASSWORD,
            "next": "/kit/oauthx",
        },
    )
    assert agreed_at(app) is None


def test_signing_up_and_confirming_in_this_browser_is_agreeing(app, client, kit):
    """The sign-up page shows the notice; the confirmation proves the address."""
    page = client.get("/signup")
    assert "each event carries the subscriber" in page.text
    assert "Creating your account means you agree" in page.text
    sign_up(client, "new@example.com")
    assert agreed_at(app, "new@example.com") is not None
    to_kit = start_install(client, redirect=kit_redirect(kit))
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")


def test_a_sign_up_confirmed_in_another_browser_is_not_agreeing(app, client, kit):
    """Someone signs up with an address; its owner confirms elsewhere (with the
    password): the owner never saw the notice, and is asked."""
    form = {"email": "new@example.com", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/signup", data=form).status_code == 302
    owner = app.test_client()
    link = outbox_link(app, "new@example.com", "/verify-email")
    token = parse_qs(urlsplit(link).query)["token"][0]
    confirmed = owner.post("/verify-email", data={"token": token, "password": PASSWORD})
    assert confirmed.status_code == 302, confirmed.text
    assert agreed_at(app, "new@example.com") is None
    assert "Before you connect Kit" in start_install(owner).text


def test_signing_in_elsewhere_is_not_agreeing(app, client, kit):
    create_user(app, agreed=False)
    assert "each event carries" not in client.get("/login").text
    assert sign_in(client).status_code == 302
    assert agreed_at(app) is None
    assert "Before you connect Kit" in start_install(client).text


def test_an_install_started_here_asks_before_kits_install_link(make_app, kit):
    app = make_app(KIT_APP_ID=str(kit.config.app_id))
    client = app.test_client()
    create_user(app, agreed=False)
    assert sign_in(client).status_code == 302
    clicked_on = "http://localhost/dashboard?period=7"
    before = client.get("/kit/oauth", headers={"Referer": clicked_on})
    assert before.status_code == 200
    assert "Before you connect Kit" in before.text
    # The page it goes on from is this one: the page clicked on is kept.
    to_kit = past_agreement(client, before)
    assert to_kit.location.startswith(f"{kit.url}/apps/{kit.config.app_id}/install?")
    return_to = parse_qs(urlsplit(to_kit.location).query)["return_to"]
    assert return_to == [f"{public_base_url(app.config)}/dashboard?period=7"]


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.com/kit/oauth",
        "https://evil.com/kit/oauth",
        "/dashboard",
        "",
        "/kit/oauthx",
    ],
)
def test_continue_only_ever_goes_on_to_the_install(app, client, not_agreed, next_url):
    answer = client.post("/kit/oauth/agree", data={"next": next_url})
    assert answer.status_code == 302
    assert answer.location == "/kit/oauth"
    assert agreed_at(app) is not None


def test_continue_needs_this_sites_form_and_a_signed_in_creator(make_app, kit):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    create_user(app, agreed=False)
    assert sign_in(client, csrf=True).status_code == 302
    forged = client.post("/kit/oauth/agree", data={"next": "/kit/oauth"})
    assert forged.status_code == 400
    assert "This form has expired" in forged.text
    assert agreed_at(app) is None
    page = client.get("/kit/oauth")
    real = client.post(
        "/kit/oauth/agree", data={"next": "/kit/oauth", "csrf_token": csrf_token(page)}
    )
    assert real.status_code == 302
    assert agreed_at(app) is not None

    signed_out = app.test_client().post("/kit/oauth/agree", data={"next": "/kit/oauth"})
    assert signed_out.status_code in (302, 400)
    assert signed_out.location != "/kit/oauth"


def test_allowing_kits_plugin_access_is_agreeing(app, client, kit, not_agreed):
    """The plugin consent page shows the notice, and the API install comes
    right after it in the same browser."""
    page = client.get(authorize_url(app))
    assert "each event carries the subscriber" in page.text
    assert "Allowing means you agree" in page.text
    assert allow(client, authorize_url(app)).status_code == 302
    assert agreed_at(app) is not None
    to_kit = start_install(client, redirect=kit_redirect(kit))
    assert to_kit.location.startswith(f"{kit.url}/v4/oauth/authorize?")


def test_the_settings_page_says_when_the_creator_agreed(app, client, kit):
    sign_up(client)
    connect(app, kit)
    page = client.get("/kit/settings")
    assert page.status_code == 200
    assert "You agreed to the app keeping this on" in page.text
    assert agreed_at(app).date().isoformat() in page.text  # the <time> stamp


def test_signing_in_unconfirmed_on_the_way_to_kit_agrees_once_confirmed(
    app, client, kit
):
    create_user(app, verified=False, agreed=False)
    next_url = f"/kit/oauth?redirect={quote(kit_redirect(kit))}"
    signed_in = client.post(
        "/login",
        data={"email": "creator@example.com", "password": PASSWORD, "next": next_url},
    )
    assert signed_in.location == "/signup/check-inbox"
    assert agreed_at(app) is None  # not before the address is proven
    assert confirm_email(client, "creator@example.com") == next_url
    assert agreed_at(app) is not None
