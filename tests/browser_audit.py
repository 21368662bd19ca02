"""What the browser test checks on every page, at every width, in each colour
scheme.

``Audit.check`` saves a full-page screenshot and runs axe-core in the page in
the light scheme and again in the dark one (the page stays where it is; the
browser's ``prefers-color-scheme`` changes under it, as when a creator's
system switches to dark), checks that the dark page is dark, and at phone
width measures the layout (no sideways scroll, every tab in sight).
Screenshots: ``<SCREENSHOT_DIR>/<width>/`` (light) and
``<SCREENSHOT_DIR>/dark/<width>/``.
Pages that cannot be reached (a link missing, a 404 where a page should be) are
collected as "missing" instead of stopping the walk, so one run shows
everything that is wrong. ``Audit.write`` puts the whole record in
``<SCREENSHOT_DIR>/axe-results.json`` whether the run passes or fails.
Besides axe (WCAG 2.1 A/AA rules only), each page must have exactly one
``<h1>`` and no heading level skipped inside ``<main>`` (axe counts those as
best practice, outside the WCAG tags; the project holds itself to them).

axe-core comes from the ``axe-playwright-python`` wheel (its ``axe.min.js``),
so no CDN is involved. It is evaluated through the DevTools protocol
(``page.evaluate``), which the app's CSP (``script-src 'self'``) does not
govern, unlike an injected ``<script>`` tag; the pages keep their real CSP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

#: Every page the walk visits, in order: the number prefixes its screenshot, the
#: same at each width, so 1280/07-... and 390/07-... show the same page.
PAGES = (
    "home",
    "sign-in",
    "forgot-password",
    "sign-up",
    "check-inbox",
    "confirm-address",
    "overview",
    "overview-7-days",
    "overview-90-days",
    "activity",
    "subscribers",
    "subscribers-page-2",
    "subscribers-search",
    "subscriber",
    "tags",
    "tag",
    "forms",
    "sequences",
    "broadcasts",
    "broadcast",
    "accounts",
    "connection",
    "disconnect-confirm",
    "account-settings",
    "not-found",
    "empty-overview",
    "empty-subscribers",
    "form-error",
    "kit-unavailable",
    "rate-limited",
    "reconnect",
    # Issue 21 §2: a form's and a sequence's subscribers, a broadcast's
    # preview with its images (numbered after the others: screenshots keep
    # their names).
    "form",
    "sequence",
    "broadcast-images",
    # Issue 21 §4: the Kit sandbox's own pages, a connection after
    # Disconnect, and the page a password reset link opens.
    "kit-app-store",
    "kit-consent",
    "kit-installed",
    "kit-outbox",
    "kit-activity",
    "kit-not-found",
    "accounts-disconnected",
    "connection-disconnected",
    "disconnected",
    "reset-password",
    # Issue 24: the App settings page Kit links to, and the listing's pages.
    "app-settings",
    "delete-data-confirm",
    "help",
    "support",
    "privacy",
    # Asked once per account before Kit's consent: what the app keeps.
    "before-kit",
)

#: The schemes every page is checked in; the first is the one the walk browses in.
SCHEMES = ("light", "dark")

#: WCAG 2.1 A and AA, the bar in issue 13.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
}

PHONE_WIDTH = 390

RUN_AXE = """async (options) => {
  const result = await axe.run(document, options);
  return {
    version: result.testEngine.version,
    violations: result.violations.map((v) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((n) => n.target.join(" ")),
      html: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 200)),
    })),
  };
}"""

# Every link of the dashboard's tab row that is not entirely inside the viewport.
TABS_OUT_OF_SIGHT = """(width) => [...document.querySelectorAll(
    'nav[aria-label="Kit data"] a')].filter((a) => {
  const box = a.getBoundingClientRect();
  return box.width === 0 || box.left < 0 || box.right > width;
}).map((a) => a.textContent.trim())"""


# The innermost elements that stick out past the right edge: what to fix when
# the page scrolls sideways.
OVERFLOWING = """(width) => [...document.body.querySelectorAll('*')].filter((e) =>
  e.getBoundingClientRect().right > width + 0.5 &&
  ![...e.children].some((c) => c.getBoundingClientRect().right > width + 0.5)
).slice(0, 3).map((e) => e.tagName.toLowerCase() +
  (e.className && typeof e.className === 'string'
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +
  ' "' + (e.textContent || '').trim().slice(0, 40) + '"')"""


# Phone cards (`.data.records td[data-label]`, a flex row: the label, then the
# value) whose value is several flex items: text and a <time> side by side
# become narrow columns ("14 event s, 7 Dec t o 7 Dec"). Wrap it in one element.
SPLIT_CARD_VALUES = """() => [
  ...document.querySelectorAll('.data.records td[data-label]')].filter((td) =>
    getComputedStyle(td).display === 'flex' &&
    [...td.childNodes].filter((n) => n.nodeType === 1 ||
      (n.nodeType === 3 && n.textContent.trim())).length > 1)
  .slice(0, 3).map((td) => td.dataset.label + ': "' +
    td.textContent.trim().slice(0, 40) + '"')"""


# Headings inside <main> that skip a level (an h2 followed by an h4, say).
SKIPPED_HEADINGS = """() => {
  let previous = 1;
  const skips = [];
  for (const h of document.querySelectorAll('main :is(h1, h2, h3, h4, h5, h6)')) {
    const level = Number(h.tagName[1]);
    if (level > previous + 1) skips.push(`h${previous} → ${h.tagName.toLowerCase()} "${
      h.textContent.trim().slice(0, 40)}"`);
    previous = level;
  }
  return skips;
}"""


# The page's ground (the body's background, or the root's behind a transparent
# body; the canvas is white when neither has one) and its text colour.
GROUND = """() => {
  const style = (e) => getComputedStyle(e);
  const grounds = [document.body, document.documentElement].map(
    (e) => style(e).backgroundColor).filter((c) => c !== 'rgba(0, 0, 0, 0)');
  return [grounds[0] || 'rgb(255, 255, 255)', style(document.body).color];
}"""


def luminance(rgb: str) -> float:
    """WCAG's relative luminance of a CSS ``rgb(...)``/``rgba(...)`` colour."""
    parts = [int(float(x)) / 255 for x in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@cache
def axe_source() -> str:
    return (resources.files("axe_playwright_python") / "axe.min.js").read_text(
        encoding="utf-8"
    )


def run_axe(page: Any) -> dict[str, Any]:
    """axe-core's version and violations for the page the browser shows."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(RUN_AXE, AXE_OPTIONS)
    return result


def load_frames(page: Any) -> None:
    """Bring each <iframe> (the broadcast's preview is `loading="lazy"`) into
    view and wait for its page, so the screenshot and axe see its content,
    not an empty frame below the fold. The page stays scrolled there: Chromium
    paints a sandboxed frame scrolled out of view as blank in a full-page shot."""
    for frame in page.locator("iframe").element_handles():
        frame.scroll_into_view_if_needed()
        content = frame.content_frame()
        if content is not None and frame.get_attribute("src"):
            # A lazy frame starts at about:blank and navigates once in view.
            content.wait_for_url(lambda url: url != "about:blank", timeout=10_000)
            content.wait_for_load_state()


@dataclass
class Audit:
    shots: Path
    checked: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    page_problems: list[dict[str, Any]] = field(default_factory=list)
    axe_version: str = ""

    def check(self, page: Any, name: str) -> None:
        """Screenshot and axe in each scheme, then (at phone width) the layout
        checks, for the page the browser shows now."""
        width = page.viewport_size["width"]
        where = {"page": name, "width": width, "url": page.url}
        load_frames(page)
        for scheme in SCHEMES:
            page.emulate_media(color_scheme=scheme)
            self.check_scheme(page, name, scheme)
        page.emulate_media(color_scheme=SCHEMES[0])
        ones = page.locator("h1").count()
        if ones != 1:
            self.page_problems.append({**where, "problem": f"{ones} <h1> (want one)"})
        for skip in page.evaluate(SKIPPED_HEADINGS):
            self.page_problems.append(
                {**where, "problem": f"heading level skipped: {skip}"}
            )
        if width <= PHONE_WIDTH:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide = page.evaluate(OVERFLOWING, width)
                self.page_problems.append(
                    {**where, "problem": f"scrollWidth {scroll}, too wide: {wide}"}
                )
            split = page.evaluate(SPLIT_CARD_VALUES)
            if split:
                self.page_problems.append(
                    {**where, "problem": f"card values in pieces: {split}"}
                )
            hidden = page.evaluate(TABS_OUT_OF_SIGHT, width)
            if hidden:
                self.page_problems.append(
                    {**where, "problem": f"tabs out of sight {hidden}"}
                )

    def check_scheme(self, page: Any, name: str, scheme: str) -> None:
        """The screenshot and axe in one scheme; in the dark one, the page must
        be dark too (light text on a dark ground), not a light page that
        merely passes axe."""
        width = page.viewport_size["width"]
        shot = self.folder(scheme, width) / f"{PAGES.index(name) + 1:02d}-{name}.png"
        page.screenshot(path=shot, full_page=True)
        result = run_axe(page)
        self.axe_version = result["version"]
        where = {"page": name, "width": width, "scheme": scheme, "url": page.url}
        self.checked.append({**where, "screenshot": str(shot)})
        self.violations += [{**where, **v} for v in result["violations"]]
        if scheme == "dark":
            ground, text = page.evaluate(GROUND)
            if luminance(ground) > 0.05 or luminance(text) < 0.4:
                self.page_problems.append(
                    {**where, "problem": f"not dark: {text} on {ground}"}
                )

    def folder(self, scheme: str, width: int) -> Path:
        """Where a scheme's screenshots go: the light ones where they always
        went (the README links them), the dark ones under dark/."""
        folder = self.shots / str(width)
        if scheme != SCHEMES[0]:
            folder = self.shots / scheme / str(width)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def first_screen(self, page: Any, name: str) -> None:
        """What a phone shows before any scrolling, for the README (a full page
        at 390 px is too long to show there): <width>/screen-<name>.png."""
        width = page.viewport_size["width"]
        if width <= PHONE_WIDTH:
            for scheme in SCHEMES:
                page.emulate_media(color_scheme=scheme)
                shot = self.folder(scheme, width) / f"screen-{name}.png"
                page.screenshot(path=shot)
            page.emulate_media(color_scheme=SCHEMES[0])

    def visit(
        self,
        page: Any,
        name: str,
        go: Callable[[], Any],
        status: int = 200,
    ) -> bool:
        """Reach a page by ``go`` (a click or a goto that navigates), then check
        it. A page that cannot be reached, or answers another status, is noted
        as missing and the walk goes on; returns whether it was checked."""
        from playwright.sync_api import Error as PlaywrightError

        width = page.viewport_size["width"]
        try:
            with page.expect_navigation() as navigation:
                go()
            response = navigation.value
            got = response.status if response is not None else None
        except (PlaywrightError, AssertionError) as error:
            first_line = (str(error).strip().splitlines() or [""])[0]
            self.note_missing(name, width, f"could not reach it: {first_line}")
            return False
        if got != status:
            self.note_missing(name, width, f"HTTP {got} at {page.url}")
            return False
        self.check(page, name)
        return True

    def note(self, page: Any, name: str, problem: str) -> None:
        """A page that works but shows the wrong thing."""
        where = {"page": name, "width": page.viewport_size["width"], "url": page.url}
        self.page_problems.append({**where, "problem": problem})

    def note_missing(self, name: str, width: int, why: str) -> None:
        self.missing.append({"page": name, "width": width, "why": why})

    def write(self) -> Path:
        path = self.shots / "axe-results.json"
        path.write_text(
            json.dumps(
                {
                    "axe_version": self.axe_version,
                    "rules": AXE_OPTIONS["runOnly"]["values"],
                    "widths": sorted({c["width"] for c in self.checked}, reverse=True),
                    "schemes": list(SCHEMES),
                    "pages_checked": self.checked,
                    "violations": self.violations,
                    "missing_pages": self.missing,
                    "page_problems": self.page_problems,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        return path

    def problems(self) -> str:
        """Everything wrong, one line each ('' when nothing is)."""
        lines = [
            f"axe: {v['page']} @{v['width']} {v['scheme']}: {v['rule']} "
            f"({v['impact']}) {', '.join(v['targets'][:5])} — {v['help']}"
            for v in self.violations
        ]
        lines += [
            f"missing: {m['page']} @{m['width']}: {m['why']}" for m in self.missing
        ]
        lines += [
            f"page: {p['page']} @{p['width']}: {p['problem']}"
            for p in self.page_problems
        ]
        return "\n".join(lines)


def no_violations(page: Any) -> None:
    """axe-core finds nothing on the page as it is now."""
    violations = run_axe(page)["violations"]
    assert not violations, [(v["rule"], v["nodes"][:1]) for v in violations]


def sign_in_page(page: Any, origin: str, email: str, password: str) -> None:
    """Sign in through the app's form in the browser page."""
    page.goto(f"{origin}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{origin}/**")
