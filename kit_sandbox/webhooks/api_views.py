"""``/v4/webhook_endpoints``: Webhooks 2.0's endpoints resource (KIT_PLATFORM.md §5a).

Registered on the API blueprint, so it shares its bearer tokens, latency,
faults, rate limit, request log and error shapes. An endpoint belongs to the
OAuth client that made it, for the token's account: anyone else gets a 404.
For an account where webhooks are not enabled (``/_sandbox/webhooks/enabled``)
every route here answers 404 ``{"errors": ["Not Found"]}``, as Kit may.

The signing ``secret`` is in two answers only: the one that creates the
endpoint and the one that rotates its secret.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Response, g, jsonify, request

from ..api.blueprint import (
    api_error,
    bp,
    current_account,
    json_body,
    list_response,
    require_token,
)
from ..api.params import MSG_NOT_FOUND, ApiError, parse_choice
from ..state import current_state
from .events import EVENT_TYPES, is_planned
from .hub import WebhookHub
from .records import DELIVERY_STATUSES, ENDPOINT_STATUSES, EndpointRecord

P = ParamSpec("P")
R = TypeVar("R")

MAX_URL_LENGTH = 2048
MAX_TEXT_LENGTH = 255
MSG_ROTATION_OPEN = (
    "A secret rotation is already in progress: revoke the previous secret "
    "or rotate with force"
)


def _hub() -> WebhookHub:
    return current_state().webhooks


def webhooks_enabled(view: Callable[P, R]) -> Callable[P, R | Response]:
    """404 for every route when webhooks are not enabled for the account
    (after the token check: a bad token is still a 401)."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        if not _hub().is_enabled(current_account().id):
            return api_error(404, MSG_NOT_FOUND)
        return view(*args, **kwargs)

    return wrapper


def _owned(endpoint_id: int) -> EndpointRecord:
    endpoint = _hub().find_endpoint(
        g.kit_token.client_id, current_account().id, endpoint_id
    )
    if endpoint is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return endpoint


# -- validation ------------------------------------------------------------------


def _url(value: Any) -> tuple[str | None, str | None]:
    """(url, problem). http(s) with a host; loopback accepted (a local
    stand-in may: Kit refuses private and internal URLs)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "Url can't be blank"
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH:
        return None, "Url is invalid"
    url = value.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return None, "Url is invalid"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "Url is invalid"
    if any(char.isspace() for char in url):
        return None, "Url is invalid"
    return url, None


def _events(value: Any) -> tuple[list[str], list[str]]:
    """(event types, problems): a non-empty list of known, shipped types."""
    if value is None or value == []:
        return [], ["Events can't be blank"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return [], ["Events is invalid"]
    problems = []
    for name in value:
        if name in EVENT_TYPES:
            continue
        if is_planned(name):
            problems.append(f"Event {name} is not available yet")
        else:
            problems.append(f"Event {name} is not a valid event type")
    return list(dict.fromkeys(value)), problems


def _text(
    body: Mapping[str, Any], key: str, label: str
) -> tuple[str | None, str | None]:
    value = body.get(key)
    if value is None:
        return None, None
    if not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH:
        return None, f"{label} is invalid"
    return value.strip() or None, None


def _validate(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The fields to set, or a 422 listing every problem. ``partial`` (PATCH)
    checks only the fields sent."""
    changes: dict[str, Any] = {}
    problems: list[str] = []
    if not partial or "url" in body:
        changes["url"], problem = _url(body.get("url"))
        problems += [problem] if problem else []
    if not partial or "events" in body:
        changes["events"], event_problems = _events(body.get("events"))
        problems += event_problems
    for key, label in (("name", "Name"), ("description", "Description")):
        if not partial or key in body:
            changes[key], problem = _text(body, key, label)
            problems += [problem] if problem else []
    if partial and "status" in body:
        if body["status"] not in ENDPOINT_STATUSES:
            problems.append("Status is not included in the list")
        changes["status"] = body["status"]
    if problems:
        raise _Invalid(problems)
    return changes


class _Invalid(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems)
        self.problems = problems


@bp.errorhandler(_Invalid)
def _invalid(error: _Invalid) -> Response:
    return api_error(422, *error.problems)


def _endpoint_answer(
    endpoint: EndpointRecord, *, with_secret: bool = False
) -> Response:
    response = jsonify(webhook_endpoint=endpoint.to_api(with_secret=with_secret))
    # The answers that carry a secret must not be kept by any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the routes --------------------------------------------------------------------


@bp.post("/webhook_endpoints")
@require_token
@webhooks_enabled
def create_endpoint() -> tuple[Response, int]:
    """201 with the endpoint and its signing ``secret`` (shown this once)."""
    fields = _validate(json_body(), partial=False)
    endpoint = _hub().create_endpoint(
        client_id=g.kit_token.client_id, account_id=current_account().id, **fields
    )
    return _endpoint_answer(endpoint, with_secret=True), 201


@bp.get("/webhook_endpoints")
@require_token
@webhooks_enabled
def list_endpoints() -> Response:
    """Oldest first; ``status``: active, disabled (or absent for both)."""
    status = request.args.get("status")
    if status is not None:
        parse_choice(status, ENDPOINT_STATUSES, "active")
    owned = _hub().owned_endpoints(g.kit_token.client_id, current_account().id)
    return list_response(
        "webhook_endpoints",
        lambda _data: [e for e in owned if status is None or e.status == status],
        EndpointRecord.to_api,
    )


@bp.get("/webhook_endpoints/<int:endpoint_id>")
@require_token
@webhooks_enabled
def get_endpoint(endpoint_id: int) -> Response:
    return _endpoint_answer(_owned(endpoint_id))


@bp.patch("/webhook_endpoints/<int:endpoint_id>")
@require_token
@webhooks_enabled
def update_endpoint(endpoint_id: int) -> Response:
    """Any of name, url, description, status, events (``events`` replaces
    the list; ``status: "disabled"`` pauses deliveries)."""
    endpoint = _owned(endpoint_id)
    changes = _validate(json_body(), partial=True)
    hub = _hub()
    with hub.lock:
        for key, value in changes.items():
            if key != "status":
                setattr(endpoint, key, value)
        if "status" in changes:
            hub.set_status(endpoint, changes["status"])
    return _endpoint_answer(endpoint)


@bp.delete("/webhook_endpoints/<int:endpoint_id>")
@require_token
@webhooks_enabled
def delete_endpoint(endpoint_id: int) -> tuple[str, int]:
    _hub().delete_endpoint(_owned(endpoint_id))
    return "", 204


@bp.post("/webhook_endpoints/<int:endpoint_id>/rotate_secret")
@require_token
@webhooks_enabled
def rotate_secret(endpoint_id: int) -> Response:
    """A new ``secret``; the old one signs too until
    ``previous_secret_expires_at``. 409 while a window is open, unless
    ``{"force": true}``. The body is optional."""
    endpoint = _owned(endpoint_id)
    body = request.get_json(force=True, silent=True)
    body = body if isinstance(body, dict) else {}
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ApiError(422, "Force is invalid")
    if not _hub().rotate_secret(endpoint, force=force):
        raise ApiError(409, MSG_ROTATION_OPEN)
    return _endpoint_answer(endpoint, with_secret=True)


@bp.post("/webhook_endpoints/<int:endpoint_id>/revoke_previous_secret")
@require_token
@webhooks_enabled
def revoke_previous_secret(endpoint_id: int) -> Response:
    """End the rotation window now (a no-op when none is open)."""
    endpoint = _owned(endpoint_id)
    _hub().revoke_previous_secret(endpoint)
    return _endpoint_answer(endpoint)


@bp.get("/webhook_endpoints/<int:endpoint_id>/deliveries")
@require_token
@webhooks_enabled
def deliveries(endpoint_id: int) -> Response:
    """Newest first, with every attempt; ``status`` (pending, succeeded,
    failed) and ``event_type`` filter. Payloads: one delivery at a time."""
    endpoint = _owned(endpoint_id)
    args = request.args
    status = args.get("status")
    if status is not None:
        parse_choice(status, DELIVERY_STATUSES, "pending")
    event_type = args.get("event_type")
    if event_type is not None and event_type not in EVENT_TYPES:
        raise ApiError(422, "Event type is not included in the list")
    found = [
        delivery
        for delivery in _hub().deliveries_of(endpoint)
        if (status is None or delivery.status == status)
        and (event_type is None or delivery.event_type == event_type)
    ]
    return list_response(
        "deliveries",
        lambda _data: found,
        lambda delivery: delivery.to_api(),
        newest_first=True,
    )


@bp.get("/webhook_endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>")
@require_token
@webhooks_enabled
def delivery(endpoint_id: int, delivery_id: int) -> Response:
    """One delivery; ``include_payload=true`` adds what was POSTed."""
    endpoint = _owned(endpoint_id)
    hub = _hub()
    with hub.lock:
        found = hub.deliveries.get(delivery_id)
        if found is None or found.endpoint_id != endpoint.id:
            raise ApiError(404, MSG_NOT_FOUND)
        include = request.args.get("include_payload", "").lower() == "true"
        body = found.to_api(include_payload=include)
    return jsonify(delivery=body)
