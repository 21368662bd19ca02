"""``/v4/subscribers`` and ``/v4/custom_fields``.

Writes take JSON only (``{"errors": ["Request body must be JSON"]}`` for
anything else, 422). Emails are matched case-insensitively and stored
lower-cased.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from ..audience import AccountData
from ..records import SUBSCRIBER_STATES, CustomFieldRecord, SubscriberRecord
from ..state import current_state
from .blueprint import bp, current_data, json_body, list_response, now, require_token
from .params import (
    MSG_NOT_FOUND,
    ApiError,
    email_address,
    optional_text,
    parse_choice,
    parse_moment,
)

STATUS_CHOICES = (*SUBSCRIBER_STATES, "all")


def status_filter() -> str:
    """The ``status`` parameter of a subscriber list (default active)."""
    return parse_choice(request.args.get("status"), STATUS_CHOICES, "active")


def find_subscriber(data: AccountData, subscriber_id: int) -> SubscriberRecord:
    """The account's subscriber with that id, in any state; 404 otherwise."""
    subscriber = data.subscribers.get(subscriber_id)
    if subscriber is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return subscriber


@bp.get("/subscribers")
@require_token
def subscribers() -> Response:
    """Newest first (by id, as Kit's default sort), filtered by ``status``
    (default active), ``email_address`` (exact, any case) and
    ``created_after``/``created_before`` (inclusive; a date means its whole
    UTC day). ``sort_field``, ``sort_order`` and ``updated_*`` are ignored."""
    args = request.args
    status = status_filter()
    created_after = parse_moment(
        args.get("created_after"), "Created after", end_of_day=False
    )
    created_before = parse_moment(
        args.get("created_before"), "Created before", end_of_day=True
    )
    return list_response(
        "subscribers",
        lambda data: data.find_subscribers(
            status,
            email=args.get("email_address") or None,
            created_after=created_after,
            created_before=created_before,
        ),
        SubscriberRecord.to_api,
        newest_first=True,
    )


@bp.get("/subscribers/<int:subscriber_id>")
@require_token
def subscriber(subscriber_id: int) -> Response:
    """One subscriber, whatever its state; another account's id is a 404."""
    with current_data() as data:
        rendered = find_subscriber(data, subscriber_id).to_api()
    return jsonify(subscriber=rendered)


@bp.post("/subscribers")
@require_token
def create_subscriber() -> tuple[Response, int]:
    """Upsert by email: 201 when created (state "active"), 200 when it
    existed (its first name updated if one is sent).

    A new subscriber emits ``subscriber.created`` (Webhooks 2.0). An existing
    one emits nothing: its state does not change, and a first name is not a
    custom field (no ``subscriber.custom_field_value_updated``)."""
    body = json_body()
    email = email_address(body)
    first_name = optional_text(body, "first_name", "First name")
    when = now()
    with current_data() as data:
        subscriber, created = data.upsert_subscriber(email, first_name, when)
        rendered = subscriber.to_api()
        if created:
            current_state().webhooks.emit(
                data.account_id, "subscriber.created", {"subscriber": rendered}, when
            )
    return jsonify(subscriber=rendered), 201 if created else 200


@bp.get("/custom_fields")
@require_token
def custom_fields() -> Response:
    return list_response(
        "custom_fields", lambda data: data.custom_fields, CustomFieldRecord.to_api
    )
