"""A content block's HTML as Kit's email editor takes it.

Kit **refuses** a block whose HTML holds scripts, iframes, audio or video,
form controls (form, input, command, action, prompt...), external CSS or a
CSS `url()` (KIT_PLATFORM.md §8), and **recommends** inline styles, absolute
URLs, `target="_blank"` links and no background colour. So:

- `element` and `link` build the markup with Kit's `styles` inline (the
  styles Kit sends for each tag: `p`, `h1`...`h6`, `a`, `li`...), attributes
  escaped, links absolute and opening in a new tab;
- `read_styles` keeps only the declarations that are plain CSS values (no
  `url()`, no `expression`, no `;` smuggling a second declaration, no
  background): a crafted `styles` can only lose declarations, never add markup;
- `refusals` is Kit's filter as code: every block's HTML goes through it
  before it leaves the app (`blocks.render`), so a block that would be
  refused in Kit's editor is refused here first, with the reason, in a test.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from html.parser import HTMLParser
from typing import Any

#: Kit rejects these elements outright.
REFUSED_TAGS = frozenset(
    {
        "script", "iframe", "frame", "frameset", "object", "embed", "applet",
        "audio", "video", "source", "track", "form", "input", "button",
        "select", "option", "textarea", "command", "action", "prompt", "link",
        "meta", "base",
    }
)  # fmt: skip
#: CSS that pulls in something from elsewhere, or runs code.
REFUSED_CSS = re.compile(r"url\s*\(|@import|expression\s*\(|javascript:", re.I)
ABSOLUTE_URL = re.compile(r"^(https?://[^\s/]+|mailto:)", re.I)

Styles = dict[str, dict[str, str]]
MAX_TAGS = 40  # HTML's text-level tags Kit could style, with room to spare
MAX_DECLARATIONS = 40
PROPERTY = re.compile(r"^-?[a-zA-Z][a-zA-Z-]{0,39}$")
# A CSS value without anything that ends the declaration or the attribute,
# opens a function other than a colour's, or escapes: letters, digits, #, %,
# commas, dots, spaces, quotes for font names, parentheses for rgb().
VALUE = re.compile(r"^[\w\s#%,.'\"()/+-]{1,200}$")
FUNCTIONS = re.compile(r"([a-zA-Z-]+)\s*\(")
ALLOWED_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "calc"})


class StylesError(ValueError):
    """`styles` is not Kit's shape at all (not an object of objects, or far
    larger than any editor sends): the request is refused with a 400."""


def read_styles(raw: Any) -> Styles:
    """Kit's `styles` ({tag: {property: value}}) as CSS declarations per tag.

    A property may come camelCased (`fontSize`) or as CSS (`font-size`); a
    number is taken as it is (`lineHeight: 1.5`). Declarations that are not
    plain values are dropped, and so is any background (Kit: no background
    colour in a block)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_TAGS:
        raise StylesError("styles must be an object of at most 40 tags")
    styles: Styles = {}
    for tag, declarations in raw.items():
        if not isinstance(declarations, dict) or len(declarations) > MAX_DECLARATIONS:
            raise StylesError(f"styles.{str(tag)[:20]} must be an object of CSS")
        if not (isinstance(tag, str) and re.fullmatch(r"[a-z][a-z0-9]{0,9}", tag)):
            continue
        kept = {}
        for name, value in declarations.items():
            css = _declaration(name, value)
            if css is not None:
                kept[css[0]] = css[1]
        styles[tag] = kept
    return styles


def _declaration(name: Any, value: Any) -> tuple[str, str] | None:
    if not isinstance(name, str) or not PROPERTY.match(name):
        return None
    prop = re.sub(r"([A-Z])", lambda m: "-" + m.group(1).lower(), name).lower()
    if prop.startswith("background"):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    if not VALUE.match(text) or REFUSED_CSS.search(text):
        return None
    if any(f.lower() not in ALLOWED_FUNCTIONS for f in FUNCTIONS.findall(text)):
        return None
    return prop, text


def css(styles: Styles, tag: str, own: Mapping[str, str] | None = None) -> str:
    """The `style` attribute's value for `tag`: the block's own declarations
    first, Kit's after them, so that the creator's styles win."""
    merged = dict(own or {}) | styles.get(tag, {})
    return "; ".join(f"{name}: {value}" for name, value in merged.items())


def element(
    tag: str,
    styles: Styles,
    inner: str,
    own: Mapping[str, str] | None = None,
) -> str:
    """`<tag style="...">inner</tag>`; `inner` is markup already (escape text
    with `html.escape` first)."""
    style = css(styles, tag, own)
    attribute = f' style="{escape(style)}"' if style else ""
    return f"<{tag}{attribute}>{inner}</{tag}>"


def link(href: str, text: str, styles: Styles) -> str:
    """A link as Kit wants it: absolute, in a new tab. A URL that is not
    absolute http(s) gives the text alone, never a relative or script link."""
    if not re.match(r"^https?://[^\s/]+", href):
        return escape(text)
    style = css(styles, "a")
    attribute = f' style="{escape(style)}"' if style else ""
    return (
        f'<a href="{escape(href)}" target="_blank" rel="noopener"{attribute}>'
        f"{escape(text)}</a>"
    )


# --- Kit's filter --------------------------------------------------------------------


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and REFUSED_CSS.search(data):
            self.problems.append("a <style> element imports CSS or uses url()")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in REFUSED_TAGS:
            self.problems.append(f"<{tag}> is refused by Kit")
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}>: event handlers are refused")
            elif name == "style" and REFUSED_CSS.search(value):
                self.problems.append(f"<{tag} style>: url() and imports are refused")
            elif name in ("href", "src") and not ABSOLUTE_URL.match(value.strip()):
                self.problems.append(f"<{tag} {name}>: URLs must be absolute")
        if tag == "a" and values.get("target") != "_blank":
            self.problems.append('<a> must open in a new tab (target="_blank")')


def refusals(html: str) -> list[str]:
    """Why Kit's editor would refuse this HTML (or go against what it asks
    of a block); empty when it is fine."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return list(dict.fromkeys(checker.problems))
