"""The content blocks render the creator's Kit data as HTML Kit's editor takes.

Called as Kit's POST would be answered (`blocks.answer`, `blocks.search`), on
a connection made from a real sandbox grant, with Kit's data read over HTTP
from the sandbox. The routes and their token are in
test_plugin_block_routes.py; crafted bodies in test_plugin_blocks_crafted.py.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC

import pytest

from app.extensions import db
from app.kit_cache import invalidate, wait_for_background
from app.models import KitConnection
from app.plugins import html
from app.plugins.blocks import BY_NAME, answer, search
from app.plugins.kept import kept_key
from tests.conftest import GONE
from tests.support.accounts import create_user
from tests.support.installing import connect

STYLES = pytest.importorskip("kit_sandbox.plugins.choices", reason=GONE).STYLES
kit_html = pytest.importorskip("kit_sandbox.plugins.kit_html", reason=GONE)
fill, rejections = kit_html.fill, kit_html.rejections

BROADCASTS = BY_NAME["latest_broadcasts"]
GREETING = BY_NAME["personal_greeting"]
ADA = 1001


@pytest.fixture
def connected_app(make_app, kit):
    """An app (its cache on) with user 1 connected to Ada's Kitchen."""
    app = make_app()
    create_user(app)
    connect(app, kit)
    return app


def ask(app, block, body, field=None):
    """The block's answer (or its search's) for connection 1, as a view gets it."""
    with app.test_request_context():
        connection = db.session.get(KitConnection, 1)
        if field is None:
            return answer(block, connection, body)
        return search(block, field, connection, body)


def sent_subjects(kit, account=ADA):
    data = kit.state.account_data(account)
    sent = [b for b in data.broadcasts.values() if b.status == "completed"]
    sent.sort(key=lambda b: b.sent_at, reverse=True)
    return [b.subject for b in sent]


def test_latest_broadcasts_lists_the_newest_sent_ones_with_kits_styles(
    connected_app, kit
):
    body, status = ask(
        connected_app,
        BROADCASTS,
        {"settings": {"count": 4, "heading": "From the kitchen"}, "styles": STYLES},
    )
    assert status == 200 and body["code"] == 200
    page = body["html"]
    subjects = sent_subjects(kit)
    shown = [s for s in subjects if html_escaped(s) in page]
    assert shown == subjects[:4]  # the four newest, in order
    assert page.index(html_escaped(subjects[0])) < page.index(html_escaped(subjects[1]))
    assert ">From the kitchen</h2>" in page
    # Kit's styles reach the markup, inline; every link absolute, in a new tab.
    assert 'style="font-size: 22px; font-weight: 700; color: #1d1d1d"' in page
    assert "color: #1677be; text-decoration: underline" in page
    links = re.findall(r"<a [^>]*>", page)
    assert links and all('target="_blank"' in a for a in links)
    assert all(re.search(r'href="https://', a) for a in links)
    # Kit's filter (the sandbox's reading of it) and the app's own check agree.
    assert rejections(page) == [] and html.refusals(page) == []


def html_escaped(text):
    from html import escape

    return escape(text)


def test_the_date_toggle_and_format_and_the_pinned_broadcast(connected_app, kit):
    data = kit.state.account_data(ADA)
    oldest = min(
        (b for b in data.broadcasts.values() if b.status == "completed"),
        key=lambda b: b.sent_at,
    )
    with_dates, _ = ask(
        connected_app,
        BROADCASTS,
        {"settings": {"count": 1, "date_format": "iso", "pinned": str(oldest.id)}},
    )
    page = with_dates["html"]
    assert html_escaped(oldest.subject) in page  # pinned first, though oldest
    assert oldest.sent_at.astimezone(UTC).strftime("%Y")[:2] in page
    assert re.search(r"\d{4}-\d{2}-\d{2}", page)  # the ISO date format
    without, _ = ask(
        connected_app, BROADCASTS, {"settings": {"count": 1, "show_dates": False}}
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}|&middot;", without["html"])


def test_the_pinned_search_answers_load_typing_and_a_reopened_draft(connected_app, kit):
    subjects = sent_subjects(kit)
    loaded, status = ask(connected_app, BROADCASTS, {"search": ""}, field="pinned")
    assert status == 200
    assert [o["label"] for o in loaded["data"]] == subjects[:25]
    assert all(set(o) == {"label", "value"} for o in loaded["data"])
    word = subjects[3].split()[0]
    typed, _ = ask(connected_app, BROADCASTS, {"search": word.upper()}, field="pinned")
    assert typed["data"] and all(
        word.casefold() in o["label"].casefold() for o in typed["data"]
    )
    saved = loaded["data"][2]["value"]
    reopened, _ = ask(connected_app, BROADCASTS, {"search": saved}, field="pinned")
    assert reopened["data"] == [loaded["data"][2]]


def test_an_account_without_sent_broadcasts_gets_kits_error_shape(make_app, kit):
    app = make_app()
    create_user(app)
    connect(app, kit, account=1003)  # Quiet Trails: nothing sent
    body, status = ask(app, BROADCASTS, {"settings": {}})
    assert status == 404
    assert body["code"] == 404 and "No sent broadcasts" in body["errors"][0]


def test_a_slow_kit_is_answered_from_the_kept_copy(connected_app, kit):
    """Kit hangs: the block answers from the copy kept of its last answer
    (the cache dropped by Reload), not after Kit; with nothing kept, a 503
    that says to refresh. The hung call fills the cache once released."""
    first, _ = ask(connected_app, BROADCASTS, {"settings": {"count": 2}})
    connected_app.config["PLUGIN_BLOCK_BUDGET"] = 0.3
    with connected_app.app_context():
        invalidate(1)  # the Reload button: the cache is stale, the kept copy stays
    kit.state.add_fault("api", "hang", times=5)
    try:
        again, status = ask(connected_app, BROADCASTS, {"settings": {"count": 2}})
        assert status == 200 and again["html"] == first["html"]
        with connected_app.app_context():
            from app.extensions import cache

            cache.delete(kept_key(1, "plugin:sent_broadcasts"))
            invalidate(1)
        nothing, status = ask(connected_app, BROADCASTS, {"settings": {}})
        assert status == 503
        assert nothing["errors"] == [
            "Kit is slow to answer right now: refresh this block in a moment."
        ]
        # The hung call outlives the requests; one can wait for it.
        assert not wait_for_background(timeout=0.1)
    finally:
        kit.state.release_hangs()
    assert wait_for_background(timeout=30)


def test_the_dynamic_block_is_liquid_kit_fills_per_subscriber(connected_app, kit):
    settings = {
        "greeting": "Hello {{ subscriber.email_address }} <script>",
        "fallback": 'friend"',
        "message": "{% raw %}See you soon",
        "show_field": True,
        "field": "company",
    }
    body, status = ask(
        connected_app, GREETING, {"settings": settings, "styles": STYLES}
    )
    assert status == 200
    page = body["html"]
    assert "{{ subscriber.first_name | default: " in page
    assert "{% if subscriber.company %}" in page and "{{ subscriber.company }}" in page
    # What the creator typed is shown, never run: no tag of theirs survives.
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "{{ subscriber.email_address" not in page and "{% raw" not in page
    assert rejections(page) == [] and html.refusals(page) == []
    ada = kit.state.account_data(ADA)
    reader = next(s for s in ada.subscribers.values() if s.first_name)
    sent = fill(page, {"first_name": reader.first_name, **reader.fields})
    assert f", {html_escaped(reader.first_name)}!" in sent
    nameless = fill(page, {"first_name": None})
    assert ", friend&quot;!" in nameless


def test_the_dynamic_block_refuses_a_field_key_that_is_not_one(connected_app):
    body, status = ask(
        connected_app,
        GREETING,
        {"settings": {"show_field": True, "field": "x }}{{ subscriber.email"}},
    )
    assert status == 422 and body["code"] == 422


def test_the_custom_field_search_lists_the_creators_fields(connected_app, kit):
    fields = kit.state.account_data(ADA).custom_fields
    loaded, _ = ask(connected_app, GREETING, {"search": ""}, field="field")
    assert [o["value"] for o in loaded["data"]] == [f.key for f in fields]
    typed, _ = ask(
        connected_app, GREETING, {"search": fields[0].label[:3]}, field="field"
    )
    assert {"label": fields[0].label, "value": fields[0].key} in typed["data"]


@pytest.mark.parametrize(
    ("made", "reason"),
    [
        ("<p>x</p><script>alert(1)</script>", "<script> is refused"),
        ('<iframe src="https://x.example"></iframe>', "<iframe> is refused"),
        ("<audio></audio>", "<audio> is refused"),
        ('<form action="https://x.example"><input name="q"></form>', "<form>"),
        ('<link rel="stylesheet" href="https://x.example/a.css">', "<link>"),
        ('<p style="background: url(https://x.example/a.png)">x</p>', "url()"),
        ("<style>@import url(https://x.example/a.css);</style>", "<style>"),
        ('<p onclick="x()">x</p>', "event handlers"),
        ('<a href="/relative" target="_blank">x</a>', "absolute"),
        ('<a href="https://x.example">x</a>', 'target="_blank"'),
        ('<img src="javascript:alert(1)">', "absolute"),
    ],
)
def test_html_kit_would_refuse_never_leaves_the_app(connected_app, made, reason):
    """A block whose renderer makes what Kit's filter rejects is answered
    with Kit's error shape and the reason, not with the HTML."""
    broken = dataclasses.replace(BROADCASTS, render=lambda *_: f"<div>{made}</div>")
    body, status = ask(connected_app, broken, {"settings": {}})
    assert status == 404 and "html" not in body
    assert reason in body["errors"][0]
    assert rejections(made) or reason in ("absolute", 'target="_blank"')
