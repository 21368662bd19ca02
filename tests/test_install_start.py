"""Our Authorization URL, /kit/oauth: what it sends to Kit, which `redirect` back
to Kit it accepts, and the attempts it keeps."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from app.extensions import db
from app.models import OAuthAttempt
from tests.support.installing import age_attempts, install, kit_redirect, start_install


def test_authorize_request_carries_state_pkce_and_tenant(client, kit, user):
    to_kit = start_install(client, redirect=kit_redirect(kit), tenant_name="Blog")
    query = parse_qs(urlsplit(to_kit.location).query)
    assert query["client_id"] == [kit.config.client_id]
    assert query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://localhost/kit/oauth/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32
    assert query["tenant_name"] == ["Blog"]
    # the Kit redirect is kept server-side, not sent to Kit
    assert "redirect" not in query


# --- the redirect parameter -----------------------------------------------------------


def hostile_redirects(kit_url: str) -> list[str]:
    host = urlsplit(kit_url).netloc
    return [
        "https://evil.com/apps",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        f"http://{host}.evil.com/apps",
        f"http://{host}@evil.com/apps",
        f"http://user:pw@{host}/apps",
        f"https://{host}/apps",  # scheme change
        f"http://{host.split(':')[0]}:1/apps",  # another port
        f"ftp://{host}/apps",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.domain)",
        "data:text/html,<script>alert(1)</script>",
        f"http://{host}\\@evil.com/",
        f"http://{host}%2f@evil.com/",
        f"http:/{host}/apps",
        f"http:{host}/apps",
        f" http://{host}/apps",
        f"http://{host}/apps\n",
        f"http://evil.com#{host}",
        f"http://evil.com?{host}",
        "/apps",
        "",
        f"http://{host.split(':')[0]}:80/apps",  # default port is not the sandbox's
        f"http:///{host}/apps",
        f"http://evil.com\\.{host}/",
        f"http://{host}\t.evil.com/",
        f"//{host}/apps",  # scheme-relative
        "vbscript:msgbox(1)",
        "http://0x7f.0x0.0x0.0x1/apps",
        "http://[::1]/apps",
        f"http://{host}%00.evil.com/",
        f"https://evil.com/http://{host}/apps",
        "http://" + host.replace("1", "\uff11") + "/apps",  # fullwidth digits
        "x" * 3000,
    ]


def test_every_hostile_redirect_is_refused_before_anything_happens(
    app, client, kit, user
):
    for value in hostile_redirects(kit.url):
        response = start_install(client, redirect=value)
        assert response.status_code == 400, value
        assert "does not come from Kit" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OAuthAttempt)) == 0


def test_hostile_redirect_is_refused_for_signed_out_visitors_too(client, kit):
    response = start_install(client, redirect="https://evil.com/")
    assert response.status_code == 400
    assert "evil.com" not in response.text


def test_kit_redirect_with_any_path_and_query_is_kept(
    app, client, kit, kit_browser, user
):
    target = f"{kit.url}/apps/4242?success=true&k_app_id=k_4242"
    assert install(client, kit_browser, redirect=target).location == target


# --- the attempts ---------------------------------------------------------------------


def test_a_users_stale_attempts_are_dropped_when_a_new_one_starts(
    app, client, kit, user
):
    start_install(client)
    start_install(client)
    age_attempts(app, timedelta(days=2), attempt_id=1)
    start_install(client)
    with app.app_context():
        kept = db.session.scalars(
            select(OAuthAttempt.id).order_by(OAuthAttempt.id)
        ).all()
    assert kept == [2, 3]
