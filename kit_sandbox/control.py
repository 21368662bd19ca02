"""``/_sandbox/*``: a JSON control panel for tests and benchmarks.

No authentication, so it only answers loopback clients. Tests in the same
process can use ``SandboxState`` directly instead.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .oauth.grants import live_grants
from .registration import TUNABLE_SETTINGS
from .state import current_state

bp = Blueprint("control", __name__, url_prefix="/_sandbox")


def _bad_request(message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = 400
    return response


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@bp.before_request
def _loopback_only() -> Response | None:
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    response = jsonify(error="The sandbox control API only answers loopback clients.")
    response.status_code = 403
    return response


@bp.get("/stats")
def stats() -> Response:
    return jsonify(current_state().stats())


@bp.get("/requests")
def requests_log() -> Response:
    """The request logs in full (test credentials included: it's a sandbox)."""
    state = current_state()
    with state.lock:
        return jsonify(
            token_requests=list(state.token_requests),
            revoke_requests=list(state.revoke_requests),
            api_requests=list(state.api_requests),
        )


@bp.get("/grants")
def grants() -> Response:
    """The token pairs still alive (not revoked), per account; no tokens."""
    by_account: dict[str, list[dict[str, Any]]] = {}
    for grant in live_grants(current_state()):
        by_account.setdefault(str(grant["account_id"]), []).append(grant)
    return jsonify(accounts=by_account)


@bp.post("/faults")
def add_fault() -> Response:
    body = _json_body()
    try:
        current_state().add_fault(
            str(body.get("endpoint")), str(body.get("kind")), body.get("times", 1)
        )
    except ValueError as error:
        return _bad_request(str(error))
    return _faults()


@bp.delete("/faults")
def clear_faults() -> Response:
    current_state().clear_faults()
    return _faults()


def _faults() -> Response:
    state = current_state()
    with state.lock:
        planned = [vars(fault).copy() for fault in state.faults]
    return jsonify(faults=planned)


@bp.get("/hanging")
def hanging() -> Response:
    """How many requests a "hang" fault holds right now."""
    return jsonify(hanging=current_state().hanging)


@bp.post("/release")
def release() -> Response:
    """Let every request held by a "hang" fault go on (they then answer)."""
    return jsonify(released=current_state().release_hangs())


#: Settings that may have a fractional part; the others are whole numbers.
FRACTIONAL_SETTINGS = frozenset(
    {
        "timeout_seconds",
        "rate_window",
        "webhook_batch_seconds",
        "webhook_rotation_seconds",
    }
)
#: Settings for which 0 makes no sense (no request could ever pass).
POSITIVE_SETTINGS = frozenset({"rate_limit", "rate_window"})


@bp.post("/settings")
def settings() -> Response:
    """Change lifetimes, latency, the rate limit (whole numbers), the rate
    window or ``timeout_seconds`` (any number); none may be negative."""
    state = current_state()
    body = _json_body()
    unknown = set(body) - {*TUNABLE_SETTINGS, "timeout_seconds"}
    if unknown:
        return _bad_request(f"Unknown settings: {', '.join(sorted(unknown))}")
    for name, value in body.items():
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        if not is_number or value < 0:
            return _bad_request(f"{name} must be a number >= 0")
        if name in POSITIVE_SETTINGS and value <= 0:
            return _bad_request(f"{name} must be a number > 0")
        if name not in FRACTIONAL_SETTINGS and not isinstance(value, int):
            return _bad_request(f"{name} must be a whole number")
    with state.lock:
        for name, value in body.items():
            target = state if name == "timeout_seconds" else state.config
            setattr(target, name, value)
        return jsonify(**state.config.settings(), timeout_seconds=state.timeout_seconds)


@bp.post("/expire-tokens")
def expire_tokens() -> Response:
    current_state().expire_access_tokens()
    return jsonify(ok=True)


@bp.post("/revoke-account")
def revoke_account() -> Response:
    """Simulate a creator uninstalling the app in Kit: body ``{"account_id"}``."""
    account_id = _json_body().get("account_id")
    if not isinstance(account_id, int) or isinstance(account_id, bool):
        return _bad_request("account_id must be an integer")
    revoked = current_state().revoke_all_for_account(account_id)
    return jsonify(revoked=revoked)


@bp.post("/reset")
def reset() -> Response:
    current_state().reset()
    current_app.extensions["kit_sandbox_outbox"].clear()  # outbox/: the mail too
    return jsonify(ok=True)
