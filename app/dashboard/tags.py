"""The tags pages: the list with counts, creating a tag, tagging an address,
one tag and its subscribers. Registered on the dashboard blueprint like
`views`; a subscriber's own tags are on its page (`audience`).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.auth.access import own_connection
from app.dashboard import bp, data, query, writes
from app.dashboard.forms import CreateTagForm, TagSubscriberForm
from app.dashboard.render import kit_page, missing, write, write_failure
from app.kit.errors import KitError, KitNotFound
from app.models import KitConnection

TAGS_PER_PAGE = 50


def _tags_page(
    connection: KitConnection,
    code: int = 200,
    create: CreateTagForm | None = None,
    tag: TagSubscriberForm | None = None,
) -> tuple[str, int]:
    """The tags page, with a form that did not go through (and its status)."""
    create = create or CreateTagForm(prefix="create")
    tag = tag or TagSubscriberForm(prefix="tag")
    number = query.page_number()

    def load() -> dict[str, Any]:
        tags = data.tags(connection.id)
        tag.offer(tags)
        pages = max(1, -(-len(tags) // TAGS_PER_PAGE))
        shown = tags[(min(number, pages) - 1) * TAGS_PER_PAGE :][:TAGS_PER_PAGE]
        return {
            "tags": tags,
            "shown": shown,
            "counts": data.tag_counts(connection.id, shown),
            "number": min(number, pages),
            "pages": pages,
        }

    page, status = kit_page(
        connection, "dashboard/tags.html", load, create_form=create, tag_form=tag
    )
    return page, max(code, status)


@bp.get("/c/<id:connection_id>/tags")
@login_required
def tags(connection_id: int) -> tuple[str, int]:
    return _tags_page(own_connection(connection_id))


@bp.post("/c/<id:connection_id>/tags")
@login_required
def create_tag(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    form = CreateTagForm(prefix="create")
    if not form.validate_on_submit():
        return _tags_page(connection, 400, create=form)
    made, code = write(
        form.name, lambda: writes.create_tag(connection.id, form.name.data or "")
    )
    if made is None:
        return _tags_page(connection, code, create=form)
    tag, created = made
    name = tag.name or form.name.data
    if created:
        flash(f"Created tag “{name}”.", "success")
    else:
        flash(f"Tag “{name}” already exists.", "info")
    return redirect(url_for("dashboard.tags", connection_id=connection.id))


@bp.post("/c/<id:connection_id>/tags/subscribers")
@login_required
def tag_subscriber(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    form = TagSubscriberForm(prefix="tag")
    # The choices come from Kit: load them before validating the choice.
    try:
        form.offer(data.tags(connection.id))
    except KitError as exc:
        flash(write_failure(exc), "error")
        return _tags_page(connection, 503, tag=form)
    if not form.validate_on_submit():
        return _tags_page(connection, 400, tag=form)
    stored, code = write(
        form.email_address,
        lambda: writes.tag_subscriber(
            connection.id, form.tag_id.data, form.email_address.data
        ),
    )
    if code != 200:
        return _tags_page(connection, code, tag=form)
    name = dict(form.tag_id.choices).get(form.tag_id.data, "the tag")
    flash(f"Tagged {stored} with “{name}”.", "success")
    return redirect(url_for("dashboard.tags", connection_id=connection.id))


@bp.get("/c/<id:connection_id>/tags/<id:tag_id>")
@login_required
def tag(connection_id: int, tag_id: int) -> tuple[str, int]:
    connection = own_connection(connection_id)
    cursor = query.cursor()

    def load() -> dict[str, Any]:
        try:
            found = data.tag(connection.id, tag_id, cursor)
        except KitNotFound:
            missing(
                f"No tag #{tag_id} in this Kit account",
                "All tags",
                url_for("dashboard.tags", connection_id=connection.id),
            )
        return {"tag": found.tag, "page": found.page}

    return kit_page(
        connection,
        "dashboard/tag.html",
        load,
        number=query.page_number(),
        per_page=data.PER_PAGE,
        pager_args=query.pager_args(connection, tag_id=str(tag_id)),
    )
