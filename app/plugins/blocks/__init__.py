"""The app's content blocks for Kit's email editor, and what every block shares.

A block is one module that declares one `Block`: its name (also its URL and
its `identifier` at Kit), its settings in Kit's component format, its search
settings' functions, and its renderer. **Adding a block is that module plus
one line in `BLOCKS` below**: its routes (`app/plugins/block_views.py`), its
entry in `flask kit plugins` and in the sandbox's editor follow from here.

Kit POSTs `{"settings": {...}, "styles": {...}}` to a block's URL and expects
`{"code": 200, "html": "..."}` or `{"code": 404, "errors": [...]}`
(KIT_PLATFORM.md §8). Here the HTTP status is always the body's `code`: 400
for a body that is not Kit's shape, 422 for a setting out of its range, 404
for a block that has nothing to show, 503 when Kit is slow and nothing is
kept. `answer` does it all, outside any request object, so it is tested
without one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from app.kit.errors import KitError, NeedsReconnect
from app.models import KitConnection
from app.plugins import html
from app.plugins.blocks.settings import (
    BadSettings,
    Settings,
    read_body,
    read_search,
    read_settings,
)

log = logging.getLogger(__name__)

Option = dict[str, str]  # {"label": ..., "value": ...}
Render = Callable[[KitConnection, Settings, html.Styles], "str | BlockError"]
Search = Callable[[KitConnection, str], list[Option]]
MAX_OPTIONS = 25


@dataclass(frozen=True)
class BlockError:
    """What a block says instead of HTML (Kit shows `message` in its editor)."""

    message: str
    code: int = 404


@dataclass(frozen=True)
class Block:
    #: Kit's `identifier` rules: lowercase letters, digits, underscores. Also
    #: the last part of the block's URL.
    name: str
    label: str
    description: str
    #: Kit's components (text, toggle, select, numericalInput, search...). A
    #: search component names no `request_url`: it is built from the block's
    #: name and the field (`flask kit plugins` prints it).
    settings: list[dict[str, Any]]
    render: Render
    #: The value a setting takes when Kit sends none (or its component is
    #: hidden by its dependencies).
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: One function per search setting: (connection, typed text) -> options.
    searches: Mapping[str, Search] = field(default_factory=dict)
    #: A dynamic block's HTML is Liquid that Kit renders per subscriber.
    dynamic: bool = False


#: One line per block: the module of this package that declares its `BLOCK`.
#: Kit's editor lists them in this order.
MODULES = (
    "latest_broadcasts",
    "personal_greeting",
)
BLOCKS: list[Block] = [import_module(f"{__name__}.{m}").BLOCK for m in MODULES]
BY_NAME = {block.name: block for block in BLOCKS}

Answer = tuple[dict[str, Any], int]
UrlFor = Callable[..., str]  # (endpoint, **values) -> absolute URL


def describe(block: Block, url_for: UrlFor) -> dict[str, Any]:
    """What a developer enters at Kit for the block (`flask kit plugins`),
    and what the sandbox's editor reads: its request URL, and its settings
    with each search component's own `request_url` filled in, and the value
    each starts with as its `default`."""
    searches = {
        name: url_for("plugins.block_search", name=block.name, field=name)
        for name in block.searches
    }
    settings = []
    for component in block.settings:
        name = component["name"]
        if component["type"] == "search":
            component = component | {"request_url": searches[name]}
        if block.defaults.get(name) not in (None, ""):
            component = component | {"default": block.defaults[name]}
        settings.append(component)
    entry: dict[str, Any] = {
        "name": block.label,
        "identifier": block.name,
        "description": block.description,
        "request_url": url_for("plugins.block", name=block.name),
        "search_urls": searches,
        "settings": settings,
        "dynamic": block.dynamic,
    }
    return entry


def answer(block: Block, connection: KitConnection, body: Any) -> Answer:
    """The block's answer to Kit's POST `body` (parsed JSON, or None)."""
    try:
        raw_settings, raw_styles = read_body(body)
        styles = html.read_styles(raw_styles)
        settings = read_settings(block.settings, block.defaults, raw_settings)
    except html.StylesError as error:
        return _error(str(error), 400)
    except BadSettings as error:
        return _error(error.message, error.code)
    try:
        made = block.render(connection, settings, styles)
    except NeedsReconnect:
        return _error(RECONNECT, 404)
    except KitError:
        return _error(KIT_SLOW, 503)
    if isinstance(made, BlockError):
        return _error(made.message, made.code)
    problems = html.refusals(made)
    if problems:  # our bug, not the creator's: Kit would refuse it anyway
        log.error("Block %s made HTML Kit refuses: %s", block.name, problems)
        return _error(f"This block could not be shown: {problems[0]}.", 404)
    return {"code": 200, "html": made}, 200


def search(block: Block, name: str, connection: KitConnection, body: Any) -> Answer:
    """`{"data": [{"label", "value"}]}` for one search setting: Kit sends an
    empty search on load, the typed text, and the saved value when a draft is
    reopened (`read_search`); the block's function matches labels and values."""
    try:
        text = read_search(body)
    except BadSettings as error:
        return _error(error.message, error.code)
    try:
        options = block.searches[name](connection, text)
    except NeedsReconnect:
        return _error(RECONNECT, 404)
    except KitError:
        return _error(KIT_SLOW, 503)
    return {"data": options[:MAX_OPTIONS]}, 200


RECONNECT = "Reconnect your Kit account in the app, then refresh this block."
KIT_SLOW = "Kit is slow to answer right now: refresh this block in a moment."


def _error(message: str, code: int) -> Answer:
    return {"code": code, "errors": [message]}, code
