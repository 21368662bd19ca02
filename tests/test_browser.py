"""Every page a creator sees, in a real browser: Debian's Chromium driven by
Playwright, at 1280 px and at 390 px.

The journey: Kit sandbox App Store → Install → sign up here → "check your
inbox" → the confirmation link in the sandbox's outbox → Confirm → Kit consent
→ Allow → Kit's "installed" page → Open the app → dashboard → the activity
feed, where events appear live after "Make activity" in the sandbox. Then every
page of the account, by its links, at both widths, and the empty account after
"Connect another Kit account"; that account disconnected (the "Disconnected"
banner), the page a password reset link opens, and the sandbox's own pages
(tests/browser_walks.py).

On each page (tests/browser_audit.py), in the light scheme and in the dark one
(`prefers-color-scheme`, switched on the page in place, so dark costs two more
axe runs and screenshots per page rather than a second walk: at both widths
the whole walk stays near two minutes): a full-page screenshot in
SCREENSHOT_DIR/<width>/<nn>-<page>.png (dark: SCREENSHOT_DIR/dark/<width>/),
axe-core at WCAG 2.1 AA, in dark a dark page, and at phone width no sideways
scroll and every tab in sight. The record, pass or fail, is
SCREENSHOT_DIR/axe-results.json. SCREENSHOT_DIR defaults to
test-artifacts/screenshots; `make screenshots` writes the README's copies in
docs/screenshots. Re-run: `.venv/bin/pytest -q tests/test_browser.py`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.models import User
from tests.browser_audit import PHONE_WIDTH, Audit, run_axe
from tests.browser_walks import link, walk_disconnected, walk_reset, walk_sandbox
from tests.servers import serving
from tests.support.accounts import PASSWORD
from tests.support.rows import update_rows

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

#: The marks of every browser test module: `pytestmark = BROWSER_TEST`.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium (apt-get install chromium; .ci/run does)",
    ),
]
pytestmark = BROWSER_TEST


def screenshots(folder: str = "") -> Path:
    """Where a browser test saves its screenshots: SCREENSHOT_DIR (or
    test-artifacts/screenshots), and `folder` in it; made if missing."""
    where = Path(os.environ.get("SCREENSHOT_DIR", "test-artifacts/screenshots"))
    where = where / folder if folder else where
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
def live_app(kit, make_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app served over HTTP on a free loopback port, registered at the sandbox
    (and where the sandbox delivers its webhooks)."""
    app = make_app(TESTING=False)
    with serving(app) as origin:
        app.config["PUBLIC_BASE_URL"] = origin
        kit.config.redirect_uris = [f"{origin}/kit/oauth/callback"]
        kit.config.authorization_url = f"{origin}/kit/oauth"
        yield origin


@pytest.fixture
def contexts() -> Iterator[tuple]:  # type: ignore[type-arg]
    """One Chromium, two windows: a desktop (1280x800) and a phone (390x844)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        # Reduced motion: no "just arrived" highlight, so screenshots repeat.
        desktop = browser.new_context(
            viewport={"width": 1280, "height": 800}, reduced_motion="reduce"
        )
        phone = browser.new_context(
            viewport={"width": PHONE_WIDTH, "height": 844},
            is_mobile=True,
            has_touch=True,
            reduced_motion="reduce",
        )
        for context in (desktop, phone):
            context.set_default_timeout(10_000)
        yield desktop, phone
        desktop.close()
        phone.close()
        browser.close()


def test_every_page_at_desktop_and_phone_width(kit, make_app, live_app, contexts):
    """The install journey, then every page a creator sees at 1280 and 390 px:
    a screenshot of each, axe-core (WCAG 2.1 AA) with zero violations, and at
    phone width no sideways scroll and every tab in sight. Problems are
    collected and reported together at the end (also in axe-results.json)."""
    shots = screenshots()
    audit = Audit(shots)
    desktop, phone = contexts
    page, small = desktop.new_page(), phone.new_page()
    creator = min(kit.state.accounts.values(), key=lambda a: a.id)

    # Signed out, at each width: home → Sign in → Forgot password → Create account.
    for each in (page, small):
        audit.visit(each, "home", lambda p=each: p.goto(f"{live_app}/"))
        audit.visit(each, "sign-in", link(each, 'header a[href="/login"]'))
        audit.visit(each, "forgot-password", link(each, 'a[href="/forgot-password"]'))
        audit.visit(each, "sign-up", link(each, 'header a[href^="/signup"]'))

    # axe finds what it should: the sign-up form with its labels taken away.
    page.evaluate("document.querySelectorAll('label').forEach((l) => l.remove())")
    assert "label" in {v["rule"] for v in run_axe(page)["violations"]}

    # The install journey, on the desktop.
    page.goto(f"{kit.url}/apps/{kit.config.app_id}")
    page.screenshot(path=shots / "1-kit-app-store.png", full_page=True)
    page.get_by_role("link", name="Install").click()

    page.wait_for_url(re.compile(re.escape(live_app) + r"/signup"))
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat password").fill(PASSWORD)
    page.screenshot(path=shots / "2-sign-up.png", full_page=True)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(f"{live_app}/signup/check-inbox")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()
    audit.check(page, "check-inbox")
    phone.add_cookies(desktop.cookies())
    audit.visit(small, "check-inbox", lambda: small.goto(page.url))

    # The mail went over SMTP to the sandbox; read it as a developer would.
    page.goto(f"{kit.url}/")
    page.get_by_role("navigation", name="Sandbox").get_by_role(
        "link", name="Outbox"
    ).click()
    page.wait_for_url(f"{kit.url}/_sandbox/outbox")
    assert page.get_by_text("Confirm your address").first.is_visible()
    page.get_by_role("link", name=re.compile(r"verify-email\?")).first.click()

    page.wait_for_url(re.compile(re.escape(live_app) + r"/verify-email\?token="))
    audit.check(page, "confirm-address")
    confirm_address = page.url
    audit.visit(small, "confirm-address", lambda: small.goto(confirm_address))
    page.get_by_role("button", name="Confirm and continue").click()

    page.wait_for_url(re.compile(re.escape(kit.url) + r"/v4/oauth/authorize"))
    consent = page.url
    page.get_by_label(re.compile(re.escape(creator.name))).check()
    page.screenshot(path=shots / "3-kit-consent.png", full_page=True)
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{kit.url}/apps/{kit.config.app_id}?success=true")
    page.screenshot(path=shots / "4-kit-installed.png", full_page=True)
    page.get_by_role("link", name=re.compile("^Open ")).click()

    page.wait_for_url(f"{live_app}/dashboard")
    assert page.get_by_role("heading", level=1, name=creator.name).is_visible()
    assert page.get_by_text(creator.email).first.is_visible()
    phone.add_cookies(desktop.cookies())

    see_live_activity(kit, page, creator.name)

    # Every page of the connected account, at each width, by its links.
    for each in (page, small):
        walk_account(audit, each, live_app)

    # A second Kit account, the empty one: the dashboard lands on it.
    empty = next(
        a
        for a in kit.state.accounts.values()
        if not kit.state.account_data(a.id).subscribers
    )
    # As for an account made before the app asked (or confirmed in another
    # browser): asked once, before Kit's consent, what the app keeps.
    update_rows(make_app(), User, None, data_agreed_at=None)
    page.goto(f"{live_app}/dashboard")
    link(page, 'a[href="/kit/oauth"]')()  # "Connect another Kit account"
    page.wait_for_url(f"{live_app}/kit/oauth")
    assert page.get_by_role("heading", name="Before you connect Kit").is_visible()
    audit.check(page, "before-kit")
    phone.add_cookies(desktop.cookies())
    audit.visit(small, "before-kit", lambda: small.goto(f"{live_app}/kit/oauth"))
    page.get_by_role("button", name="Continue to Kit").click()
    page.wait_for_url(re.compile(re.escape(kit.url) + r"/v4/oauth/authorize"))
    page.get_by_label(re.compile(re.escape(empty.name))).check()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(live_app) + r"/(dashboard|c/\d+)$"))
    assert page.get_by_role("heading", level=1, name=empty.name).is_visible()
    audit.check(page, "empty-overview")
    empty_overview = page.url
    details = page.locator('.account-meta a[href^="/connections/"]')
    empty_connection = live_app + (details.get_attribute("href") or "")
    phone.add_cookies(desktop.cookies())
    audit.visit(small, "empty-overview", lambda: small.goto(empty_overview))
    for each in (page, small):
        audit.visit(each, "empty-subscribers", tab(each, "subscribers"))

    walk_states(audit, kit, creator.id, (page, small), f"{live_app}/c/1")
    walk_disconnected(audit, (page, small), live_app, empty_connection)
    walk_sandbox(audit, (page, small), kit.url, kit.config.app_id, consent)
    walk_reset(audit, (page, small), live_app, kit.url, "ada@example.com")

    report = audit.write()
    assert audit.checked, "no page was checked"
    problems = audit.problems()
    assert not problems, (
        f"{len(audit.violations)} axe violations (axe-core {audit.axe_version}), "
        f"{len(audit.missing)} pages missing, {len(audit.page_problems)} page problems "
        f"(full record: {report}; re-run: .venv/bin/pytest -q tests/test_browser.py)"
        f"\n{problems}"
    )


def tab(page, name: str):  # type: ignore[no-untyped-def]
    """Click a tab of the dashboard's "Kit data" row by where it leads."""
    return lambda: (
        page.get_by_role("navigation", name="Kit data")
        .locator(f'a[href$="/{name}"]')
        .click()
    )


def see_live_activity(kit, page, account_name: str) -> None:  # type: ignore[no-untyped-def]
    """The activity feed: events appear while the page stays open, no reload."""
    page.get_by_role("navigation", name="Kit data").get_by_role(
        "link", name="Activity"
    ).click()
    page.wait_for_url(re.compile(r"/c/\d+/activity$"))
    assert page.get_by_role("heading", level=1, name="Activity").is_visible()
    assert page.get_by_text("No events yet").is_visible()
    page.evaluate("window.stillTheSamePage = true")
    sandbox = page.context.new_page()
    sandbox.goto(f"{kit.url}/_sandbox/activity")
    sandbox.get_by_role("article", name=account_name).get_by_role(
        "button", name="Make activity"
    ).click()
    sandbox.wait_for_load_state()
    sandbox.close()
    page.bring_to_front()
    # The burst comes as one delivery per event type: wait for two of them.
    for words in (r" joined$", r" unsubscribed$"):
        page.get_by_text(re.compile(words)).first.wait_for(timeout=20_000)
    assert page.evaluate("window.stillTheSamePage") is True
    assert not page.get_by_text("No events yet").is_visible()


def walk_states(audit: Audit, kit, account_id: int, pages, account: str) -> None:  # type: ignore[no-untyped-def]
    """The states that replace or mark a page, at each width: a form that did
    not go through, Kit failing, Kit's rate limit, and (last: it stays) a grant
    Kit no longer accepts. Each filter is a page the cache does not hold."""
    for each in pages:
        each.goto(f"{account}/subscribers")

        def add_a_bad_address(p=each) -> None:  # type: ignore[no-untyped-def]
            p.locator("main details > summary", has_text="Add subscriber").click()
            p.get_by_label("Email", exact=True).fill("not an address")
            p.get_by_role("button", name="Add subscriber").click()

        if audit.visit(each, "form-error", add_a_bad_address, status=400):
            focused = each.evaluate("document.activeElement.className")
            if "error-summary" not in focused:
                audit.note(each, "form-error", f"focus is on {focused!r}")
    for fault, name, status, filter_ in (
        ("500", "kit-unavailable", 503, "complained"),
        ("429", "rate-limited", 429, "inactive"),
    ):
        kit.state.add_fault("api", fault, times=10_000)
        for each in pages:
            width = each.viewport_size["width"]
            url = f"{account}/subscribers?status={filter_}&q={width}"
            audit.visit(each, name, lambda p=each, u=url: p.goto(u), status=status)
        kit.state.clear_faults()
    kit.state.revoke_all_for_account(account_id)  # uninstalled in Kit
    for each in pages:
        url = f"{account}/subscribers?status=cancelled&q={each.viewport_size['width']}"
        audit.visit(each, "reconnect", lambda p=each, u=url: p.goto(u))


def walk_account(audit: Audit, page, origin: str) -> None:  # type: ignore[no-untyped-def]
    """Every page of the first connected account, reached by its links where
    the page has one; each is checked by ``audit``."""
    if audit.visit(page, "overview", lambda: page.goto(f"{origin}/dashboard")):
        audit.first_screen(page, "overview")
    overview = page.url
    for days in (7, 90):
        periods = page.locator(f'a[href*="period={days}"]')
        if periods.count():
            go = lambda p=periods: p.first.click()  # noqa: E731
        else:  # no period links yet: the address a creator could type
            go = lambda d=days: page.goto(f"{overview}?period={d}")  # noqa: E731
        audit.visit(page, f"overview-{days}-days", go)
    audit.visit(page, "activity", tab(page, "activity"))

    if audit.visit(page, "subscribers", tab(page, "subscribers")):
        audit.first_screen(page, "subscribers")
        rows = page.locator("table.data tbody tr")
        first_row = rows.first.inner_text()
        address = re.search(r"[\w.+-]+@[\w.-]+", first_row)
        listing = page.url
        if (
            audit.visit(
                page, "subscribers-page-2", link(page, 'a[href*="after="]:text("Next")')
            )
            and rows.first.inner_text() == first_row
        ):
            audit.note(page, "subscribers-page-2", "shows page 1's first row")
        page.goto(listing)
        search = page.locator('form[role="search"] input[type="search"]')

        def find() -> None:
            search.first.fill(address.group() if address else "")
            search.first.press("Enter")

        found = audit.visit(page, "subscribers-search", find)
        if found and address and address.group() not in rows.first.inner_text():
            audit.note(page, "subscribers-search", f"{address.group()} not found")
        audit.visit(
            page, "subscriber", link(page, 'table.data a[href*="/subscribers/"]')
        )

    if audit.visit(page, "tags", tab(page, "tags")):
        audit.visit(page, "tag", link(page, 'main a[href*="/tags/"]'))
    if audit.visit(page, "forms", tab(page, "forms")):
        audit.visit(page, "form", link(page, 'main a[href*="/forms/"]'))
    if audit.visit(page, "sequences", tab(page, "sequences")):
        audit.visit(page, "sequence", link(page, 'main a[href*="/sequences/"]'))
    if audit.visit(page, "broadcasts", tab(page, "broadcasts")):
        # A sent one: its page shows the figures, a draft's has none yet.
        sent = 'main tr:has(.badge-completed) a[href*="/broadcasts/"]'
        if audit.visit(page, "broadcast", link(page, sent)):
            audit.visit(page, "broadcast-images", link(page, 'a:text("Load images")'))

    page.goto(overview)
    audit.visit(page, "accounts", link(page, 'a[href="/accounts"]'))
    page.goto(overview)
    audit.visit(page, "connection", link(page, 'a[href^="/connections/"]'))
    connection_page = page.url
    if audit.visit(
        page, "disconnect-confirm", link(page, 'main a[href$="/disconnect"]')
    ):
        # The Disconnect on the connection's page only asks: it names the account
        # and says what happens at Kit; Cancel leaves the connection as it was.
        name = page.get_by_role("heading", level=1).inner_text()
        assert name.startswith("Disconnect ") and name.endswith("?"), name
        assert page.get_by_text("revokes this app's access at Kit").is_visible()
        page.get_by_role("link", name="Cancel").click()
        page.wait_for_url(connection_page)
        assert page.get_by_role("link", name=re.compile("^Disconnect")).is_visible()
    audit.visit(page, "account-settings", link(page, 'a[href="/account"]'))
    if audit.visit(page, "app-settings", lambda: page.goto(f"{origin}/kit/settings")):
        audit.visit(page, "delete-data-confirm", link(page, 'main a[href$="/delete"]'))
    for name in ("help", "support", "privacy"):
        audit.visit(page, name, link(page, f'footer a[href="/{name}"]'))
    audit.visit(
        page, "not-found", lambda: page.goto(f"{origin}/no-such-page"), status=404
    )
