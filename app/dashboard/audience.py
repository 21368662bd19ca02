"""The subscribers pages: the list, search, one subscriber, its tags (the
tags pages are `tags`). Registered on the dashboard blueprint like `views`.

Ids in paths go through the `id` converter (a number the database could
hold, else 404 before any call); an id Kit does not know in this account is
a 404 page in words. Kit failing gives the page's banner (`kit_page`).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.auth.access import own_connection
from app.dashboard import bp, data, query, search, writes
from app.dashboard.forms import (
    AddSubscriberForm,
    AddTagForm,
    RemoveTagForm,
)
from app.dashboard.render import kit_page, missing, write, write_failure
from app.kit.errors import KitError, KitNotFound
from app.models import KitConnection

STATUSES = ("active", "inactive", "bounced", "complained", "cancelled", "all")


# --- subscribers --------------------------------------------------------------


@bp.route("/c/<id:connection_id>/subscribers", methods=["GET", "POST"])
@login_required
def subscribers(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    form = AddSubscriberForm()
    code = 200
    if form.validate_on_submit():
        stored, code = write(
            form.email_address,
            lambda: writes.add_subscriber(
                connection.id, form.email_address.data, form.first_name.data
            ),
        )
        if code == 200:
            flash(f"Saved {stored} as a subscriber.", "success")
            return redirect(
                url_for("dashboard.subscribers", connection_id=connection.id)
            )
    elif form.is_submitted():
        code = 400
    raw_words = (request.args.get("q") or request.args.get("email") or "").strip()
    chosen = request.args.get("status", "")
    status = chosen if chosen in STATUSES else ("all" if raw_words else "active")
    number, cursor = query.page_number(), query.cursor()

    def load() -> dict[str, Any]:
        words = query.search_words()
        if words:
            return {
                "search": search.search_subscribers(connection.id, words, status),
                "page": None,
            }
        return {"search": None, "page": data.subscribers(connection.id, cursor, status)}

    safe_words = raw_words[:254] if raw_words.isprintable() else ""
    page, status_code = kit_page(
        connection,
        "dashboard/subscribers.html",
        load,
        form=form,
        status_filter=status,
        status_chosen=chosen in STATUSES,
        statuses=STATUSES,
        words=safe_words,
        number=number,
        per_page=data.PER_PAGE,
        pager_args=query.pager_args(connection, status=status),
    )
    return page, max(code, status_code)


@bp.get("/c/<id:connection_id>/subscribers/<id:subscriber_id>")
@login_required
def subscriber(connection_id: int, subscriber_id: int) -> tuple[str, int]:
    return _subscriber_page(own_connection(connection_id), subscriber_id)


def _subscriber_page(
    connection: KitConnection,
    subscriber_id: int,
    code: int = 200,
    add: AddTagForm | None = None,
) -> tuple[str, int]:
    add = add or AddTagForm(prefix="add")

    def load() -> dict[str, Any]:
        try:
            found = data.subscriber(connection.id, subscriber_id)
        except KitNotFound:
            missing(
                f"No subscriber #{subscriber_id} in this Kit account",
                "All subscribers",
                url_for("dashboard.subscribers", connection_id=connection.id),
            )
        add.offer(found.other_tags or [])
        return {"found": found}

    page, status = kit_page(
        connection,
        "dashboard/subscriber.html",
        load,
        add_form=add,
        remove_form=RemoveTagForm(),
        subscriber_id=subscriber_id,
        list_args=_list_args(),
    )
    return page, max(code, status)


def _list_args() -> dict[str, str]:
    """The list's search, which its links carry to a subscriber's page, so
    that "← All subscribers" goes back to the same results."""
    words = (request.args.get("q") or "").strip()
    status = request.args.get("status", "")
    args = {"q": words[:254]} if words and words.isprintable() else {}
    return args | ({"status": status} if status in STATUSES else {})


@bp.post("/c/<id:connection_id>/subscribers/<id:subscriber_id>/tags")
@login_required
def add_subscriber_tag(connection_id: int, subscriber_id: int) -> Any:
    connection = own_connection(connection_id)
    form = AddTagForm(prefix="add")
    try:
        form.offer(data.tags(connection.id))
    except KitError as exc:
        flash(write_failure(exc), "error")
        return _subscriber_page(connection, subscriber_id, 503, add=form)
    if not form.validate_on_submit():
        return _subscriber_page(connection, subscriber_id, 400, add=form)
    _, code = write(
        form.tag_id,
        lambda: writes.tag_subscriber_by_id(
            connection.id, form.tag_id.data, subscriber_id
        ),
    )
    if code != 200:
        return _subscriber_page(connection, subscriber_id, code, add=form)
    name = dict(form.tag_id.choices).get(form.tag_id.data, "the tag")
    flash(f"Added tag “{name}”.", "success")
    return redirect(
        url_for(
            "dashboard.subscriber",
            connection_id=connection.id,
            subscriber_id=subscriber_id,
        )
    )


@bp.post("/c/<id:connection_id>/subscribers/<id:subscriber_id>/tags/<id:tag_id>/remove")
@login_required
def remove_subscriber_tag(connection_id: int, subscriber_id: int, tag_id: int) -> Any:
    connection = own_connection(connection_id)
    back = url_for(
        "dashboard.subscriber", connection_id=connection.id, subscriber_id=subscriber_id
    )
    if not RemoveTagForm().validate_on_submit():
        return _subscriber_page(connection, subscriber_id, 400)
    try:
        found = data.subscriber(connection.id, subscriber_id)
        had = next((t for t in found.tags or [] if t.id == tag_id), None)
        other = next((t for t in found.other_tags or [] if t.id == tag_id), None)
        # A tab opened before the tag went (here or in Kit) still offers it:
        # Kit's answer says it is done already, so say that, by its name.
        gone = found.tags is not None and had is None
        if gone and other is None and found.other_tags is not None:
            raise KitNotFound(404, [f"No tag {tag_id}"])
        if not gone:
            writes.untag_subscriber(connection.id, tag_id, subscriber_id)
    except KitNotFound:
        missing(
            f"No subscriber #{subscriber_id} or tag #{tag_id} in this Kit account",
            "All subscribers",
            url_for("dashboard.subscribers", connection_id=connection.id),
        )
    except KitError as exc:
        flash(write_failure(exc), "error")
        return redirect(back)
    email = found.subscriber.email_address
    tag = had or other
    name = tag.name if tag is not None else f"#{tag_id}"
    if gone:
        flash(f"Tag “{name}” was already removed from {email}.", "info")
    else:
        flash(f"Removed tag “{name}” from {email}.", "success")
    return redirect(back)
