"""The writes the dashboard pages make at Kit: each POSTs (or DELETEs), then
drops the connection's cached answers, which Kit's change made stale. Called
from a view through `render.write`, which shows Kit's 422 on the field.
"""

from __future__ import annotations

from typing import Any

from app.kit.resources import Tag
from app.kit_cache import client_for, invalidate
from app.kit_capacity import take_slot


def _post(connection_id: int, path: str, body: dict[str, Any]) -> Any:
    """POST to Kit; once Kit has it, every cached answer of the connection is stale."""
    take_slot()
    answer = client_for(connection_id).post(path, body)
    invalidate(connection_id)
    return answer


def add_subscriber(
    connection_id: int, email_address: str, first_name: str | None
) -> str:
    """The address as Kit stored it (in lower case), to confirm with."""
    answer = _post(
        connection_id,
        "subscribers",
        {"email_address": email_address, "first_name": first_name},
    )
    return _stored_address(answer, email_address)


def _stored_address(answer: Any, typed: str) -> str:
    subscriber = answer.get("subscriber") if isinstance(answer, dict) else None
    stored = subscriber.get("email_address") if isinstance(subscriber, dict) else None
    return stored if isinstance(stored, str) and stored else typed


def create_tag(connection_id: int, name: str) -> tuple[Tag, bool]:
    """The tag of that name, and whether Kit created it (201) rather than
    answering with the one it had (200)."""
    take_slot()
    body, created = client_for(connection_id).post_created("tags", {"name": name})
    invalidate(connection_id)
    return Tag.created(body), created


def tag_subscriber(connection_id: int, tag_id: int, email_address: str) -> str:
    """The address as Kit stored it, to confirm with."""
    answer = _post(
        connection_id,
        f"tags/{tag_id}/subscribers",
        {"email_address": email_address},
    )
    return _stored_address(answer, email_address)


def tag_subscriber_by_id(connection_id: int, tag_id: int, subscriber_id: int) -> None:
    _post(connection_id, f"tags/{tag_id}/subscribers/{subscriber_id}", {})


def untag_subscriber(connection_id: int, tag_id: int, subscriber_id: int) -> None:
    """Remove the tag (Kit answers 204, also when the tag was not there)."""
    take_slot()
    client_for(connection_id).delete(f"tags/{tag_id}/subscribers/{subscriber_id}")
    invalidate(connection_id)
