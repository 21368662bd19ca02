"""The visual system's promises that HTML can show: an error summary that takes
focus after a failed POST and links each error to its field, one h1 on every
page, decorative icons hidden from screen readers, a header menu that works
without JavaScript, records tables that phones can show as cards, status words
that never say "Active" for a connection that is not, and a stylesheet that
loads nothing from elsewhere."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from flask import Flask

from tests.support.accounts import sign_up
from tests.support.installing import install
from tests.support.rows import set_stored

ADA = 1001
ICONS = [
    "users",
    "user",
    "tag",
    "mail",
    "send",
    "chart",
    "activity",
    "form",
    "sequence",
    "plus",
    "search",
    "refresh",
    "external",
    "check",
    "alert",
    "chevron-down",
    "chevron-left",
    "chevron-right",
    "arrow-up",
    "arrow-down",
    "trash",
    "logout",
    "settings",
    "link",
    "info",
]
CSS = Path(__file__).resolve().parent.parent / "static" / "app" / "app.css"


def summary(page) -> str | None:  # type: ignore[no-untyped-def]
    """The error summary box's HTML, or None."""
    found = re.search(r'<div class="error-summary"[^>]*>.*?</div>', page.text, re.S)
    return found.group(0) if found else None


# --- error summary --------------------------------------------------------------------


def test_a_failed_sign_up_leads_with_a_focused_summary_linking_each_field(client, kit):
    assert summary(client.get("/signup")) is None

    failed = client.post(
        "/signup", data={"email": "not-an-email", "password": "x", "confirm": "y"}
    )
    assert failed.status_code in (200, 400, 422)
    box = summary(failed)
    assert box is not None
    opening = box.split(">", 1)[0]
    for attribute in ('role="alert"', 'tabindex="-1"', "autofocus"):
        assert attribute in opening
    assert "There is a problem" in box and "Fix the following:" in box
    links = dict(re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', box))
    assert "email" in links and unescape(links["email"]).startswith("Email: ")
    # Every link goes to a field that is on the page.
    for field_id in links:
        assert f'id="{field_id}"' in failed.text, field_id
    # The summary comes before the form, so it is read (and focused) first.
    assert failed.text.index('class="error-summary"') < failed.text.index("<form")
    # One autofocus on the page: the summary's.
    assert failed.text.count("autofocus") == 1


def test_no_summary_and_no_autofocus_without_errors(client, kit):
    for path in ("/signup", "/login", "/forgot-password"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert summary(page) is None and "autofocus" not in page.text, path


# --- one h1 on the pages of the visual system -----------------------------------------


def test_every_page_has_one_h1(client, kit, kit_browser):
    def one_h1(path: str, status: int = 200) -> str:
        page = client.get(path)
        assert page.status_code == status, (path, page.status_code)
        assert page.text.count("<h1") == 1, path
        return page.text

    for path in ("/", "/login", "/signup", "/forgot-password"):
        one_h1(path)
    one_h1("/no-such-page", 404)

    sign_up(client)
    for path in ("/accounts", "/dashboard", "/account"):
        one_h1(path)
    install(client, kit_browser, account=ADA)
    for path in (
        "/accounts",
        "/c/1/forms",
        "/c/1/sequences",
        "/c/1/activity",
        "/connections/1",
        "/connections/1/disconnect",
    ):
        one_h1(path)


# --- icons ----------------------------------------------------------------------------


def test_icons_are_hidden_from_screen_readers_unless_named(app: Flask):
    with app.app_context():
        icon = app.jinja_env.get_template("_icons.html").module.icon
        for name in ICONS:
            svg = str(icon(name))
            assert svg.startswith("<svg") and svg.endswith("</svg>"), name
            assert 'aria-hidden="true"' in svg and 'focusable="false"' in svg, name
            assert 'class="icon icon-' in svg, name
            assert "<path" in svg or "<circle" in svg or "<rect" in svg, name
        # Their stroke comes from the stylesheet's .icon rule, in the text's color.
        rule = re.search(r"^\.icon \{(.*?)\}", CSS.read_text(), re.M | re.S).group(1)
        assert "fill: none" in rule and "stroke: currentColor" in rule
        named = str(icon("alert", label="Warning"))
        assert 'role="img"' in named and 'aria-label="Warning"' in named
        assert "aria-hidden" not in named


def test_icons_on_a_dashboard_page_are_all_decorative(client, kit, kit_browser, user):
    install(client, kit_browser, account=ADA)
    page = client.get("/c/1/forms").text
    svgs = re.findall(r"<svg[^>]*>", page)
    assert len(svgs) >= 7  # one per tab at least
    for svg in svgs:
        assert 'aria-hidden="true"' in svg or 'aria-label="' in svg, svg


# --- header, switcher, tables ---------------------------------------------------------


def test_the_header_menu_works_without_javascript(client, kit, user):
    page = client.get("/accounts").text
    header = page.split("<header", 1)[1].split("</header>", 1)[0]
    assert "<script" not in header
    menu = re.search(r'<details class="usermenu">(.*?)</details>', header, re.S)
    assert menu is not None
    assert "<summary>" in menu.group(1) and "Menu" in menu.group(1)
    body = menu.group(1).split("</summary>", 1)[1]
    assert 'action="/logout"' in body and "Sign out" in body
    assert 'href="/account"' in body


def test_records_tables_label_each_cell_for_phone_cards(client, kit, kit_browser, user):
    install(client, kit_browser, account=ADA)
    page = client.get("/c/1/sequences").text
    table = re.search(r'<table class="data records">(.*?)</table>', page, re.S)
    assert table is not None
    assert "<colgroup>" in table.group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1).split("<tbody>", 1)[1], re.S)
    assert rows
    for row in rows:
        assert row.strip().startswith('<th scope="row">')
        # A cell may have other attributes too (a count's is class="num").
        assert re.findall(r"<td(?: [^>]*)?>", row) == re.findall(
            r'<td data-label="[^"]+"[^>]*>', row
        )


def test_a_connection_needing_reconnect_never_reads_active(
    app, client, kit, kit_browser, user
):
    install(client, kit_browser, account=ADA)
    set_stored(app, 1, status="needs_reconnect")
    accounts = client.get("/accounts").text
    assert "Reconnect needed" in accounts
    assert ">Active<" not in accounts
    forms = client.get("/c/1/forms").text
    switcher = forms.split('<details class="switcher">', 1)[1].split("</details>", 1)[0]
    assert "Reconnect needed" in switcher and ">Active<" not in switcher


# --- stylesheet -----------------------------------------------------------------------


def test_the_stylesheet_loads_nothing_from_elsewhere():
    css = CSS.read_text()
    assert "@import" not in css
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert "@font-face" not in css
