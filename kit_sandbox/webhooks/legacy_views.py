"""``/v4/webhooks``: Kit's legacy webhooks API (KIT_PLATFORM.md §5), and the
control routes that make the events they carry happen.

* ``GET /v4/webhooks``: the rules this OAuth client made for the token's
  account (a cursor list under ``webhooks``);
* ``POST /v4/webhooks`` ``{"target_url", "event": {"name", <parameter>}}``:
  201 ``{"webhook": {"id", "account_id", "event", "target_url"}}``; 422 for an
  unknown event, a missing or mistyped required parameter, a bad URL;
* ``DELETE /v4/webhooks/<id>``: 204, 404 for no such rule (or another's);
* ``POST /_sandbox/webhooks/legacy/purchase`` ``{"account_id", "email"?,
  "product_ids"?}`` and ``POST /_sandbox/webhooks/legacy/click``
  ``{"account_id", "link"?, "email"?}`` (loopback only): a purchase or a click
  happens, and the matching rules' deliveries are queued (``flush`` sends
  them now and waits for them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, g, jsonify, request

from ..api.blueprint import (
    api_error,
    bp,
    current_account,
    json_body,
    list_response,
    require_token,
)
from ..api.params import MSG_NOT_FOUND
from ..state import current_state
from . import views
from .api_views import _url
from .legacy import LEGACY_EVENTS, LegacyHub, click_link, make_purchase


def _hub() -> LegacyHub:
    return current_state().webhooks.legacy


def _event(value: Any) -> tuple[str, Any, list[str]]:
    """(name, parameter, problems) of the ``event`` object."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return "", None, ["Event name can't be blank"]
    name = value["name"]
    if name not in LEGACY_EVENTS:
        return name, None, [f"Event name {name} is not a valid event"]
    spec = LEGACY_EVENTS[name]
    if spec is None:
        return name, None, []
    key, kind = spec
    param = value.get(key)
    if kind is int:
        ok = type(param) is int and param > 0
    else:
        ok = isinstance(param, str) and bool(param.strip()) and len(param) <= 2048
    return name, param, [] if ok else [f"Event {key} is required for {name}"]


@bp.post("/webhooks")
@require_token
def create_legacy_webhook() -> tuple[Response, int]:
    body = json_body()
    url, problem = _url(body.get("target_url"))
    name, param, problems = _event(body.get("event"))
    problems = ([problem.replace("Url", "Target url")] if problem else []) + problems
    if problems:
        return api_error(422, *problems), 422
    assert url is not None
    rule = _hub().create_rule(
        g.kit_token.client_id, current_account().id, name, param, url
    )
    return jsonify(webhook=rule.to_api()), 201


@bp.get("/webhooks")
@require_token
def list_legacy_webhooks() -> Response:
    owned = _hub().owned_rules(g.kit_token.client_id, current_account().id)
    return list_response("webhooks", lambda _data: owned, lambda rule: rule.to_api())


@bp.delete("/webhooks/<int:rule_id>")
@require_token
def delete_legacy_webhook(rule_id: int) -> tuple[str, int] | Response:
    hub = _hub()
    with hub.lock:
        rule = hub.rules.get(rule_id)
        if rule is None or (rule.client_id, rule.account_id) != (
            g.kit_token.client_id,
            current_account().id,
        ):
            return api_error(404, MSG_NOT_FOUND)
        hub.delete_rule(rule)
    return "", 204


# -- making it happen (loopback only, on the control blueprint) ----------------------


def _control_body() -> tuple[dict[str, Any], int | None]:
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    return body, views._account_id(body.get("account_id"), current_state())


def _optional_text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    return value if isinstance(value, str) and value else None


@views.bp.post("/webhooks/legacy/purchase")
def purchase() -> Response:
    body, account_id = _control_body()
    if account_id is None:
        return views._bad_request("account_id must be the id of a demo account")
    products = body.get("product_ids")
    if products is not None and not (
        isinstance(products, list) and all(type(p) is int for p in products)
    ):
        return views._bad_request("product_ids must be a list of numbers")
    state = current_state()
    with state.lock:
        try:
            sent = make_purchase(
                state.account_data(account_id),
                state.webhooks.legacy,
                datetime.now(UTC).replace(microsecond=0),
                _optional_text(body, "email"),
                products,
            )
        except ValueError as error:
            return views._bad_request(str(error))
    return jsonify(account_id=account_id, deliveries=sent)


@views.bp.post("/webhooks/legacy/click")
def click() -> Response:
    body, account_id = _control_body()
    if account_id is None:
        return views._bad_request("account_id must be the id of a demo account")
    state = current_state()
    with state.lock:
        try:
            sent = click_link(
                state.account_data(account_id),
                state.webhooks.legacy,
                _optional_text(body, "link"),
                _optional_text(body, "email"),
            )
        except ValueError as error:
            return views._bad_request(str(error))
    return jsonify(account_id=account_id, deliveries=sent)


@views.bp.get("/webhooks/legacy")
def legacy_overview() -> Response:
    hub = _hub()
    with hub.lock:
        return jsonify(
            webhooks=[
                rule.to_api() | {"client_id": rule.client_id}
                for rule in hub.rules.values()
            ],
            deliveries=[delivery.to_api() for delivery in hub.sent],
        )
