"""``/v4/subscribers``, ``/v4/tags`` and ``/v4/custom_fields``.

Writes take JSON only (``{"errors": ["Request body must be JSON"]}`` for
anything else, 422). Emails are matched case-insensitively and stored
lower-cased.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, jsonify, request

from .api import bp, current_data, listing, require_token
from .audience import AccountData
from .params import (
    MSG_NOT_FOUND,
    ApiError,
    email_address,
    json_object,
    optional_text,
    parse_choice,
    parse_moment,
)
from .records import SUBSCRIBER_STATES, CustomField, Subscriber, Tag
from .state import current_state

STATUS_CHOICES = (*SUBSCRIBER_STATES, "all")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _json_body() -> dict[str, Any]:
    # force=True: the body decides, not the Content-Type header, so a JSON body
    # sent as text/plain works and a form body gets the JSON error.
    return json_object(request.get_json(force=True, silent=True))


def _status() -> str:
    return parse_choice(request.args.get("status"), STATUS_CHOICES, "active")


@bp.get("/subscribers")
@require_token
def subscribers() -> Response:
    """Newest first (by id, as Kit's default sort), filtered by ``status``
    (default active), ``email_address`` (exact, any case) and
    ``created_after``/``created_before`` (inclusive; a date means its whole
    UTC day). ``sort_field``, ``sort_order`` and ``updated_*`` are ignored."""
    args = request.args
    status = _status()
    created_after = parse_moment(
        args.get("created_after"), "Created after", end_of_day=False
    )
    created_before = parse_moment(
        args.get("created_before"), "Created before", end_of_day=True
    )
    state = current_state()
    with state.lock:
        found = current_data().find_subscribers(
            status,
            email=args.get("email_address") or None,
            created_after=created_after,
            created_before=created_before,
        )
        body = listing("subscribers", found, Subscriber.to_api, newest_first=True)
    return jsonify(body)


@bp.post("/subscribers")
@require_token
def create_subscriber() -> tuple[Response, int]:
    """Upsert by email: 201 when created (state "active"), 200 when it
    existed (its first name updated if one is sent)."""
    body = _json_body()
    email = email_address(body)
    first_name = optional_text(body, "first_name", "First name")
    state = current_state()
    with state.lock:
        subscriber, created = current_data().upsert_subscriber(
            email, first_name, _now()
        )
        rendered = subscriber.to_api()
    return jsonify(subscriber=rendered), 201 if created else 200


@bp.get("/tags")
@require_token
def tags() -> Response:
    state = current_state()
    with state.lock:
        body = listing("tags", list(current_data().tags.values()), Tag.to_api)
    return jsonify(body)


@bp.post("/tags")
@require_token
def create_tag() -> tuple[Response, int]:
    """201 for a new tag, 200 with the existing one for a known name (any case)."""
    name = _json_body().get("name")
    if name is not None and not isinstance(name, str):
        raise ApiError(422, "Name is invalid")
    if not name or not name.strip():
        raise ApiError(422, "Name can't be blank")
    state = current_state()
    with state.lock:
        tag, created = current_data().find_or_create_tag(name.strip(), _now())
        rendered = tag.to_api()
    return jsonify(tag=rendered), 201 if created else 200


def _tag(data: AccountData, tag_id: int) -> Tag:
    tag = data.tags.get(tag_id)
    if tag is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return tag


@bp.get("/tags/<int:tag_id>/subscribers")
@require_token
def tag_subscribers(tag_id: int) -> Response:
    """The tag's subscribers, newest subscriber first, with ``tagged_at``;
    ``status`` filters as for ``/v4/subscribers`` (default active)."""
    status = _status()
    state = current_state()
    with state.lock:
        data = current_data()
        tagged = data.tagged_subscribers(_tag(data, tag_id), status)
        body = listing(
            "subscribers",
            tagged,
            lambda pair: pair[0].to_api(tagged_at=pair[1]),
            key=lambda pair: pair[0].id,
            newest_first=True,
        )
    return jsonify(body)


@bp.post("/tags/<int:tag_id>/subscribers")
@require_token
def tag_subscriber(tag_id: int) -> tuple[Response, int]:
    """Tag a subscriber by email: 201 newly tagged, 200 already tagged.

    Kit's docs say the subscriber "must already exist" but not what is
    answered when it doesn't; the sandbox answers 422 "Subscriber not found"
    (the request is well-formed, its content is not acceptable), and never
    creates the subscriber. An unknown tag is a 404, checked first.
    """
    state = current_state()
    with state.lock:
        data = current_data()
        tag = _tag(data, tag_id)
        email = email_address(_json_body())
        subscriber = data.subscriber_by_email(email)
        if subscriber is None:
            raise ApiError(422, "Subscriber not found")
        tagged_at, created = data.tag_subscriber(tag, subscriber, _now())
        rendered = subscriber.to_api(tagged_at=tagged_at)
    return jsonify(subscriber=rendered), 201 if created else 200


@bp.get("/custom_fields")
@require_token
def custom_fields() -> Response:
    state = current_state()
    with state.lock:
        body = listing(
            "custom_fields", list(current_data().custom_fields), CustomField.to_api
        )
    return jsonify(body)
