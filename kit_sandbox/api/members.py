"""``/v4/forms/<id>/subscribers``, ``/v4/sequences/<id>/subscribers`` and
``/v4/broadcasts/<id>/clicks`` (read-only).

A form's and a sequence's subscribers come newest subscriber first with
``added_at``, filtered by ``status`` like ``/v4/subscribers`` (default
active). A broadcast's clicks are one item per link of its content, in the
order they appear, as Kit's documented example has them: ``url``,
``unique_clicks`` and two rates as fractions (0.006, not 0.6 %); the list is
under ``broadcast.clicks`` and its cursors page it.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify, request

from ..audience import AccountData
from ..records import BroadcastRecord, SubscriberRecord
from .blueprint import bp, current_data, list_response, require_token
from .pagination import PageParams, paginate
from .params import MSG_NOT_FOUND, ApiError
from .subscribers import status_filter

LINK = re.compile(r"""<a\b[^>]*\bhref\s*=\s*["'](https?://[^"']+)["']""", re.I)


def _added(found: dict[int, dict[int, Any]] | None) -> dict[int, Any]:
    if found is None:
        raise ApiError(404, MSG_NOT_FOUND)
    return found


def _member_to_api(pair: tuple[SubscriberRecord, Any]) -> dict[str, Any]:
    return pair[0].to_api(added_at=pair[1])


def _form_members(data: AccountData, form_id: int) -> dict[int, Any] | None:
    if not any(form.id == form_id for form in data.forms):
        return None
    return data.form_subscribers.get(form_id, {})


def _sequence_members(data: AccountData, sequence_id: int) -> dict[int, Any] | None:
    if not any(sequence.id == sequence_id for sequence in data.sequences):
        return None
    return data.sequence_subscribers.get(sequence_id, {})


@bp.get("/forms/<int:form_id>/subscribers")
@require_token
def form_subscribers(form_id: int) -> Response:
    status = status_filter()
    return list_response(
        "subscribers",
        lambda data: data.members(_added(_form_members(data, form_id)), status),
        _member_to_api,
        key=lambda pair: pair[0].id,
        newest_first=True,
    )


@bp.get("/sequences/<int:sequence_id>/subscribers")
@require_token
def sequence_subscribers(sequence_id: int) -> Response:
    status = status_filter()
    return list_response(
        "subscribers",
        lambda data: data.members(_added(_sequence_members(data, sequence_id)), status),
        _member_to_api,
        key=lambda pair: pair[0].id,
        newest_first=True,
    )


def link_clicks(broadcast: BroadcastRecord) -> list[dict[str, Any]]:
    """Each distinct link of the content with its share of the broadcast's
    clicking recipients: the first link the most (weights 1, 1/2, 1/3...)."""
    urls = list(dict.fromkeys(LINK.findall(broadcast.content)))
    stats = broadcast.stats
    delivered = round(stats.recipients * stats.progress / 100)
    weights = [1 / (n + 1) for n in range(len(urls))]
    items = []
    for url, weight in zip(urls, weights, strict=True):
        unique = round(stats.emails_clicked * weight / sum(weights))
        items.append(
            {
                "url": url,
                "unique_clicks": unique,
                "click_to_delivery_rate": round(unique / delivered, 4)
                if delivered
                else 0.0,
                "click_to_open_rate": round(unique / stats.emails_opened, 4)
                if stats.emails_opened
                else 0.0,
            }
        )
    return items


@bp.get("/broadcasts/<int:broadcast_id>/clicks")
@require_token
def broadcast_clicks(broadcast_id: int) -> Response:
    with current_data() as data:
        broadcast = data.broadcasts.get(broadcast_id)
        if broadcast is None:
            raise ApiError(404, MSG_NOT_FOUND)
        clicks = list(enumerate(link_clicks(broadcast), start=1))
    page = paginate(
        clicks,
        PageParams.from_args(request.args),
        key=lambda pair: pair[0],
        newest_first=False,
    )
    body = page.to_api("clicks", lambda pair: pair[1])
    body["broadcast"] = {"id": broadcast_id, "clicks": body.pop("clicks")}
    return jsonify(body)
