"""The "Kit email editor": Kit's side of content blocks, on Kit's web origin.

``GET /email-editor?account=ID`` is a creator's email draft. **Insert** adds
one of the app's blocks (``SandboxConfig.plugin_blocks``: what ``flask kit
plugins --json`` prints, as a developer pastes it into Kit), and the editor
then does what Kit does (KIT_PLATFORM.md §8, ``choices.py`` for what the docs
leave open):

* renders the block's settings form from its settings JSON (text, textarea,
  select, toggle, numericalInput, search; a component whose
  ``dependencies`` are not met is hidden);
* asks each search setting's own URL for its options: an empty search when
  the block is inserted, the typed text on **Search**, and the saved value
  when a draft is **reopened**;
* POSTs ``{"settings", "styles"}`` to the block's request URL when it is
  inserted, on **Apply** (a setting changed) and on **Refresh**, with the
  plugin access token as ``Authorization: Bearer`` (``tokens.bearer_for``);
* previews the HTML after Kit's filter (``kit_html.rejections``: refused
  HTML is shown as refused, with the reasons), and a dynamic block's Liquid
  filled for two of the account's subscribers.

The page needs no JavaScript (the sandbox has none): every action is a form
post, then a redirect back to the draft.
"""

from __future__ import annotations

from typing import Any

import requests
from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from ..state import SandboxState, current_state
from . import choices
from .kit_html import fill, rejections
from .settings_form import read_form, sent_settings, shown
from .tokens import bearer_for

bp = Blueprint("editor", __name__, url_prefix="/email-editor")

# A page that shows an app's HTML: its inline styles need 'unsafe-inline' for
# style attributes (no script may run: script-src stays 'none').
EDITOR_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def drafts(state: SandboxState, account_id: int) -> list[dict[str, Any]]:
    """The blocks of the account's draft, in order (kept in the state)."""
    with state.lock:
        return state.editor_drafts.setdefault(account_id, [])


@bp.get("")
def page() -> Response:
    state = current_state()
    account_id = _account(state)
    blocks = drafts(state, account_id)
    placed = [_view(state, account_id, block) for block in blocks]
    response = Response(
        render_template(
            "sandbox/editor.html",
            accounts=sorted(state.accounts.values(), key=lambda a: a.id),
            account_id=account_id,
            available=state.config.plugin_blocks,
            placed=placed,
            connected=bearer_for(state, account_id) is not None,
        )
    )
    response.headers["Content-Security-Policy"] = EDITOR_CSP
    return response


@bp.post("/insert")
def insert() -> Response:
    state = current_state()
    account_id = _account(state)
    spec = _spec(state, request.form.get("identifier", ""))
    block: dict[str, Any] = {
        "identifier": spec["identifier"],
        "settings": {
            c["name"]: c["default"]
            for c in spec["settings"]
            if "default" in c and choices.USE_DEFAULTS
        },
        "options": {},
        "html": None,
        "errors": [],
    }
    for component in _searches(spec):
        _search(state, account_id, block, component, "")
    if choices.RENDER_ON_INSERT:
        _render(state, account_id, block)
    drafts(state, account_id).append(block)
    return _back(account_id)


@bp.post("/<int:index>")
def change(index: int) -> Response:
    """Apply, Search (``action=search:<field>``), Refresh or Remove."""
    state = current_state()
    account_id = _account(state)
    blocks = drafts(state, account_id)
    if not 0 <= index < len(blocks):
        abort(404)
    block = blocks[index]
    spec = _spec(state, block["identifier"])
    action = request.form.get("action", "apply")
    if action == "remove":
        blocks.pop(index)
        return _back(account_id)
    if action != "refresh":
        block["settings"] = read_form(spec, block["settings"])
    if action.startswith("search:"):
        component = next(c for c in _searches(spec) if c["name"] == action[7:])
        typed = request.form.get(f"search-{component['name']}", "")
        _search(state, account_id, block, component, typed)
    else:
        _render(state, account_id, block)
    return _back(account_id)


@bp.post("/reopen")
def reopen() -> Response:
    """Close the draft and open it again, as a creator returning to it does:
    each search setting is asked for the label of its saved value."""
    state = current_state()
    account_id = _account(state)
    for block in drafts(state, account_id):
        spec = _spec(state, block["identifier"])
        block["options"] = {}
        for component in _searches(spec):
            saved = block["settings"].get(component["name"])
            if saved:
                _search(state, account_id, block, component, str(saved))
        if choices.RERENDER_ON_REOPEN:
            _render(state, account_id, block)
    return _back(account_id, reopened="1")


# --- calls to the app -------------------------------------------------------


def _post(state: SandboxState, account_id: int, url: str, body: dict[str, Any]) -> Any:
    """POST ``body`` to the app with the plugin token: (status, JSON or None)."""
    token = bearer_for(state, account_id)
    headers = {"Content-Type": choices.CONTENT_TYPE}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = requests.post(
            url, json=body, headers=headers, timeout=choices.REQUEST_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        return 0, {"errors": [f"The app did not answer: {type(error).__name__}"]}
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, None


def _render(state: SandboxState, account_id: int, block: dict[str, Any]) -> None:
    spec = _spec(state, block["identifier"])
    body = {"settings": sent_settings(spec, block), "styles": choices.STYLES}
    status, answer = _post(state, account_id, spec["request_url"], body)
    block["status"] = status
    if isinstance(answer, dict) and answer.get("code") == 200 and "html" in answer:
        block["html"], block["errors"] = str(answer["html"]), []
    elif isinstance(answer, dict) and isinstance(answer.get("errors"), list):
        block["errors"] = [str(e) for e in answer["errors"]]
    else:
        block["errors"] = [f"The app answered {status} without Kit's JSON."]


def _search(
    state: SandboxState,
    account_id: int,
    block: dict[str, Any],
    component: dict[str, Any],
    text: str,
) -> None:
    body = {choices.SEARCH_FIELD: text, "settings": block["settings"]}
    status, answer = _post(state, account_id, component["request_url"], body)
    data = answer.get("data") if isinstance(answer, dict) else None
    if status == 200 and isinstance(data, list):
        block["options"][component["name"]] = [
            {"label": str(o.get("label")), "value": str(o.get("value"))}
            for o in data
            if isinstance(o, dict)
        ]
    else:
        errors = answer.get("errors") if isinstance(answer, dict) else None
        block["errors"] = [str(e) for e in errors or [f"Search answered {status}"]]


# --- the draft, read and shown ------------------------------------------------


def _account(state: SandboxState) -> int:
    raw = request.values.get("account", "")
    if raw.isascii() and raw.isdigit() and int(raw) in state.accounts:
        return int(raw)
    if raw:
        abort(404)
    return min(state.accounts)


def _spec(state: SandboxState, identifier: str) -> dict[str, Any]:
    for spec in state.config.plugin_blocks:
        if spec["identifier"] == identifier:
            return spec
    abort(404)


def _searches(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in spec["settings"] if c["type"] == "search"]


def _view(
    state: SandboxState, account_id: int, block: dict[str, Any]
) -> dict[str, Any]:
    spec = _spec(state, block["identifier"])
    html = block["html"]
    refused = rejections(html) if html is not None else []
    previews: list[tuple[str, Markup]] = []
    if html is not None and not refused:
        if spec.get("dynamic"):
            for email, values in _preview_subscribers(state, account_id):
                previews.append((email, Markup(fill(html, values))))  # noqa: S704
        else:
            previews.append(("", Markup(html)))  # noqa: S704 (passed Kit's filter)
    return {
        "spec": spec,
        "block": block,
        "components": [c for c in spec["settings"] if shown(c, block["settings"])],
        "refused": refused,
        "previews": previews,
    }


def _preview_subscribers(
    state: SandboxState, account_id: int
) -> list[tuple[str, dict[str, Any]]]:
    """One active subscriber with a first name and one without, as Liquid
    sees them (``subscriber.first_name``, custom fields by key)."""
    with state.lock:
        active = [
            s
            for s in state.account_data(account_id).subscribers.values()
            if s.state == "active"
        ]
    picked = [
        next((s for s in active if s.first_name), None),
        next((s for s in active if not s.first_name), None),
    ]
    return [
        (s.email_address, {"first_name": s.first_name, **s.fields})
        for s in picked[: choices.PREVIEW_SUBSCRIBERS]
        if s is not None
    ]


def _back(account_id: int, **extra: str) -> Response:
    return redirect(url_for("editor.page", account=account_id, **extra))  # type: ignore[return-value]
