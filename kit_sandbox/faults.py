"""Latency and planned failures, applied before the sandbox does real work.

The failures are the ones a Kit client must survive (KIT_PLATFORM.md sections 4
and 5): 5xx, a gateway that times out, a Kit that hangs and then answers, an
HTML page where JSON was expected, ``invalid_grant`` out of the blue, a 401 "The
access token is invalid" for a token that was fine a moment ago, and Kit's bare
429.
"""

from __future__ import annotations

import time

from flask import Response, jsonify

from .state import SandboxState

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# What a load balancer says when Kit's app server doesn't answer in time.
GATEWAY_TIMEOUT_HTML = (
    "<html><head><title>504 Gateway Time-out</title></head>"
    "<body><center><h1>504 Gateway Time-out</h1></center></body></html>"
)
# A 200 that isn't JSON: what a captive portal or a maintenance page looks like.
NOT_JSON_HTML = (
    "<!DOCTYPE html><html><head><title>Kit is down for maintenance</title></head>"
    "<body><h1>We'll be right back</h1></body></html>"
)


def simulate_conditions(state: SandboxState, endpoint: str) -> Response | None:
    """Sleep for the configured latency, then spend a planned fault, if any.

    Returns the response to send instead of the real one, or None to carry on.
    A "hang" holds the request (until released, or ``timeout_seconds``) and
    then carries on: the work is done even if the client gave up waiting.
    """
    latency_ms = state.config.latency_ms
    if latency_ms > 0:
        time.sleep(latency_ms / 1000)
    kind = state.take_fault(endpoint)
    if kind is None:
        return None
    if kind == "hang":
        state.hang()
        return None
    return fault_response(state, endpoint, kind)


def retry_later() -> Response:
    """Kit's 429: plain text and no ``Retry-After`` (clients must back off)."""
    return Response("Retry later", 429, mimetype="text/plain")


def fault_response(state: SandboxState, endpoint: str, kind: str) -> Response:
    if kind == "timeout":
        # Nobody holds the lock while sleeping: other requests keep flowing.
        time.sleep(state.timeout_seconds)
        return Response(GATEWAY_TIMEOUT_HTML, 504, mimetype="text/html")
    if kind == "not_json":
        return Response(NOT_JSON_HTML, 200, mimetype="text/html")
    if kind == "429":
        return retry_later()
    if kind == "invalid_grant":
        response = jsonify(
            error="invalid_grant",
            error_description="The provided authorization grant is invalid, "
            "expired or revoked (a planned sandbox fault).",
        )
        response.status_code = 400
        response.headers.update(NO_STORE)
        return response
    if kind == "401_invalid":
        # Kit's answer to a token it does not (or no longer) recognise.
        response = jsonify(errors=["The access token is invalid"])
        response.status_code = 401
        return response
    if kind == "500":
        if endpoint == "api":
            response = jsonify(errors=["Internal server error"])
        else:
            response = jsonify(
                error="server_error",
                error_description="The server hit an unexpected condition "
                "(a planned sandbox fault).",
            )
        response.status_code = 500
        return response
    raise ValueError(f"unknown fault kind {kind!r}")
