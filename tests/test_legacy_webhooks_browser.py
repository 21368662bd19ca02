"""The events only Kit's legacy webhooks carry, in a real browser: a purchase
and a link click made at the sandbox, delivered unsigned to the live app,
read in the activity feed (its words, its filter) at 1280 and 390 px, with
axe-core finding nothing. Screenshots go to SCREENSHOT_DIR/legacy/ (default
test-artifacts/screenshots)."""

from __future__ import annotations

import time

import requests

from app.webhooks.legacy_follow import follow
from app.webhooks.legacy_rules import register_legacy_rules
from tests.browser_audit import run_axe
from tests.support.accounts import PASSWORD, create_user
from tests.support.installing import connect
from tests.support.webhooks import stored_events
from tests.test_browser import (  # noqa: F401  (fixtures)
    BROWSER_TEST,
    contexts,
    live_app,
    screenshots,
)

pytestmark = BROWSER_TEST

ADA = 1001
SHOP = "https://example.com/shop"


def test_a_purchase_and_a_click_read_in_the_feed(kit, make_app, live_app, contexts):  # noqa: F811
    shots = screenshots("legacy")
    app = make_app()
    app.config["PUBLIC_BASE_URL"] = live_app  # where Kit delivers
    create_user(app)
    connect(app, kit, account=ADA)
    with app.app_context():
        follow(1, "subscriber.link_click", SHOP)
        assert register_legacy_rules(1) == "active"
    for path, body in [
        ("purchase", {"product_ids": [501, 503]}),
        ("click", {"link": SHOP}),
    ]:
        answer = requests.post(
            f"{kit.url}/_sandbox/webhooks/legacy/{path}",
            json={"account_id": ADA, **body},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
    kit.state.webhooks.flush(timeout=10)
    deadline = time.monotonic() + 10
    while len(stored_events(app)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(stored_events(app)) == 2

    desktop, phone = contexts
    for name, context in (("desktop", desktop), ("phone", phone)):
        page = context.new_page()
        page.goto(f"{live_app}/login")
        page.get_by_label("Email").fill("creator@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_app}/**")
        page.goto(f"{live_app}/c/1/activity")
        bought = page.get_by_text(
            "bought «Sourdough masterclass, Printed recipe cards · 61.50 USD»"
        )
        clicked = page.get_by_text(f"clicked «{SHOP}»")
        assert bought.is_visible() and clicked.is_visible()
        page.screenshot(path=str(shots / f"activity-{name}.png"), full_page=True)
        assert run_axe(page)["violations"] == []
        if name == "phone":
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "no sideways scroll"
        else:
            page.select_option("#type", "subscriber.link_click")
            page.get_by_role("button", name="Filter").click()
            page.wait_for_url("**type=subscriber.link_click**")
            assert page.get_by_text(f"clicked «{SHOP}»").is_visible()
            assert page.get_by_text("bought «").count() == 0
            page.screenshot(path=str(shots / "activity-link-clicks.png"))
        page.close()

    sandbox = desktop.new_page()
    sandbox.goto(f"{kit.url}/_sandbox/activity")
    assert sandbox.get_by_role("button", name="Make a purchase").first.is_visible()
    sandbox.screenshot(path=str(shots / "sandbox-activity.png"))
