"""What Kit POSTs to a block, read against the block's own settings JSON.

Kit validates the creator's choices against the settings schema before it
sends them, but the request URL is public: anyone holding a token can POST
anything. So every value is checked against its component here (a text's
length, a toggle's type, a number's range, a select's options), a setting
whose `dependencies` are not met takes its default, unknown keys are ignored,
and a body that is not Kit's shape at all (not an object, nested deeper than
any component gives) is a 400 before any block code runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

Settings = dict[str, Any]

TEXT_LIMITS = {"text": 500, "textarea": 5000, "search": 200}
MAX_SETTINGS = 100
COLOR = re.compile(r"^#[0-9a-fA-F]{3,8}$")


class BadSettings(ValueError):
    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def read_body(body: Any) -> tuple[Mapping[str, Any], Any]:
    """`settings` and `styles` from Kit's body (either may be missing)."""
    if not isinstance(body, dict):
        raise BadSettings(
            'Send a JSON object: {"settings": {...}, "styles": {...}}', 400
        )
    settings = body.get("settings") or {}
    if not isinstance(settings, dict) or len(settings) > MAX_SETTINGS:
        raise BadSettings("settings must be an object of the block's settings", 400)
    return settings, body.get("styles")


def read_search(body: Any) -> str:
    """The text of a search request: `search` (empty on load, the typed text,
    or the saved value on a reopened draft); `value` is taken too."""
    if body is None:
        return ""
    if not isinstance(body, dict):
        raise BadSettings('Send a JSON object: {"search": "..."}', 400)
    text = body.get("search")
    if text in (None, ""):
        text = body.get("value", "")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or len(text) > TEXT_LIMITS["search"]:
        raise BadSettings("search must be a text of at most 200 characters", 400)
    return text.strip()


def read_settings(
    components: list[dict[str, Any]],
    defaults: Mapping[str, Any],
    raw: Mapping[str, Any],
) -> Settings:
    """Each component's value, checked; its default when absent or hidden."""
    settings: Settings = {}
    for component in components:
        name = component["name"]
        shown = _shown(component, settings)
        if not shown or raw.get(name) in (None, ""):
            if shown and component.get("required") and name not in defaults:
                raise BadSettings(f"Choose a value for “{component['label']}”.")
            settings[name] = defaults.get(name)
            continue
        settings[name] = _value(component, raw[name])
    return settings


def _shown(component: Mapping[str, Any], settings: Settings) -> bool:
    """Kit shows a component once each dependency's field has a value (the
    given `value`, when one is given)."""
    for dependency in component.get("dependencies", []):
        have = settings.get(dependency["field"])
        wanted = dependency.get("value")
        if have in (None, "", False) if wanted is None else have != wanted:
            return False
    return True


def _value(component: Mapping[str, Any], value: Any) -> Any:
    kind, label = component["type"], component["label"]
    if kind in TEXT_LIMITS:
        if not isinstance(value, str) or len(value) > TEXT_LIMITS[kind]:
            limit = TEXT_LIMITS[kind]
            raise BadSettings(f"“{label}” takes a text of at most {limit} characters.")
        return value.strip()
    if kind == "toggle":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise BadSettings(f"“{label}” is on or off (true or false).")
    if kind in ("numericalInput", "slider"):
        return _number(component, value)
    if kind in ("select", "radioGroup"):
        allowed = {str(option["value"]) for option in component["options"]}
        if not isinstance(value, (str, int)) or str(value) not in allowed:
            raise BadSettings(f"“{label}” must be one of its options.")
        return str(value)
    if kind == "color":
        if not isinstance(value, str) or not COLOR.match(value):
            raise BadSettings(f"“{label}” must be a colour like #1a2b3c.")
        return value
    raise BadSettings(f"“{label}” cannot be read.")  # a kind no block uses yet


def _number(component: Mapping[str, Any], value: Any) -> int:
    label = component["label"]
    low, high = component.get("min", 0), component.get("max", 100)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,6}", value.strip()):
        value = int(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
        or value != int(value)
    ):
        raise BadSettings(f"“{label}” must be a whole number from {low} to {high}.")
    return int(value)
