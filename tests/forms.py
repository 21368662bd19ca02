"""Read HTML forms the way a browser would submit them, for tests over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "radio":
                self.forms[-1].radios.setdefault(a["name"], []).append(
                    a.get("value", "")
                )
                if "checked" in a:
                    self.forms[-1].fields[a["name"]] = a.get("value", "")
            elif kind == "submit":
                self.forms[-1].buttons.append((a["name"], a.get("value", "")))
            else:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


def forms(html: str, base_url: str = "") -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        form.action = urljoin(base_url, form.action)
    return parser.forms


def form_with_button(html: str, base_url: str, button_value: str) -> tuple[Form, str]:
    """The form that has a submit button with this value, and that button's name."""
    for form in forms(html, base_url):
        for name, value in form.buttons:
            if value == button_value:
                return form, name
    raise AssertionError(f"no form with a {button_value!r} button in the page")
