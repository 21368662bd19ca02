"""The colour schemes (issue 21 §4): the app and the Kit sandbox follow the
browser's `prefers-color-scheme`, light or dark, and every colour pair their
stylesheets use meets WCAG 2.1 AA in both: text 4.5:1, UI parts (input borders,
focus rings, the chart's bars) 3:1.

axe (in the browser walk, tests/test_browser.py) checks the text a page shows;
it does not check focus rings, SVG fills or input borders, and only sees the
states the walk reaches. Here the pairs are read from the design tokens
themselves, as the browser resolves them in each scheme: a token changed in
one scheme only is caught even if no walked page shows it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_audit import luminance
from tests.support.accounts import PASSWORD, create_user
from tests.support.installing import connect
from tests.test_browser import (  # noqa: F401  (fixtures)
    BROWSER_TEST,
    contexts,
    live_app,
)

pytestmark = BROWSER_TEST

SCHEMES = ("light", "dark")

#: static/app/app.css: (foreground, background) token pairs where the
#: foreground is text, at 4.5:1. "white" is the danger button's text.
APP_TEXT = [
    ("ink", "bg"),
    ("ink", "surface"),
    ("ink", "surface-2"),
    ("ink", "accent-soft"),  # the current account in the switcher
    ("muted", "bg"),
    ("muted", "surface"),
    ("muted", "surface-2"),  # table heads, the email rates
    ("accent", "bg"),
    ("accent", "surface"),
    ("accent", "surface-2"),
    ("accent", "accent-soft"),  # the switcher's avatar, secondary hover
    ("accent-strong", "surface"),
    ("accent-strong", "accent-soft"),
    ("accent-ink", "accent"),  # buttons, the selected period
    ("accent-ink", "accent-strong"),
    ("ok-ink", "ok-bg"),
    ("ok-ink", "surface"),  # a delta that is better
    ("warn-ink", "warn-bg"),
    ("danger-ink", "danger-bg"),
    ("danger-ink", "surface"),  # a field's error, a delta that is worse
    ("info-ink", "info-bg"),
    ("neutral-ink", "neutral-bg"),
    ("danger-on", "danger"),
    ("danger-on", "danger-strong"),
]

#: Parts of the interface, at 3:1 against what they sit on.
APP_UI = [
    ("control", "surface"),
    ("control", "bg"),
    ("focus", "bg"),
    ("focus", "surface"),
    ("focus", "surface-2"),
    ("accent-ink", "accent"),  # the ring inside the selected period
    ("chart-bar", "surface"),
    ("chart-bar", "accent-soft"),  # a hovered day
    ("chart-bar-negative", "surface"),
    ("chart-bar-negative", "accent-soft"),
    ("chart-axis", "surface"),
]

#: kit_sandbox/static/sandbox.css.
SANDBOX_TEXT = [
    ("ink", "surface"),
    ("ink", "page"),
    ("ink", "accent-soft"),
    ("muted", "surface"),
    ("muted", "page"),
    ("accent-text", "surface"),
    ("accent-text", "page"),
    ("accent-text", "accent-soft"),
    ("ink-on-accent", "accent"),
    ("ink-on-accent", "accent-hover"),
    ("alert-ink", "accent-soft"),
    ("banner-ink", "banner-bg"),
]
SANDBOX_UI = [
    ("focus-color", "surface"),
    ("focus-color", "page"),
    ("muted", "surface"),  # the secondary button's border
    ("accent-border", "surface"),
    ("accent-border", "accent-soft"),  # the chosen account's border
]

#: Each token as the browser resolves it (rgb(...)), through a probe element:
#: the stylesheet may write a colour any way CSS allows.
TOKENS = """(names) => {
  const probe = document.createElement('span');
  document.body.append(probe);
  const out = {};
  for (const name of names) {
    probe.style.color = '';
    probe.style.color = `var(--${name})`;
    const value = getComputedStyle(document.documentElement)
      .getPropertyValue(`--${name}`).trim();
    out[name] = value ? getComputedStyle(probe).color : null;
  }
  probe.remove();
  return out;
}"""

#: The page's ground is the body's background, or the root's behind a
#: transparent body (the canvas: white when neither sets one).
PAGE_LOOK = """() => {
  const style = (e) => getComputedStyle(e);
  const grounds = [document.body, document.documentElement].map(
    (e) => style(e).backgroundColor).filter((c) => c !== 'rgba(0, 0, 0, 0)');
  return {
    scheme: style(document.documentElement).colorScheme,
    background: grounds[0] || 'rgb(255, 255, 255)',
    text: style(document.body).color,
  };
}"""


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def page(contexts) -> Iterator[object]:  # type: ignore[no-untyped-def]  # noqa: F811
    desktop, _ = contexts
    yield desktop.new_page()


def too_low(page, scheme: str, text, ui) -> list[str]:  # type: ignore[no-untyped-def]
    """Every pair under its ratio in ``scheme``, as "fg on bg 2.1:1 (want 4.5)"."""
    page.emulate_media(color_scheme=scheme)
    names = sorted({name for pair in text + ui for name in pair})
    colours = page.evaluate(TOKENS, names)
    undefined = [name for name in names if not colours[name]]
    assert not undefined, f"tokens not defined: {undefined}"
    low = []
    for pairs, want in ((text, 4.5), (ui, 3.0)):
        for fg, bg in pairs:
            ratio = contrast(colours[fg], colours[bg])
            if ratio < want:
                low.append(f"{fg} on {bg} {ratio:.2f}:1 (want {want})")
    return low


def look(page, scheme: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page.emulate_media(color_scheme=scheme)
    result: dict[str, str] = page.evaluate(PAGE_LOOK)
    return result


def test_the_app_follows_the_scheme_with_aa_contrast_in_both(live_app, page):  # noqa: F811
    page.goto(f"{live_app}/login")
    assert_follows_the_scheme(page)
    assert [
        f"{scheme}: {pair}"
        for scheme in SCHEMES
        for pair in too_low(page, scheme, APP_TEXT, APP_UI)
    ] == []


def test_the_sandbox_follows_the_scheme_with_aa_contrast_in_both(kit, page):
    page.goto(f"{kit.url}/_sandbox/outbox")
    assert_follows_the_scheme(page)
    assert [
        f"{scheme}: {pair}"
        for scheme in SCHEMES
        for pair in too_low(page, scheme, SANDBOX_TEXT, SANDBOX_UI)
    ] == []


def assert_follows_the_scheme(page) -> None:  # type: ignore[no-untyped-def]
    """The stylesheet declares both schemes (form controls and scrollbars
    follow), and the page itself turns dark: light text on a dark ground;
    light stays light."""
    light, dark = look(page, "light"), look(page, "dark")
    assert luminance(dark["background"]) < 0.02, dark
    assert luminance(dark["text"]) > 0.6, dark
    assert luminance(light["background"]) > 0.8, light
    assert light["scheme"] == dark["scheme"] == "light dark"


#: The focused element's ring and what it is drawn on: the element's own fill
#: when the ring sits inside it (a negative offset), else the first
#: ancestor with a background, as the ring is outside.
RING = """() => {
  const a = document.activeElement, s = getComputedStyle(a);
  let under = Number.parseFloat(s.outlineOffset) < 0 ? a : a.parentElement;
  while (under && getComputedStyle(under).backgroundColor === 'rgba(0, 0, 0, 0)') {
    under = under.parentElement;
  }
  const ground = under ? getComputedStyle(under).backgroundColor
    : getComputedStyle(document.documentElement).backgroundColor;
  return [s.outlineStyle, Number.parseFloat(s.outlineWidth), s.outlineColor, ground];
}"""


def test_focus_rings_show_in_both_schemes(kit, make_app, live_app, page):  # noqa: F811
    """Reached by keyboard (the ring is for it): the selected period (its
    ring inside the accent fill), another period, the current tab and a link
    on the page's ground, each with a ring 2px or wider at 3:1 against what it
    is drawn on, light and dark."""
    app = make_app()
    create_user(app)
    connect(app, kit, account=1001)
    page.goto(f"{live_app}/login")
    page.get_by_label("Email").fill("creator@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_app}/**")
    page.goto(f"{live_app}/c/1?period=30")
    targets = {
        "selected period": '.period-switch a[aria-current="page"]',
        "another period": ".period-switch a:not([aria-current])",
        "current tab": '.tabs a[aria-current="page"]',
        "link": '.account-meta a[href^="/connections/"]',
    }
    weak = []
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        for name, selector in targets.items():
            # Tab onto it from the element before it, so :focus-visible applies.
            page.locator(selector).first.focus()
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Tab")
            assert page.evaluate("(s) => document.activeElement.matches(s)", selector)
            style, width, ring, ground = page.evaluate(RING)
            ratio = contrast(ring, ground)
            if style == "none" or width < 2 or ratio < 3:
                weak.append(f"{scheme} {name}: {style} {width}px {ratio:.2f}:1")
    assert weak == []
