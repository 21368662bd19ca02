"""``/_sandbox/activity`` and ``/_sandbox/webhooks/*``: make activity happen,
and steer or inspect Webhooks 2.0. Loopback clients only, like the control API.

* ``GET /_sandbox/activity``: a page with a **Make activity** button per demo
  account, and each account's endpoints with their latest deliveries;
* ``POST /_sandbox/activity`` ``{"account_id", "kind": "burst"|"batch"|
  "purchase"|"click"}`` (JSON, or the page's form): changes the account and
  emits the events (a purchase and a click: legacy webhooks only);
* ``GET /_sandbox/webhooks``: every endpoint (no secrets) and delivery (with
  payloads), and which accounts have webhooks enabled;
* ``POST /_sandbox/webhooks/enabled`` ``{"account_id", "enabled"}``: off makes
  every ``/v4/webhook_endpoints`` route of the account answer 404;
* ``POST /_sandbox/webhooks/flush``: send every queued event now, and wait
  (up to ``{"timeout"}`` seconds, default 10) for those first attempts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from ..control import _loopback_only
from ..state import SandboxState, current_state
from .activity import KINDS, make_activity
from .legacy import click_link, make_purchase

bp = Blueprint("webhooks", __name__, url_prefix="/_sandbox")
bp.before_request(_loopback_only)

FLUSH_TIMEOUT = 10.0
RECENT_DELIVERIES = 5
#: What only the legacy webhooks carry: a purchase, a click on a link.
LEGACY_KINDS = ("purchase", "click")


def _bad_request(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 400
    return response


def _account_id(value: Any, state: SandboxState) -> int | None:
    """A demo account's id from JSON (an int) or a form (digits); else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value in state.accounts else None


@bp.get("/activity")
def activity_page() -> str:
    state = current_state()
    hub = state.webhooks
    with state.lock:
        accounts = [
            {
                "account": account,
                "enabled": hub.is_enabled(account.id),
                "endpoints": [
                    {
                        "endpoint": endpoint,
                        "deliveries": sorted(
                            hub.deliveries_of(endpoint),
                            key=lambda delivery: -delivery.id,
                        )[:RECENT_DELIVERIES],
                    }
                    for endpoint in hub.endpoints.values()
                    if endpoint.account_id == account.id
                ],
                "legacy_rules": [
                    rule
                    for rule in hub.legacy.rules.values()
                    if rule.account_id == account.id
                ],
            }
            for account in state.accounts.values()
        ]
        return render_template(
            "sandbox/activity.html",
            accounts=accounts,
            messages=get_flashed_messages(),
        )


@bp.post("/activity")
def activity() -> BaseResponse:
    """JSON in, JSON out (for tests); the page's form gets a redirect back."""
    state = current_state()
    as_json = request.is_json
    body = request.get_json(silent=True) if as_json else request.form
    if not isinstance(body, dict):  # (a form is a MultiDict, a dict too)
        return _bad_request("The body must be a JSON object")
    account_id = _account_id(body.get("account_id"), state)
    kind = body.get("kind", "burst")
    if account_id is None:
        return _bad_request("account_id must be the id of a demo account")
    if kind not in KINDS + LEGACY_KINDS:
        return _bad_request(f"kind must be one of {', '.join(KINDS + LEGACY_KINDS)}")
    with state.lock:
        data = state.account_data(account_id)
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            if kind == "purchase":
                emitted = make_purchase(data, state.webhooks.legacy, now)
            elif kind == "click":
                emitted = click_link(data, state.webhooks.legacy)
            else:
                emitted = make_activity(data, state.webhooks, kind, now)
        except ValueError as error:
            return _bad_request(str(error))
        name = state.accounts[account_id].name
    if as_json:
        return jsonify(account_id=account_id, kind=kind, events=emitted)
    total, kinds = sum(emitted.values()), ", ".join(sorted(emitted))
    what = "legacy webhook deliveries" if kind in LEGACY_KINDS else "events"
    flash(f"{name}: {total} {what} ({kinds}).")
    return redirect(url_for("webhooks.activity_page"), code=303)


@bp.get("/webhooks")
def overview() -> Response:
    """For tests: everything, secrets excepted (they are shown once, to the
    app that made the endpoint)."""
    state = current_state()
    hub = state.webhooks
    with state.lock:
        return jsonify(
            accounts={
                str(account_id): {"enabled": hub.is_enabled(account_id)}
                for account_id in state.accounts
            },
            webhook_endpoints=[
                endpoint.to_api()
                | {"client_id": endpoint.client_id, "account_id": endpoint.account_id}
                for endpoint in hub.endpoints.values()
            ],
            deliveries=[
                delivery.to_api(include_payload=True)
                for delivery in hub.deliveries.values()
            ],
        )


@bp.post("/webhooks/enabled")
def enabled() -> Response:
    state = current_state()
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    account_id = _account_id(body.get("account_id"), state)
    if account_id is None:
        return _bad_request("account_id must be the id of a demo account")
    if not isinstance(body.get("enabled"), bool):
        return _bad_request("enabled must be true or false")
    state.webhooks.set_enabled(account_id, body["enabled"])
    return jsonify(account_id=account_id, enabled=body["enabled"])


@bp.post("/webhooks/flush")
def flush() -> Response:
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    timeout = body.get("timeout", FLUSH_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        return _bad_request("timeout must be a number of seconds")
    if not 0 <= timeout <= 60:
        return _bad_request("timeout must be between 0 and 60 seconds")
    hub = current_state().webhooks
    sent = hub.flush(float(timeout))
    with hub.lock:
        return jsonify(deliveries=[delivery.to_api() for delivery in sent])
