"""The audience pages: subscribers (the list, search, one subscriber), tags
(the list with counts, one tag) and broadcasts (the list with their figures,
one broadcast). Registered on the dashboard blueprint like `views`.

Ids in paths go through the `id` converter (a number the database could
hold, else 404 before any call); an id Kit does not know in this account is
a 404 page in words. Kit failing gives the page's banner (`kit_page`).
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from app.auth.access import own_connection
from app.dashboard import bp, data
from app.dashboard.forms import (
    AddSubscriberForm,
    AddTagForm,
    CreateTagForm,
    RemoveTagForm,
    TagSubscriberForm,
)
from app.dashboard.render import kit_page, write, write_failure
from app.dashboard.views import _cursor, _pager_args
from app.errors import problem
from app.kit.errors import KitError, KitNotFound, KitValidationError
from app.models import KitConnection

STATUSES = ("active", "inactive", "bounced", "complained", "cancelled", "all")
MAX_PAGE = 10_000
TAGS_PER_PAGE = 50


def _page_number() -> int:
    """`page` (1 to 10,000) from the query string; anything else is page 1.
    Only for the "1–50 of N" line: the cursor says where the page starts."""
    value = request.args.get("page", "")
    if value.isdigit() and len(value) <= 5 and 1 <= int(value) <= MAX_PAGE:
        return int(value)
    return 1


def _missing(title: str, back: str, href: str) -> NoReturn:
    """A 404 page that says what is missing and offers the way back."""
    body, status = problem(
        404,
        title,
        "It may have been deleted in Kit, or the link is wrong.",
        [(back, href)],
    )
    abort(make_response(body, status))


def _search_words() -> str | None:
    """`q` (or the older `email`): printable, at most 254 characters."""
    words = (request.args.get("q") or request.args.get("email") or "").strip()
    if len(words) > 254 or not words.isprintable():
        # A hand-edited link: the page's "not valid" state (400).
        raise KitValidationError(400, ["That search cannot be used."])
    return words or None


# --- subscribers --------------------------------------------------------------


@bp.route("/c/<id:connection_id>/subscribers", methods=["GET", "POST"])
@login_required
def subscribers(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    form = AddSubscriberForm()
    code = 200
    if form.validate_on_submit():
        _, code = write(
            form.email_address,
            lambda: data.add_subscriber(
                connection.id, form.email_address.data, form.first_name.data
            ),
        )
        if code == 200:
            flash(f"Saved {form.email_address.data} as a subscriber.", "success")
            return redirect(
                url_for("dashboard.subscribers", connection_id=connection.id)
            )
    elif form.is_submitted():
        code = 400
    raw_words = (request.args.get("q") or request.args.get("email") or "").strip()
    chosen = request.args.get("status", "")
    status = chosen if chosen in STATUSES else ("all" if raw_words else "active")
    number, cursor = _page_number(), _cursor()

    def load() -> dict[str, Any]:
        words = _search_words()
        if words:
            return {
                "search": data.search_subscribers(connection.id, words, status),
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
        pager_args=_pager_args(connection, status=status),
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
            _missing(
                f"No subscriber #{subscriber_id} in this Kit account",
                "All subscribers",
                url_for("dashboard.subscribers", connection_id=connection.id),
            )
        add.offer(found.other_tags)
        return {"found": found}

    page, status = kit_page(
        connection,
        "dashboard/subscriber.html",
        load,
        add_form=add,
        remove_form=RemoveTagForm(),
        subscriber_id=subscriber_id,
    )
    return page, max(code, status)


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
        lambda: data.tag_subscriber_by_id(
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
        data.untag_subscriber(connection.id, tag_id, subscriber_id)
    except KitNotFound:
        _missing(
            f"No subscriber #{subscriber_id} or tag #{tag_id} in this Kit account",
            "All subscribers",
            url_for("dashboard.subscribers", connection_id=connection.id),
        )
    except KitError as exc:
        flash(write_failure(exc), "error")
        return redirect(back)
    name = next((t.name for t in found.tags if t.id == tag_id), f"#{tag_id}")
    flash(f"Removed tag “{name}” from {found.subscriber.email_address}.", "success")
    return redirect(back)


# --- tags ---------------------------------------------------------------------


def _tags_page(
    connection: KitConnection,
    code: int = 200,
    create: CreateTagForm | None = None,
    tag: TagSubscriberForm | None = None,
) -> tuple[str, int]:
    """The tags page, with a form that did not go through (and its status)."""
    create = create or CreateTagForm(prefix="create")
    tag = tag or TagSubscriberForm(prefix="tag")
    number = _page_number()

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
        form.name, lambda: data.create_tag(connection.id, form.name.data or "")
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
    _, code = write(
        form.email_address,
        lambda: data.tag_subscriber(
            connection.id, form.tag_id.data, form.email_address.data
        ),
    )
    if code != 200:
        return _tags_page(connection, code, tag=form)
    name = dict(form.tag_id.choices).get(form.tag_id.data, "the tag")
    flash(f"Tagged {form.email_address.data} with “{name}”.", "success")
    return redirect(url_for("dashboard.tags", connection_id=connection.id))


@bp.get("/c/<id:connection_id>/tags/<id:tag_id>")
@login_required
def tag(connection_id: int, tag_id: int) -> tuple[str, int]:
    connection = own_connection(connection_id)
    cursor = _cursor()

    def load() -> dict[str, Any]:
        try:
            found = data.tag(connection.id, tag_id, cursor)
        except KitNotFound:
            _missing(
                f"No tag #{tag_id} in this Kit account",
                "All tags",
                url_for("dashboard.tags", connection_id=connection.id),
            )
        return {"tag": found.tag, "page": found.page}

    return kit_page(
        connection,
        "dashboard/tag.html",
        load,
        number=_page_number(),
        per_page=data.PER_PAGE,
        pager_args=_pager_args(connection, tag_id=str(tag_id)),
    )


# --- broadcasts ---------------------------------------------------------------


@bp.get("/c/<id:connection_id>/broadcasts")
@login_required
def broadcasts(connection_id: int) -> tuple[str, int]:
    connection, cursor = own_connection(connection_id), _cursor()

    def load() -> dict[str, Any]:
        page, stats = data.broadcasts_with_stats(connection.id, cursor)
        return {"page": page, "stats": stats}

    return kit_page(
        connection,
        "dashboard/broadcasts.html",
        load,
        pager_args=_pager_args(connection),
    )


@bp.get("/c/<id:connection_id>/broadcasts/<id:broadcast_id>")
@login_required
def broadcast(connection_id: int, broadcast_id: int) -> tuple[str, int]:
    connection = own_connection(connection_id)

    def load() -> dict[str, Any]:
        try:
            found, stats = data.broadcast(connection.id, broadcast_id)
        except KitNotFound:
            _missing(
                f"No broadcast #{broadcast_id} in this Kit account",
                "All broadcasts",
                url_for("dashboard.broadcasts", connection_id=connection.id),
            )
        return {"broadcast": found, "stats": stats, "sent": found.status in data.SENT}

    return kit_page(connection, "dashboard/broadcast.html", load)
