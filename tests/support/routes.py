"""The app's routes, and a path for each (for the tests that try them all)."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import Rule


def routes(app: Flask) -> list[tuple[str, Rule]]:
    """Every (method, rule) the app answers, but static files, HEAD and OPTIONS."""
    return [
        (method, rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def path_of(rule: Rule, connection_id: int = 1) -> str:
    """The rule's path with `connection_id` (and 1 for any other argument)."""
    values = {name: 1 for name in rule.arguments} | {"connection_id": connection_id}
    built = rule.build(values, append_unknown=False)
    assert built is not None, rule
    return built[1]
