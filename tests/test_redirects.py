"""Which URLs from the browser we are willing to redirect to."""

from __future__ import annotations

import pytest

from app.redirects import is_kit_url, safe_next

KIT = "https://app.kit.com"


@pytest.mark.parametrize(
    "url",
    [
        "https://app.kit.com/apps/123?success=true",
        "https://app.kit.com/apps",
        "https://APP.KIT.COM/apps",
        "https://app.kit.com:443/apps",
    ],
)
def test_kit_urls_are_accepted(url):
    assert is_kit_url(url, KIT)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "//evil.com",
        "https://app.kit.com.evil.com/apps",
        "https://app.kit.com@evil.com/",
        "https://evil.com@app.kit.com/",
        "https://app.kit.com:8443/apps",
        "http://app.kit.com/apps",
        "javascript:alert(1)",
        "/\\evil.com",
        "https:\\\\app.kit.com",
        "https://app.kit.com\\@evil.com",
        "https://app.kit.com\t.evil.com",
        "https://app.kit.com:99999/",
        "https://[::1/",
        "https://app.kit.com/" + "a" * 3000,
        "https://evil.com/?https://app.kit.com",
        "https://app.kit.com./apps",
    ],
)
def test_everything_else_is_refused(url):
    assert not is_kit_url(url, KIT)


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/dashboard", "/dashboard"),
        (
            "/kit/oauth?redirect=https%3A%2F%2Fapp.kit.com",
            "/kit/oauth?redirect=https%3A%2F%2Fapp.kit.com",
        ),
        ("//evil.com", None),
        ("/\\evil.com", None),
        ("https://evil.com", None),
        ("dashboard", None),
        ("/\tevil", None),
        (None, None),
    ],
)
def test_safe_next(target, kept):
    assert safe_next(target) == kept
