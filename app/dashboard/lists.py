"""A form's and a sequence's page, listing its subscribers (Kit's cursors,
like the subscribers page). The lists of forms and sequences, with their
counts, are in `views`. Registered on the dashboard blueprint like `views`."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import login_required

from app.auth.access import own_connection
from app.dashboard import bp, data, memberships, query
from app.dashboard.memberships import Kind
from app.dashboard.render import kit_page, missing
from app.kit.errors import KitNotFound

SINGULAR = {"forms": "form", "sequences": "sequence"}


def _members_page(connection_id: int, kind: Kind, item_id: int) -> tuple[str, int]:
    connection, cursor = own_connection(connection_id), query.cursor()

    def load() -> dict[str, Any]:
        try:
            found = memberships.members(connection.id, kind, item_id, cursor)
        except KitNotFound:
            missing(
                f"No {SINGULAR[kind]} #{item_id} in this Kit account",
                f"All {kind}",
                url_for(f"dashboard.{kind}", connection_id=connection.id),
            )
        return {"item": found.item, "page": found.page}

    return kit_page(
        connection,
        "dashboard/members.html",
        load,
        kind=kind,
        singular=SINGULAR[kind],
        number=query.page_number(),
        per_page=data.PER_PAGE,
        pager_args=query.pager_args(connection, item_id=str(item_id)),
    )


@bp.get("/c/<id:connection_id>/forms/<id:item_id>")
@login_required
def form(connection_id: int, item_id: int) -> tuple[str, int]:
    return _members_page(connection_id, "forms", item_id)


@bp.get("/c/<id:connection_id>/sequences/<id:item_id>")
@login_required
def sequence(connection_id: int, item_id: int) -> tuple[str, int]:
    return _members_page(connection_id, "sequences", item_id)
