"""The App settings page's "Links and products you follow": a creator follows a
link's clicks or a product's purchases through Kit's legacy webhooks, and
unfollows them, against the sandbox over HTTP (its `/v4/webhooks` is read
back). Bad input is the page again with the error (400); another creator's
connection is a 404; Kit down keeps the row and the page says it is waiting;
with a broker the request only queues the registration."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import LegacyWebhook
from app.webhooks.legacy_follow import BadRule, checked, follow
from app.webhooks.legacy_rules import register_legacy_rules
from tests.support.accounts import create_user, csrf_token, sign_in
from tests.support.installing import connect
from tests.support.rows import add_connection
from tests.support.settings import redis_server

SHOP = "https://example.com/shop"
FOLLOW = "/kit/settings/1/follow"
UNFOLLOW = "/kit/settings/1/unfollow"
BACK = "/kit/settings?connection=1"


def text(page) -> str:  # type: ignore[no-untyped-def]
    """The page's words, without tags."""
    return " ".join(unescape(re.sub(r"<[^>]+>", "", page.text)).split())


def at_kit(kit) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    with kit.state.lock:
        return sorted(
            (rule.event, rule.param)
            for rule in kit.state.webhooks.legacy.rules.values()
        )


def followed_rows(app) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = db.session.scalars(
            select(LegacyWebhook)
            .where(LegacyWebhook.event != "purchase.purchase_create")
            .order_by(LegacyWebhook.id)
        ).all()
        return [(row.event, row.param, row.status) for row in rows]


def rule_id(app, param: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = db.session.scalar(
            select(LegacyWebhook.id).where(LegacyWebhook.param == param)
        )
    assert found is not None
    return found


@pytest.fixture
def creator(app, client, kit):  # type: ignore[no-untyped-def]
    """A creator signed in, connected to the sandbox's first account (a real
    grant: the registration reaches the sandbox)."""
    create_user(app)
    connect(app, kit)
    assert sign_in(client).status_code == 302
    return app, client


def test_follow_a_link_and_a_product_then_unfollow(creator, kit):
    app, client = creator
    page = client.get("/kit/settings")
    assert "Links and products you follow" in page.text
    assert "You follow no link or product yet." in text(page)

    done = client.post(FOLLOW, data={"what": "link", "target": f"  {SHOP} "})
    assert (done.status_code, done.location) == (302, BACK)
    page = client.get(done.location)
    said = text(page)
    assert f"Following the link {SHOP}: Kit now tells this app about each click" in said
    assert f"Clicks on {SHOP} Active at Kit Nothing from it yet" in said
    assert client.post(FOLLOW, data={"what": "product", "target": "502"}).status_code
    assert "Purchases of product 502 Active at Kit" in text(client.get(BACK))
    # At Kit: purchases (always), the link and the product, one rule each.
    assert at_kit(kit) == [
        ("purchase.purchase_create", None),
        ("subscriber.link_click", SHOP),
        ("subscriber.product_purchase", 502),
    ]
    assert followed_rows(app) == [
        ("subscriber.link_click", SHOP, "active"),
        ("subscriber.product_purchase", "502", "active"),
    ]

    gone = client.post(UNFOLLOW, data={"rule": rule_id(app, SHOP)})
    assert (gone.status_code, gone.location) == (302, BACK)
    said = text(client.get(BACK))
    assert f"No longer following the link {SHOP}" in said
    assert f"Clicks on {SHOP}" not in said
    assert at_kit(kit) == [
        ("purchase.purchase_create", None),
        ("subscriber.product_purchase", 502),
    ]
    # A second click on the same button: nothing to do, and it says so.
    again = client.post(UNFOLLOW, data={"rule": rule_id(app, "502")})
    assert again.status_code == 302
    assert client.post(UNFOLLOW, data={"rule": "999"}).status_code == 302
    assert "was not followed any more" in text(client.get(BACK))
    assert at_kit(kit) == [("purchase.purchase_create", None)]
    assert followed_rows(app) == []


def test_with_csrf_on_the_forms_carry_their_token(make_app, kit):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    create_user(app)
    connect(app, kit)
    assert sign_in(client, csrf=True).status_code == 302
    refused = client.post(FOLLOW, data={"what": "link", "target": SHOP})
    assert refused.status_code == 400
    assert followed_rows(app) == []
    token = csrf_token(client.get("/kit/settings"))
    done = client.post(
        FOLLOW, data={"what": "link", "target": SHOP, "csrf_token": token}
    )
    assert done.status_code == 302
    page = client.get(BACK)
    assert 'name="rule" value="' in page.text
    rule = rule_id(app, SHOP)
    assert client.post(UNFOLLOW, data={"rule": rule}).status_code == 400
    assert followed_rows(app) == [("subscriber.link_click", SHOP, "active")]
    gone = client.post(UNFOLLOW, data={"rule": rule, "csrf_token": token})
    assert gone.status_code == 302
    assert followed_rows(app) == []


@pytest.mark.parametrize(
    ("what", "target", "error"),
    [
        ("link", "", "Enter a link from your emails, or a product id."),
        ("link", "shop", "A link is an http:// or https:// address."),
        ("link", "javascript:alert(1)", "A link is an http:// or https:// address."),
        ("link", "https://", "A link is an http:// or https:// address."),
        ("link", "https://exa mple.com", "A link is an http:// or https:// address."),
        ("link", "https://example.com/\x00", "A link is an http:// or https://"),
        ("link", "https://example.com/" + "a" * 1000, "At most 1000 characters."),
        ("product", "abc", "A product id is a number, like 12345."),
        ("product", "0", "A product id is a number, like 12345."),
        ("product", "-5", "A product id is a number, like 12345."),
        ("product", "9" * 500, "A product id is a number, like 12345."),
        ("product", "٣", "A product id is a number, like 12345."),  # not ASCII
        ("tag", "3", "Not a valid choice."),
    ],
)
def test_bad_input_is_the_page_again_with_the_error(
    app, client, kit, what, target, error
):
    create_user(app)
    connect(app, kit)
    assert sign_in(client).status_code == 302
    page = client.post(FOLLOW, data={"what": what, "target": target})
    assert page.status_code == 400
    assert "There is a problem" in page.text
    assert error in text(page)
    assert 'aria-invalid="true"' in page.text or what == "tag"
    assert "Links and products you follow" in page.text  # the page, to fix it
    assert followed_rows(app) == []
    assert at_kit(kit) == []  # nothing reached Kit


def test_following_the_same_link_twice_says_so(creator, kit):
    app, client = creator
    assert client.post(FOLLOW, data={"what": "link", "target": SHOP}).status_code
    again = client.post(FOLLOW, data={"what": "link", "target": SHOP + " "})
    assert again.status_code == 400
    assert "You follow it already." in text(again)
    assert followed_rows(app) == [("subscriber.link_click", SHOP, "active")]
    assert len(at_kit(kit)) == 2


@pytest.mark.parametrize("rule", ["", "abc", "-1", "9" * 13, "1 OR 1=1"])
def test_an_unfollow_naming_no_rule_is_a_400(creator, rule):
    app, client = creator
    answer = client.post(UNFOLLOW, data={"rule": rule})
    assert answer.status_code == 400
    assert "Nothing to unfollow" in answer.text
    assert 'href="/kit/settings?connection=1"' in answer.text


def test_another_creators_connection_is_a_404(app, client, kit):
    create_user(app)
    connect(app, kit)  # connection 1, the creator's
    with app.app_context():
        follow(1, "subscriber.link_click", SHOP)
    own = add_connection(app, email="mallory@example.com", kit_account_id=77)
    assert sign_in(client, "mallory@example.com").status_code == 302
    data = {"what": "link", "target": "https://evil.example.com/"}
    assert client.post(FOLLOW, data=data).status_code == 404
    assert client.post(UNFOLLOW, data={"rule": rule_id(app, SHOP)}).status_code == 404
    assert client.get("/kit/settings?connection=1").status_code == 404
    # Her own connection's form cannot reach the creator's rule either.
    answer = client.post(
        f"/kit/settings/{own}/unfollow", data={"rule": rule_id(app, SHOP)}
    )
    assert answer.status_code == 302
    assert followed_rows(app) == [("subscriber.link_click", SHOP, "pending")]


def test_kit_down_keeps_the_row_and_the_page_says_it_is_waiting(creator, kit):
    app, client = creator
    kit.state.add_fault("api", "500", times=40)
    done = client.post(FOLLOW, data={"what": "link", "target": SHOP})
    assert (done.status_code, done.location) == (302, BACK)
    said = text(client.get(BACK))
    assert (
        f"Following the link {SHOP}, but Kit did not answer. It is waiting to be "
        "set up at Kit: the app tries again within the hour."
    ) in said
    assert (
        f"Clicks on {SHOP} Waiting Waiting to be set up at Kit: Kit did not answer, "
        "the app tries again within the hour."
    ) in said
    assert followed_rows(app) == [("subscriber.link_click", SHOP, "failed")]
    kit.state.clear_faults()
    # The hourly check queues the registration again: now it is there.
    with app.app_context():
        assert register_legacy_rules(1) == "active"
    assert ("subscriber.link_click", SHOP) in at_kit(kit)
    assert f"Clicks on {SHOP} Active at Kit" in text(client.get(BACK))


def test_with_a_broker_the_request_only_queues_the_registration(make_app, kit):
    """REDIS_URL set, no worker running: the follow is stored and its
    registration queued; the request never called Kit (every Kit call would
    fail here), and the page says the link is waiting to be set up."""
    with redis_server() as url:
        app = make_app(REDIS_URL=url)
        client = app.test_client()
        create_user(app)
        connect(app, kit)
        assert sign_in(client).status_code == 302
        kit.state.add_fault("api", "500", times=40)
        done = client.post(FOLLOW, data={"what": "product", "target": "501"})
        assert done.status_code == 302
        said = text(client.get(BACK))
        assert "Following product 501. It is waiting to be set up at Kit" in said
        assert "Waiting to be set up at Kit: a job does it in a moment." in said
        assert followed_rows(app) == [("subscriber.product_purchase", "501", "pending")]
        kit.state.clear_faults()
        with app.app_context():  # the worker's run
            assert register_legacy_rules(1) == "active"
    assert ("subscriber.product_purchase", 501) in at_kit(kit)


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("revoked", "is disconnected, so Kit sends this app nothing"),
        ("needs_reconnect", "needs reconnecting: until then this app cannot reach Kit"),
    ],
)
def test_a_connection_kit_does_not_answer_for_has_no_form(app, client, status, said):
    add_connection(app, status=status)
    assert sign_in(client).status_code == 302
    page = client.get("/kit/settings")
    assert said in text(page)
    assert 'action="/kit/settings/1/follow"' not in page.text
    answer = client.post(FOLLOW, data={"what": "link", "target": SHOP})
    assert answer.status_code == 409
    assert "Reconnect first" in answer.text
    assert followed_rows(app) == []


def test_the_cli_and_the_page_share_the_checks(app):
    """`checked` is what both take; failed before: the CLI's follow took a link
    with a NUL byte in it (stored, refused later by PostgreSQL), and a
    5000-digit product id raised int()'s ValueError, not BadRule."""
    add_connection(app)
    for event, param in [
        ("subscriber.link_click", "https://example.com/\x00"),
        ("subscriber.link_click", "https://example.com/\x7f"),
        ("subscriber.product_purchase", "9" * 5000),
    ]:
        with app.app_context(), pytest.raises(BadRule):
            follow(1, event, param)
    assert followed_rows(app) == []
    assert checked("subscriber.product_purchase", " 0501 ") == "501"
    assert checked("subscriber.link_click", f" {SHOP}\n") == SHOP


@pytest.mark.parametrize(
    ("status", "error", "said"),
    [
        ("pending", None, "Waiting Waiting to be set up at Kit: a job does it"),
        ("failed", "KitUnavailable", "Waiting Waiting to be set up at Kit: Kit did"),
        ("failed", "Kit refused it: KitError", "Refused by Kit Kit did not take this"),
        ("unavailable", "not enabled at Kit", "Not available Kit has not enabled"),
        ("gone", None, "Paused Followed again when you reconnect."),
    ],
)
def test_each_stored_state_in_the_creators_words(app, client, status, error, said):
    add_connection(app)
    assert sign_in(client).status_code == 302
    with app.app_context():
        row = follow(1, "subscriber.product_purchase", "503")
        row.status, row.last_error = status, error
        db.session.commit()
    assert f"Purchases of product 503 {said}" in text(client.get("/kit/settings"))


def test_follows_and_unfollows_are_rate_limited(make_app, kit):
    """Each costs a registration (Kit calls): 10 a minute per client address."""
    app = make_app(RATELIMIT_ENABLED=True)
    client = app.test_client()
    add_connection(app)
    assert sign_in(client).status_code == 302
    bad = {"what": "product", "target": "shoes"}  # counted, and no Kit call
    assert {client.post(FOLLOW, data=bad).status_code for _ in range(10)} == {400}
    assert client.post(FOLLOW, data=bad).status_code == 429
    assert client.post(UNFOLLOW, data={"rule": "1"}).status_code == 302
    assert client.get("/kit/settings").status_code == 200  # the page is not
