"""Installs started on the app's own site go through Kit's install link
(KIT_APP_ID set), and come back to the page the creator started from through
an allow-listed `return_to`; without an app id, the direct authorize request.
The sandbox plays Kit's side: the install link, its allow-list, the hop back.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from app.config import ConfigError
from app.models import KitConnection
from tests.support.accounts import create_user, sign_in
from tests.support.installing import connect
from tests.support.rows import connections

PUBLIC = "http://127.0.0.1:9"  # the test apps' PUBLIC_BASE_URL


@pytest.fixture
def linked(make_app, kit):  # type: ignore[no-untyped-def]
    """An app with the sandbox's app id, and its signed-in creator's client."""
    app = make_app(KIT_APP_ID=str(kit.config.app_id))
    client = app.test_client()
    create_user(app)
    assert sign_in(client).status_code == 302
    return app, client


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def through_kit(kit, client, kit_browser, link: str) -> requests.Response:  # type: ignore[no-untyped-def]
    """From Kit's install link to the end, as the creator's browser goes:
    Kit's install link → our Authorization URL → Kit's consent →
    our callback → Kit, which answers with where it sends the creator."""
    install = kit_browser.http.get(link, allow_redirects=False, timeout=5)
    assert install.status_code == 302, install.text
    to_authorize = client.get(install.headers["Location"])
    assert to_authorize.status_code == 302, to_authorize.text
    callback = client.get(kit_browser.consent(to_authorize.location))
    assert callback.status_code == 302, callback.text
    assert callback.location.startswith(f"{kit.url}/apps/{kit.config.app_id}?")
    return kit_browser.http.get(callback.location, allow_redirects=False, timeout=5)


def test_without_an_app_id_connect_goes_straight_to_kits_authorize(make_app, kit):
    app = make_app()
    client = app.test_client()
    create_user(app)
    sign_in(client)
    answer = client.get("/kit/oauth", headers={"Referer": "http://localhost/accounts"})
    assert answer.status_code == 302
    assert answer.location.startswith(f"{kit.url}/v4/oauth/authorize?")


def test_connect_goes_through_kits_install_link_and_back_to_the_page(
    linked, kit, kit_browser
):
    app, client = linked
    answer = client.get("/kit/oauth", headers={"Referer": "http://localhost/accounts"})
    assert answer.status_code == 302
    link = answer.location
    assert link.startswith(f"{kit.url}/apps/4242/install?")
    assert query(link) == {"k_app_id": "k_4242", "return_to": f"{PUBLIC}/accounts"}

    before = kit.state.install_completions
    back = through_kit(kit, client, kit_browser, link)
    assert back.status_code == 302
    assert back.headers["Location"] == f"{PUBLIC}/accounts"
    assert kit.state.install_completions == before + 1  # Kit counted it
    (connection,) = connections(app)
    assert connection.status == KitConnection.ACTIVE


def test_the_page_of_a_dashboard_tab_is_where_the_creator_comes_back(linked, kit):
    _, client = linked
    answer = client.get(
        "/kit/oauth", headers={"Referer": "http://localhost/c/1/tags?page=2"}
    )
    assert query(answer.location)["return_to"] == f"{PUBLIC}/c/1/tags?page=2"
    # No Referer, or one from another site: the Kit accounts page.
    for referrer in (
        {},
        {"Referer": "https://elsewhere.example/accounts"},
        {"Referer": "http://[::1/accounts"},  # not a URL at all
        {"Referer": "http://localhost//evil.example/x"},
    ):
        answer = client.get("/kit/oauth", headers=referrer)
        assert query(answer.location)["return_to"] == f"{PUBLIC}/accounts"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/dashboard", f"{PUBLIC}/dashboard"),
        (f"{PUBLIC}/accounts?x=1", f"{PUBLIC}/accounts?x=1"),
    ],
)
def test_a_return_to_of_ours_is_kept(linked, given, expected):
    _, client = linked
    answer = client.get(f"/kit/oauth?{urlencode({'return_to': given})}")
    assert answer.status_code == 302
    assert query(answer.location)["return_to"] == expected


@pytest.mark.parametrize(
    "crafted",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example/x",
        "http://127.0.0.1:9@evil.example/",
        "https://127.0.0.1:9/accounts",  # our host, another scheme
        "http://127.0.0.1:99/accounts",  # our host, another port
        "javascript:alert(1)",
    ],
)
def test_a_return_to_elsewhere_is_refused_with_a_way_on(linked, crafted):
    _, client = linked
    answer = client.get(f"/kit/oauth?{urlencode({'return_to': crafted})}")
    assert answer.status_code == 400
    assert "send you to another site" in answer.text
    assert 'href="/kit/oauth"' in answer.text  # Connect Kit


def test_a_tenant_label_and_a_reconnect_survive_the_trip_through_kit(
    linked, kit, kit_browser
):
    app, client = linked
    connection_id = connect(app, kit, tenant_name="Shop")
    kit.state.revoke_all_for_account(min(kit.state.accounts))
    answer = client.get(
        f"/kit/oauth?tenant_name=Shop&reconnect={connection_id}",
        headers={"Referer": f"http://localhost/connections/{connection_id}"},
    )
    back = through_kit(kit, client, kit_browser, answer.location)
    assert back.headers["Location"] == f"{PUBLIC}/connections/{connection_id}"
    (connection,) = connections(app)
    assert (connection.id, connection.tenant_name) == (connection_id, "Shop")
    # The label was used once: an install from Kit's App Store later is plain.
    again = client.get(
        "/kit/oauth", query_string={"redirect": f"{kit.url}/apps/4242?success=true"}
    )
    assert "tenant_name" not in query(again.location)


def test_a_signed_out_visitor_goes_to_kit_first_then_signs_up(make_app, kit):
    app = make_app(KIT_APP_ID="4242")
    client = app.test_client()
    answer = client.get("/kit/oauth", headers={"Referer": "http://localhost/"})
    assert answer.location.startswith(f"{kit.url}/apps/4242/install?")
    assert query(answer.location)["return_to"] == f"{PUBLIC}/"
    install = requests.get(answer.location, allow_redirects=False, timeout=5)
    from_kit = client.get(install.headers["Location"])
    assert from_kit.status_code == 302
    assert from_kit.location.startswith("/signup?next=")


def test_the_sandbox_refuses_a_return_to_outside_the_allow_list(kit):
    base = f"{kit.url}/apps/4242"
    evil = {"return_to": "https://evil.example/"}
    for url, params in (
        (f"{base}/install", {"k_app_id": "k_4242", **evil}),
        (f"{base}/install", evil),
        (base, {"success": "true", **evil}),
        (base, {"success": "true", "return_to": "http://127.0.0.1.evil.example/"}),
        (base, {"success": "true", "return_to": "http://user@127.0.0.1/"}),
    ):
        before = kit.state.install_completions
        answer = requests.get(url, params=params, allow_redirects=False, timeout=5)
        assert answer.status_code == 400, (url, params)
        assert "not allowed" in answer.text
        assert kit.state.install_completions == before
    wrong_id = requests.get(
        f"{base}/install", params={"k_app_id": "k_1"}, allow_redirects=False, timeout=5
    )
    assert wrong_id.status_code == 400
    assert "k_4242" in wrong_id.text


def test_the_sandbox_allows_subdomains_of_an_allow_listed_domain(kit):
    kit.config.return_to_domains = ["example.com"]
    answer = requests.get(
        f"{kit.url}/apps/4242",
        params={"success": "true", "return_to": "https://app.example.com/x?y=1"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "https://app.example.com/x?y=1"


@pytest.mark.parametrize("app_id", ["abc", "k_4242", "12 3"])
def test_an_app_id_that_is_not_a_number_is_refused_at_start(make_app, app_id):
    with pytest.raises(ConfigError, match="KIT_APP_ID"):
        make_app(KIT_APP_ID=app_id)


@pytest.mark.parametrize(
    "crafted",
    [
        "http://[",
        "\x00",
        "a" * 5000,
        "http://127.0.0.1:99999/",
        "/x\r\nSet-Cookie: a=b",
    ],
)
def test_a_hostile_return_to_or_referrer_is_never_a_500(linked, crafted):
    _, client = linked
    answer = client.get("/kit/oauth", query_string={"return_to": crafted})
    assert answer.status_code == 400, answer.text
    if crafted.isprintable():  # a header cannot carry the others
        referrer = {"Referer": f"http://localhost{crafted}"}
        answer = client.get("/kit/oauth", headers=referrer)
        assert answer.status_code == 302, answer.text


def test_the_dev_server_uses_the_sandboxs_install_link(make_app, kit):
    """`make run`: the app gets the sandbox's app id, and the sandbox allows
    the app's host as a return_to, so the dev journey is the production one."""
    from app.cli.dev import start_sandbox
    from tests.servers import free_port

    app = make_app(KIT_SANDBOX_URL=f"http://127.0.0.1:{free_port()}")
    app.config["KIT_REDIRECT_URI"] = "http://devbox.test:5000/kit/oauth/callback"
    sandbox = start_sandbox(app, "http://devbox.test:5000")
    try:
        assert app.config["KIT_APP_ID"] == str(sandbox.config.app_id)
        assert "devbox.test" in sandbox.config.return_to_domains
    finally:
        sandbox.stop()
