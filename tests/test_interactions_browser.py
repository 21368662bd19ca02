"""Interactions that feel finished (issue 21, section 3), where only a browser
shows it: Debian's Chromium through Playwright, at 1280 and 390 px.

The menus (the account menu and the Kit account switcher, both <details>)
close on Escape and on a click outside, and never both stay open; a
200-character tag name wraps in its flash, the tags table and its page's
heading; the chart's figures stay on screen at 390 px; the selected period
shows a focus ring; a status badge ("cancelled") and an address read whole.
Screenshots go to SCREENSHOT_DIR/interactions/ (default
test-artifacts/screenshots)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.browser_audit import PHONE_WIDTH
from tests.support.accounts import PASSWORD, create_user
from tests.support.installing import connect
from tests.test_browser import (  # noqa: F401  (fixtures)
    BROWSER_TEST,
    contexts,
    live_app,
    screenshots,
)

pytestmark = BROWSER_TEST

ADA = 1001
LONG_TAG = "Longtagname" * 18 + "Xy"  # 200 characters, no space to break at


@pytest.fixture
def shots() -> Path:
    return screenshots("interactions")


@pytest.fixture
def signed_in(kit, make_app, live_app, contexts) -> Iterator[tuple]:  # type: ignore[type-arg] # noqa: F811
    """A desktop and a phone page, both signed in as a creator connected to
    Ada's Kitchen (connection 1)."""
    app = make_app()
    create_user(app)
    connect(app, kit, account=ADA)
    desktop, phone = contexts
    page = desktop.new_page()
    page.goto(f"{live_app}/login")
    page.get_by_label("Email").fill("creator@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_app}/**")
    phone.add_cookies(desktop.cookies())
    yield page, phone.new_page(), live_app


def open_menus(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "[...document.querySelectorAll('details.usermenu, details.switcher')]"
        ".filter((d) => d.open).map((d) => d.className)"
    )


# --- 1. menus -------------------------------------------------------------------------


def test_menus_close_on_escape_and_outside_click_and_never_both_open(signed_in, shots):
    page, _, origin = signed_in
    page.goto(f"{origin}/c/1/tags")
    usermenu = page.locator("details.usermenu > summary")
    switcher = page.locator("details.switcher > summary")

    usermenu.click()
    assert open_menus(page) == ["usermenu"]
    page.keyboard.press("Escape")
    assert open_menus(page) == []
    # Escape hands focus back to the menu's button, as a menu button does.
    assert page.evaluate("document.activeElement.closest('details.usermenu') !== null")

    switcher.click()
    assert open_menus(page) == ["switcher"]
    page.locator("footer").click()  # a click outside
    assert open_menus(page) == []

    switcher.click()
    usermenu.click()  # the other menu: one open at a time
    assert open_menus(page) == ["usermenu"]
    page.screenshot(path=shots / "menus-one-open.png")
    switcher.click()
    assert open_menus(page) == ["switcher"]
    # A click inside the open menu leaves it open.
    page.locator("details.switcher ul").click(position={"x": 2, "y": 2})
    assert open_menus(page) == ["switcher"]


# --- 2. long names wrap ---------------------------------------------------------------


def page_width(page) -> int:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_200_character_tag_name_keeps_the_page_at_phone_width(signed_in, shots):
    _, small, origin = signed_in
    small.goto(f"{origin}/c/1/tags")
    small.get_by_label("Tag name").fill(LONG_TAG)
    small.get_by_role("button", name="Create tag").click()
    small.wait_for_url(f"{origin}/c/1/tags")
    assert small.locator(".flash", has_text=LONG_TAG).is_visible()
    small.screenshot(path=shots / "long-tag-flash-390.png", full_page=True)
    assert page_width(small) <= PHONE_WIDTH  # the flash and the table

    small.goto(f"{origin}/c/1/tags?page=1")
    small.locator("a", has_text=LONG_TAG).first.click()
    small.wait_for_url(f"{origin}/c/1/tags/*")
    assert small.locator("h1", has_text=LONG_TAG).is_visible()
    small.screenshot(path=shots / "long-tag-heading-390.png", full_page=True)
    assert page_width(small) <= PHONE_WIDTH


# --- 3. the chart's figures stay on screen --------------------------------------------

VALUE_BOXES = """() => [...document.querySelectorAll('.chart-day')].map((day) => {
  day.focus();
  const shown = [...day.querySelectorAll('.chart-value')].find(
    (t) => getComputedStyle(t).display !== 'none');
  const box = shown.getBoundingClientRect();
  return [Math.floor(box.left), Math.ceil(box.right)];
})"""


def test_the_charts_figures_stay_on_screen_at_phone_width(signed_in, shots):
    page, small, origin = signed_in
    for each, period in ((page, 7), (small, 7), (small, 90)):
        each.goto(f"{origin}/c/1?period={period}")
        width = each.viewport_size["width"]
        boxes = each.evaluate(VALUE_BOXES)
        assert boxes, "no chart"
        outside = [b for b in boxes if b[0] < 0 or b[1] > width]
        each.locator(".chart-day").nth(len(boxes) // 2).focus()
        each.screenshot(path=shots / f"chart-value-{width}-{period}.png")
        assert not outside, f"{len(outside)} of {len(boxes)} days' figures off screen"


# --- 4. the selected period's focus ring ---------------------------------------------

RING = """() => {
  const a = document.activeElement, s = getComputedStyle(a);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.backgroundColor];
}"""


def luminance(rgb: str) -> float:
    parts = [int(float(x)) / 255 for x in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_selected_period_shows_a_focus_ring(signed_in, shots):
    page, _, origin = signed_in
    page.goto(f"{origin}/c/1?period=30")
    selected = page.locator('.period-switch a[aria-current="page"]')
    # Reach it by keyboard, as the ring is for: Tab from the link before it.
    page.locator(".period-switch a").first.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-current')")
    style, width, ring, background = page.evaluate(RING)
    selected.screenshot(path=shots / "period-focus.png")
    assert style != "none" and float(width[:-2]) >= 2
    assert contrast(ring, background) >= 3, (ring, background)


# --- 11. table columns and badges read whole ------------------------------------------

CLIPPED = """() => [...document.querySelectorAll(
    '.badge, .records th[scope=row] a, .stat-label')].filter(
  (e) => e.scrollWidth > e.clientWidth + 1 && e.getClientRects().length
).map((e) => e.textContent.trim())"""


def test_badges_and_labels_read_whole_at_phone_width(signed_in, shots):
    page, small, origin = signed_in
    for each in (page, small):
        for path in ("/c/1", "/c/1/subscribers?status=cancelled", "/c/1/subscribers"):
            each.goto(f"{origin}{path}")
            clipped = each.evaluate(CLIPPED)
            assert not clipped, (path, each.viewport_size["width"], clipped)
    # Narrower phones too: "CANCELLATIONS" is the longest label of the overview.
    for width in (360, 320):
        small.set_viewport_size({"width": width, "height": 844})
        small.goto(f"{origin}/c/1")
        small.screenshot(path=shots / f"overview-{width}.png")
        assert not small.evaluate(CLIPPED), width


WRAPPED = """() => [...document.querySelectorAll('.records th[scope=row] a')].filter(
  (a) => new Set([...a.getClientRects()].map((r) => Math.round(r.top))).size > 1
).map((a) => a.textContent.trim())"""


def test_addresses_get_the_room_the_first_name_does_not_need(kit, signed_in, shots):
    page, _, origin = signed_in
    data = kit.state.account_data(ADA)
    for length in range(30, 41):  # up to 40 characters, as many addresses are
        local = "reader" + "x" * (length - 18)
        data.upsert_subscriber(f"{local}@example.com", "Ada", datetime.now(UTC))
    page.goto(f"{origin}/c/1/subscribers?q=readerxx")
    page.screenshot(path=shots / "addresses-1280.png")
    assert page.locator(".records th[scope=row] a").count() == 11
    assert not page.evaluate(WRAPPED)
