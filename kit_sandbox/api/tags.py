"""``/v4/tags`` and ``/v4/tags/<tag_id>/subscribers``.

Tag names match case-insensitively; tagging a subscriber is by email, like
``POST /v4/subscribers`` (JSON bodies only).
"""

from __future__ import annotations

from flask import Response, jsonify

from ..audience import AccountData
from ..records import TagRecord
from ..state import current_state
from .blueprint import bp, current_data, json_body, list_response, now, require_token
from .params import MSG_NOT_FOUND, ApiError, email_address
from .subscribers import status_filter


@bp.get("/tags")
@require_token
def tags() -> Response:
    return list_response("tags", lambda data: data.tags.values(), TagRecord.to_api)


@bp.post("/tags")
@require_token
def create_tag() -> tuple[Response, int]:
    """201 for a new tag (it emits ``tag.created``), 200 with the existing one
    for a known name (any case)."""
    name = json_body().get("name")
    if name is not None and not isinstance(name, str):
        raise ApiError(422, "Name is invalid")
    if not name or not name.strip():
        raise ApiError(422, "Name can't be blank")
    when = now()
    with current_data() as data:
        tag, created = data.find_or_create_tag(name.strip(), when)
        rendered = tag.to_api()
        if created:
            current_state().webhooks.emit(
                data.account_id, "tag.created", {"tag": rendered}, when
            )
    return jsonify(tag=rendered), 201 if created else 200


def _tag(data: AccountData, tag_id: int) -> TagRecord:
    tag = data.tags.get(tag_id)
    if tag is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return tag


@bp.get("/tags/<int:tag_id>/subscribers")
@require_token
def tag_subscribers(tag_id: int) -> Response:
    """The tag's subscribers, newest subscriber first, with ``tagged_at``;
    ``status`` filters as for ``/v4/subscribers`` (default active)."""
    status = status_filter()
    return list_response(
        "subscribers",
        lambda data: data.tagged_subscribers(_tag(data, tag_id), status),
        lambda pair: pair[0].to_api(tagged_at=pair[1]),
        key=lambda pair: pair[0].id,
        newest_first=True,
    )


@bp.post("/tags/<int:tag_id>/subscribers")
@require_token
def tag_subscriber(tag_id: int) -> tuple[Response, int]:
    """Tag a subscriber by email: 201 newly tagged (it emits
    ``subscriber.tag_added``), 200 already tagged.

    Kit's docs say the subscriber "must already exist" but not what is
    answered when it doesn't; the sandbox answers 422 "Subscriber not found"
    (the request is well-formed, its content is not acceptable), and never
    creates the subscriber. An unknown tag is a 404, checked first.
    """
    with current_data() as data:
        tag = _tag(data, tag_id)
        email = email_address(json_body())
        subscriber = data.subscriber_by_email(email)
        if subscriber is None:
            raise ApiError(422, "Subscriber not found")
        when = now()
        tagged_at, created = data.tag_subscriber(tag, subscriber, when)
        rendered = subscriber.to_api(tagged_at=tagged_at)
        if created:
            current_state().webhooks.emit(
                data.account_id,
                "subscriber.tag_added",
                {"subscriber": subscriber.to_api(), "tag": tag.to_api()},
                when,
            )
    return jsonify(subscriber=rendered), 201 if created else 200
