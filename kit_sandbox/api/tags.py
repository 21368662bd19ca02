"""``/v4/tags``, ``/v4/tags/<tag_id>/subscribers[/<id>]`` and
``/v4/subscribers/<id>/tags``.

Tag names match case-insensitively; tagging a subscriber is by email, like
``POST /v4/subscribers`` (JSON bodies only), or by id in the path (no body).
Every change emits its Webhooks 2.0 event (``subscriber.tag_added``,
``subscriber.tag_removed``); a write that changes nothing emits nothing.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, jsonify

from ..audience import AccountData
from ..records import SubscriberRecord, TagRecord, iso
from ..state import current_state
from .blueprint import bp, current_data, json_body, list_response, now, require_token
from .params import MSG_NOT_FOUND, ApiError, email_address
from .subscribers import find_subscriber, status_filter

MSG_SUBSCRIBER_NOT_FOUND = "Subscriber not found"


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
        subscriber = _subscriber_by_email(data)
        return _tag_one(data, tag, subscriber)


@bp.post("/tags/<int:tag_id>/subscribers/<int:subscriber_id>")
@require_token
def tag_subscriber_by_id(tag_id: int, subscriber_id: int) -> tuple[Response, int]:
    """Tag a subscriber by id (no body): 201 newly tagged, 200 already; 404
    for a tag or subscriber this account doesn't have."""
    with current_data() as data:
        tag = _tag(data, tag_id)
        subscriber = find_subscriber(data, subscriber_id)
        return _tag_one(data, tag, subscriber)


@bp.delete("/tags/<int:tag_id>/subscribers/<int:subscriber_id>")
@require_token
def untag_subscriber_by_id(tag_id: int, subscriber_id: int) -> tuple[str, int]:
    """Remove a tag from a subscriber: 204, emitting ``subscriber.tag_removed``.

    Kit does not document untagging a subscriber who hasn't the tag; the
    sandbox chooses 204 there too (idempotent, and no event), so a retried
    request is harmless. An unknown tag or subscriber is a 404.
    """
    with current_data() as data:
        tag = _tag(data, tag_id)
        subscriber = find_subscriber(data, subscriber_id)
        _untag_one(data, tag, subscriber)
    return "", 204


@bp.delete("/tags/<int:tag_id>/subscribers")
@require_token
def untag_subscriber(tag_id: int) -> tuple[str, int]:
    """Remove a tag by email (JSON ``{"email_address"}``): 204 (also when the
    subscriber hadn't the tag), 404 unknown tag, 422 "Subscriber not found"."""
    with current_data() as data:
        tag = _tag(data, tag_id)
        subscriber = _subscriber_by_email(data)
        _untag_one(data, tag, subscriber)
    return "", 204


@bp.get("/subscribers/<int:subscriber_id>/tags")
@require_token
def subscriber_tags(subscriber_id: int) -> Response:
    """The subscriber's tags with ``tagged_at``, newest tagging first; 404 for
    a subscriber this account doesn't have.

    The cursors name a tagging by its time and its tag id (one integer), so
    they keep the list's order like every other cursor here."""
    return list_response(
        "tags",
        lambda data: data.subscriber_tags(find_subscriber(data, subscriber_id)),
        _tagging_to_api,
        key=_tagging_position,
        newest_first=True,
    )


def _tagging_to_api(pair: tuple[TagRecord, datetime]) -> dict[str, object]:
    tag, tagged_at = pair
    return {"id": tag.id, "name": tag.name, "tagged_at": iso(tagged_at)}


def _tagging_position(pair: tuple[TagRecord, datetime]) -> int:
    # Seconds, then the tag id in the low 7 digits (tag ids start at 5,001):
    # one integer that orders taggings by time, ties by tag, as cursors need.
    tag, tagged_at = pair
    return int(tagged_at.timestamp()) * 10_000_000 + tag.id


def _subscriber_by_email(data: AccountData) -> SubscriberRecord:
    """The subscriber named by the JSON body's ``email_address``; 422 if the
    account has none (or the address is invalid)."""
    email = email_address(json_body())
    subscriber = data.subscriber_by_email(email)
    if subscriber is None:
        raise ApiError(422, MSG_SUBSCRIBER_NOT_FOUND)
    return subscriber


def _tag_one(
    data: AccountData, tag: TagRecord, subscriber: SubscriberRecord
) -> tuple[Response, int]:
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


def _untag_one(data: AccountData, tag: TagRecord, subscriber: SubscriberRecord) -> None:
    if data.untag_subscriber(tag, subscriber):
        current_state().webhooks.emit(
            data.account_id,
            "subscriber.tag_removed",
            {"subscriber": subscriber.to_api(), "tag": tag.to_api()},
            now(),
        )
