"""The browser walk's later steps (issue 21 §4), each checked by
``tests/browser_audit.Audit`` at every width: a connection after Disconnect,
the page a password reset link opens, and the Kit sandbox's own pages.

``link`` is the walk's way of following a link, shared with
tests/test_browser.py."""

from __future__ import annotations

import re
from typing import Any

from tests.browser_audit import Audit


def link(page, selector: str):  # type: ignore[no-untyped-def]
    """Click the first link that matches (as a creator would); a page without
    one is missing at once rather than after a timeout."""

    def click() -> None:
        links = page.locator(selector)
        if not links.count():
            raise AssertionError(f"no link {selector!r} on {page.url}")
        shown = links.filter(visible=True)
        if not shown.count():  # in a closed menu (<details>): open it first
            page.locator(f"details:has({selector}) > summary").first.click()
        shown.first.click()

    return click


def walk_disconnected(audit: Audit, pages: Any, origin: str, connection: str) -> None:
    """Disconnect the connection whose page is ``connection`` (on the desktop,
    through the page's Disconnect and the confirmation), then, at each width,
    the pages that show it: the accounts list (with the flash, on the
    desktop), the connection's page and its dashboard, each with the
    "Disconnected" banner and its "Connect again"."""
    page = pages[0]
    page.goto(connection)
    number = connection.rsplit("/", 1)[1]
    link(page, 'main a[href$="/disconnect"]')()
    page.wait_for_url(f"{connection}/disconnect")
    button = page.locator("main form button.danger")
    if audit.visit(page, "accounts-disconnected", button.click):
        flash = page.locator(".flash-success", has_text="Disconnected ")
        if not flash.is_visible():
            audit.note(page, "accounts-disconnected", "no flash saying Disconnected")
    for each in pages:
        if each is not page:
            audit.visit(
                each,
                "accounts-disconnected",
                lambda p=each: p.goto(origin + "/accounts"),
            )
        for name, url in (
            ("connection-disconnected", connection),
            ("disconnected", f"{origin}/c/{number}"),
        ):
            if audit.visit(each, name, lambda p=each, u=url: p.goto(u)):
                banner = each.locator(".banner", has_text="Disconnected.")
                if not banner.is_visible():
                    audit.note(each, name, "no Disconnected banner")
                elif not banner.get_by_role("link", name="Connect again").is_visible():
                    audit.note(each, name, "the banner has no Connect again")


def walk_reset(audit: Audit, pages: Any, origin: str, kit_url: str, email: str) -> None:
    """Signed out, "Forgot password?" on the desktop; the reset link from the
    sandbox's outbox opens the page that chooses a new password, at each
    width (opening it does not use it up: choosing the password does)."""
    page = pages[0]
    for each in pages:
        each.context.clear_cookies()
    page.goto(f"{origin}/forgot-password")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Send me a link").click()
    page.wait_for_url(f"{origin}/signup/check-inbox")
    page.goto(f"{kit_url}/_sandbox/outbox")
    reset = page.get_by_role("link", name=re.compile(r"reset-password\?")).first
    if audit.visit(page, "reset-password", reset.click):
        assert page.get_by_role("button", name="Change password").is_visible()
    opened = page.url
    for each in pages[1:]:
        audit.visit(each, "reset-password", lambda p=each: p.goto(opened))


def walk_sandbox(
    audit: Audit, pages: Any, kit_url: str, app_id: int, consent: str
) -> None:
    """The sandbox's own pages at each width: its App Store page ("/" leads
    there), the consent page (``consent``: the address the install journey
    showed), the "installed" page, the outbox, the activity page and its
    error page."""
    for each in pages:
        for name, url, status in (
            ("kit-app-store", f"{kit_url}/", 200),
            ("kit-consent", consent, 200),
            ("kit-installed", f"{kit_url}/apps/{app_id}?success=true", 200),
            ("kit-outbox", f"{kit_url}/_sandbox/outbox", 200),
            ("kit-activity", f"{kit_url}/_sandbox/activity", 200),
            ("kit-not-found", f"{kit_url}/apps/{app_id + 1}", 404),
        ):
            audit.visit(each, name, lambda p=each, u=url: p.goto(u), status=status)
