"""Help, support and privacy (Kit's App Store review, KIT_PLATFORM.md §5c):
the app's own pages, or configured https addresses that replace them, linked
from every page's footer. The privacy page is written from the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.config import ConfigError
from app.extensions import db
from app.pages.privacy import undescribed

ROOT = Path(__file__).resolve().parent.parent
# static/help/<name> -> the screenshot of docs/screenshots/ it is a copy of
HELP_SHOTS = {
    "1-kit-app-store.png": "1-kit-app-store.png",
    "2-sign-up.png": "2-sign-up.png",
    "3-kit-consent.png": "3-kit-consent.png",
    "4-kit-installed.png": "4-kit-installed.png",
    "5-overview.png": "1280/07-overview.png",
    "6-accounts.png": "1280/21-accounts.png",
}


def footer(page: str) -> dict[str, str]:
    nav = page[page.index('aria-label="Help and policies"') :]
    return {
        label: href
        for href, label in re.findall(r'<a href="([^"]+)">(\w+)</a>', nav)[:3]
    }


def test_every_page_links_help_support_and_privacy_in_its_footer(client):
    for path in ("/", "/login", "/help"):
        assert footer(client.get(path).text) == {
            "Help": "/help",
            "Support": "/support",
            "Privacy": "/privacy",
        }


def test_the_help_page_walks_through_install_and_first_use(client):
    page = client.get("/help")
    assert page.status_code == 200
    for words in ("Install from Kit", "Create an account", "Allow", "First use"):
        assert words in page.text
    images = re.findall(r'<img src="([^"]+)"', page.text)
    assert len(images) == len(HELP_SHOTS)
    for src in images:
        shot = client.get(src)
        assert shot.status_code == 200, src
        assert shot.mimetype == "image/png"
        shot.close()
    assert all(
        re.search(r'alt="[^"]{20,}"', tag) for tag in page.text.split("<img")[1:]
    )


def test_the_help_screenshots_are_the_docs_ones():
    """`make screenshots` refreshes docs/screenshots/ and copies these."""
    for name, source in HELP_SHOTS.items():
        copy = ROOT / "static" / "help" / name
        assert (
            copy.read_bytes() == (ROOT / "docs" / "screenshots" / source).read_bytes()
        )


def test_the_privacy_page_lists_every_table_with_its_retention(make_app):
    app = make_app(WEBHOOK_EVENTS_KEPT_DAYS=30)
    page = app.test_client().get("/privacy")
    assert page.status_code == 200
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
    for name in tables:
        assert f'id="table-{name}"' in page.text, name
    events = page.text[page.text.index('id="table-webhook_events"') :]
    assert "subscribers&#39; email addresses" in events
    assert "30 days after they arrive" in events
    assert "for 30 days" in page.text  # the summary at the top
    connections = page.text[page.text.index('id="table-kit_connections"') :]
    assert "Encrypted:</strong> access_token, refresh_token" in connections
    assert "deleted after 24 hours" in page.text  # OAuth attempts
    users = page.text[page.text.index('id="table-users"') :]
    assert "Email addresses:</strong> email</p>" in users  # not email_verified_at


def test_every_table_says_in_words_what_it_holds(app):
    """A new table appears on /privacy with its columns at once; this says
    which ones still need a line in app/pages/privacy.py's PURPOSES."""
    with app.app_context():
        assert undescribed() == []


def test_support_shows_the_configured_address_or_says_there_is_none(make_app):
    page = make_app().test_client().get("/support")
    assert page.status_code == 200
    assert "no support address yet" in page.text
    assert "SUPPORT_EMAIL" in page.text

    page = make_app(SUPPORT_EMAIL="help@example.com").test_client().get("/support")
    assert 'href="mailto:help@example.com"' in page.text


def test_configured_addresses_replace_the_pages_and_the_footer_links(make_app):
    urls = {
        "HELP_URL": "https://example.com/help",
        "SUPPORT_URL": "https://example.com/support",
        "PRIVACY_URL": "https://example.com/privacy",
    }
    client = make_app(**urls).test_client()
    assert footer(client.get("/").text) == {
        "Help": urls["HELP_URL"],
        "Support": urls["SUPPORT_URL"],
        "Privacy": urls["PRIVACY_URL"],
    }
    for path, url in zip(("/help", "/support", "/privacy"), urls.values(), strict=True):
        answer = client.get(path)
        assert (answer.status_code, answer.location) == (302, url)


PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 40,
    "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "KIT_REDIRECT_URI": "https://app.example.com/kit/oauth/callback",
}


@pytest.mark.parametrize("name", ["HELP_URL", "SUPPORT_URL", "PRIVACY_URL"])
def test_production_refuses_an_http_address(make_app, name):
    with pytest.raises(ConfigError, match=f"{name} is http://example.com/x"):
        make_app(**PRODUCTION, **{name: "http://example.com/x"})
    make_app(**{name: "http://example.com/x"})  # development: fine
    make_app(**PRODUCTION, **{name: "https://example.com/x"})


@pytest.mark.parametrize(
    ("name", "value"),
    [("HELP_URL", "example.com/help"), ("SUPPORT_EMAIL", "not an address")],
)
def test_a_malformed_address_is_refused_at_start(make_app, name, value):
    with pytest.raises(ConfigError, match=name):
        make_app(**{name: value})
