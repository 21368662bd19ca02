"""A block's settings form in the sandbox's editor, as Kit's sidebar works:
which components show (their ``dependencies``), the values read from the
form as Kit would type them, and the values sent to the app."""

from __future__ import annotations

from typing import Any

from flask import request


def shown(component: dict[str, Any], settings: dict[str, Any]) -> bool:
    """Kit shows a component once its dependencies have their values."""
    for dependency in component.get("dependencies", []):
        have = settings.get(dependency["field"])
        if "value" in dependency:
            if have != dependency["value"]:
                return False
        elif have in (None, "", False):
            return False
    return True


def read_form(spec: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The settings form as Kit would send the values: booleans for toggles,
    numbers for numerical inputs, text for the rest."""
    settings = dict(before)
    for component in spec["settings"]:
        name, kind = component["name"], component["type"]
        if kind == "toggle":
            settings[name] = request.form.get(name) == "on"
        elif name in request.form:
            value: Any = request.form[name]
            if kind in ("numericalInput", "slider") and value.lstrip("-").isdigit():
                value = int(value)
            settings[name] = value
    return settings


def sent_settings(spec: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    """The values of the components shown (Kit sends no hidden one)."""
    sent: dict[str, Any] = {}
    for component in spec["settings"]:
        name = component["name"]
        if shown(component, sent | block["settings"]) and name in block["settings"]:
            sent[name] = block["settings"][name]
    return sent
