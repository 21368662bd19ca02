"""What Kit's editor does with a block's HTML: its filter, and (for a
dynamic block's preview) the Liquid it fills per subscriber.

Kit **rejects** HTML with scripts, iframes, audio or video, form, input,
command, action or prompt elements, external CSS or CSS ``url()``
(KIT_PLATFORM.md §8). The sandbox refuses the same, and shows why, instead of
previewing: an app's block that passes here passes Kit's documented filter.
This is the sandbox's own reading of the docs (it imports nothing of
``app/``), so the app's check and this one are two readings that must agree.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from typing import Any

REJECTED = frozenset(
    {
        "script", "iframe", "frame", "object", "embed", "audio", "video",
        "form", "input", "button", "select", "textarea", "command", "action",
        "prompt",
    }
)  # fmt: skip
CSS_URL = re.compile(r"url\s*\(|@import", re.I)


class _Filter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.reasons: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_style = tag == "style"
        if tag in REJECTED:
            self.reasons.append(f"<{tag}> elements are not allowed")
        if tag == "link" and any(
            n == "rel" and "stylesheet" in (v or "") for n, v in attrs
        ):
            self.reasons.append("external CSS is not allowed")
        for name, value in attrs:
            if name.startswith("on"):
                self.reasons.append(f"{name} handlers are not allowed")
            if name == "style" and CSS_URL.search(value or ""):
                self.reasons.append("CSS url() is not allowed")
            if name in ("href", "src") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.reasons.append("javascript: links are not allowed")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style and CSS_URL.search(data):
            self.reasons.append("CSS url() and @import are not allowed")


def rejections(html: str) -> list[str]:
    """Why Kit would reject this block's HTML; empty when it takes it."""
    checker = _Filter()
    checker.feed(html)
    checker.close()
    return list(dict.fromkeys(checker.reasons))


# --- the Liquid of a dynamic block's preview (choices.py: the subset) -----------

_IF = re.compile(r"{%\s*if\s+subscriber\.(\w+)\s*%}(.*?){%\s*endif\s*%}", re.S)
_OUTPUT = re.compile(r"{{\s*subscriber\.(\w+)\s*(?:\|\s*default:\s*\"([^\"]*)\"\s*)?}}")


def fill(template: str, subscriber: dict[str, Any]) -> str:
    """The template as Kit would send it to `subscriber` ({key: value}),
    within the subset of Liquid named in choices.py."""

    def condition(match: re.Match[str]) -> str:
        return match.group(2) if subscriber.get(match.group(1)) else ""

    def output(match: re.Match[str]) -> str:
        value = subscriber.get(match.group(1))
        if value in (None, ""):
            return match.group(2) or ""  # already HTML in the template
        return escape(str(value))

    return _OUTPUT.sub(output, _IF.sub(condition, template))
