"""`flask kit webhooks list | rotate | recover`, against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from tests.support.accounts import signed_in
from tests.support.installing import install
from tests.support.rows import stored
from tests.support.webhooks import (
    delivery_body,
    endpoint_of,
    kit_event,
    kit_signature,
    stored_events,
)


def webhooks(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["kit", "webhooks", *args])


def installed(client, kit_browser) -> None:  # type: ignore[no-untyped-def]
    signed_in(client)
    assert install(client, kit_browser).status_code == 302


def test_list_shows_each_endpoint_and_never_a_secret(app, client, kit, kit_browser):
    installed(client, kit_browser)
    row = endpoint_of(app)
    listed = webhooks(app, "list")
    assert listed.exit_code == 0, listed.output
    header, line = listed.output.splitlines()
    assert header.split()[:4] == ["CONNECTION", "ACCOUNT", "ENDPOINT", "KIT"]
    assert line.split()[0] == "1"
    assert "active" in line and row.kit_endpoint_id in line and "never" in line
    assert row.secret not in listed.output

    checked = webhooks(app, "list", "--check")
    assert checked.exit_code == 0, checked.output
    assert "active at Kit" in checked.output
    assert checked.output.splitlines()[1].split()[-1] == "0"  # failed deliveries
    assert row.secret not in checked.output


def test_rotate_keeps_the_old_secret_valid_through_the_window(
    app, client, kit, kit_browser
):
    installed(client, kit_browser)
    before = endpoint_of(app)
    rotated = webhooks(app, "rotate", "1")
    assert rotated.exit_code == 0, rotated.output
    after = endpoint_of(app)
    [at_kit] = kit.state.webhooks.endpoints.values()
    assert after.secret == at_kit.secret != before.secret
    assert after.previous_secret == before.secret
    assert after.previous_secret_expires_at > datetime.now(UTC)
    assert before.secret not in rotated.output and after.secret not in rotated.output

    url = f"/webhooks/kit/{after.key}"
    for secret in (before.secret, after.secret):
        body = delivery_body([kit_event()])
        signed = kit_signature(body, [secret])
        answer = client.post(url, data=body, headers={"X-Kit-Signature": signed})
        assert answer.status_code == 200

    again = webhooks(app, "rotate", "1")
    assert again.exit_code == 1
    assert "--force" in again.output
    assert endpoint_of(app).secret == after.secret
    assert webhooks(app, "rotate", "1", "--force").exit_code == 0
    assert endpoint_of(app).previous_secret == after.secret


def test_rotate_without_an_endpoint_says_so(app):
    answer = webhooks(app, "rotate", "7")
    assert answer.exit_code == 1
    assert "no endpoint" in answer.output


def test_recover_stores_what_kit_could_not_deliver_once(make_app, kit, kit_browser):
    # Kit delivers to a port where nothing listens: every attempt fails.
    app = make_app(PUBLIC_BASE_URL="http://127.0.0.1:9")
    client = app.test_client()
    installed(client, kit_browser)
    token = stored(app).access_token
    for email in ("one@example.com", "two@example.com"):
        made = requests.post(
            f"{kit.url}/v4/subscribers",
            json={"email_address": email},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert made.status_code == 201
    kit.state.webhooks.flush(timeout=10)
    assert stored_events(app) == []

    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    recovered = webhooks(app, "recover", "1", "--since", since, "--until", until)
    assert recovered.exit_code == 0, recovered.output
    emails = sorted(e.subscriber_email for e in stored_events(app))
    assert emails == ["one@example.com", "two@example.com"]
    assert "2 stored" in recovered.output

    again = webhooks(app, "recover", "1", "--since", since, "--until", until)
    assert "0 stored, 2 already there" in again.output
    assert len(stored_events(app)) == 2

    earlier = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    none = webhooks(app, "recover", "1", "--since", earlier, "--until", since)
    assert none.output.startswith("0 deliveries")
    bad = webhooks(app, "recover", "1", "--since", "yesterday", "--until", until)
    assert bad.exit_code == 2


def test_doctor_checks_the_public_url(make_app):
    from app.cli.checks import public_url

    cases = {
        ("production", "https://app.example.com"): "PASS",
        ("production", "http://app.example.com"): "FAIL",
        ("development", "http://127.0.0.1:5000"): "WARN",
        ("production", "https://app.example.com/path?x=1"): "FAIL",
        ("production", "app.example.com"): "FAIL",
        ("production", "https://app.example.com:port"): "FAIL",
    }
    for (env, url), status in cases.items():
        check = public_url(make_app(APP_ENV=env, PUBLIC_BASE_URL=url))
        assert check.status == status, (url, check)
    derived = make_app(
        APP_ENV="production",
        KIT_REDIRECT_URI="https://a.example.com/kit/oauth/callback",
        PUBLIC_BASE_URL=None,  # unset: derived from the redirect URI
    )
    check = public_url(derived)
    assert (check.status, check.detail.split(" ")[0]) == (
        "PASS",
        "https://a.example.com",
    )


def test_revoke_previous_closes_the_rotation_window_now(app, client, kit, kit_browser):
    installed(client, kit_browser)
    before = endpoint_of(app)
    assert webhooks(app, "rotate", "1").exit_code == 0
    after = endpoint_of(app)
    url = f"/webhooks/kit/{after.key}"

    def deliver(secret: str) -> int:
        body = delivery_body([kit_event()])
        signed = kit_signature(body, [secret])
        return client.post(
            url, data=body, headers={"X-Kit-Signature": signed}
        ).status_code

    assert deliver(before.secret) == 200  # the window is open

    closed = webhooks(app, "revoke-previous", "1")
    assert closed.exit_code == 0, closed.output
    assert "endpoint" in closed.output
    assert before.secret not in closed.output and after.secret not in closed.output
    row = endpoint_of(app)
    assert (row.previous_secret, row.previous_secret_expires_at) == (None, None)
    assert row.secret == after.secret
    [at_kit] = kit.state.webhooks.endpoints.values()
    assert at_kit.previous_secret is None  # Kit signs with the new one only

    assert deliver(before.secret) == 401  # refused from now on
    assert deliver(after.secret) == 200


def test_revoke_previous_for_all_and_without_an_endpoint(app, client, kit, kit_browser):
    assert webhooks(app, "revoke-previous").exit_code == 2  # a connection, or --all
    nothing = webhooks(app, "revoke-previous", "7")
    assert nothing.exit_code == 1 and "no endpoint" in nothing.output

    installed(client, kit_browser)
    before = endpoint_of(app)
    assert webhooks(app, "rotate", "1").exit_code == 0
    # Kit unreachable: the window still closes here (what refuses the old
    # secret), and the command says Kit was not told.
    kit.state.add_fault("api", "500", times=10)
    every = webhooks(app, "revoke-previous", "--all")
    kit.state.clear_faults()
    assert every.exit_code == 1, every.output
    assert "Kit" in every.output
    assert endpoint_of(app).previous_secret is None
    body = delivery_body([kit_event()])
    signed = kit_signature(body, [before.secret])
    url = f"/webhooks/kit/{endpoint_of(app).key}"
    assert (
        client.post(url, data=body, headers={"X-Kit-Signature": signed}).status_code
        == 401
    )

    again = webhooks(app, "revoke-previous", "--all")
    assert again.exit_code == 0, again.output
    assert (
        kit.state.webhooks.endpoints[int(before.kit_endpoint_id)].previous_secret
        is None
    )


def test_a_disconnected_endpoint_is_listed_gone_and_kit_is_not_asked(
    app, client, kit, kit_browser
):
    installed(client, kit_browser)
    assert client.post("/connections/1/disconnect").status_code == 302
    calls = len(kit.state.api_requests)
    listed = webhooks(app, "list", "--check")
    assert listed.exit_code == 0, listed.output
    assert " gone " in listed.output.splitlines()[1]
    assert len(kit.state.api_requests) == calls  # the revoked grant is not used
    refused = webhooks(app, "revoke-previous", "1")
    assert refused.exit_code == 1 and "no endpoint" in refused.output
