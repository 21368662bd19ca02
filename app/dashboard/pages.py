"""Pages over Kit's lists: subscribers, tags, forms, sequences, broadcasts.

Each view is the worked example of one Kit call: cursor pagination from the
query string, writes as POST + CSRF, Kit's 422 messages next to the field.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import Field

from app.auth.access import own_connection
from app.dashboard import bp, data
from app.dashboard.common import kit_page, write_failure
from app.dashboard.forms import AddSubscriberForm, CreateTagForm, TagSubscriberForm
from app.kit.errors import KitError, KitValidationError
from app.models import KitConnection

PER_PAGE = 50
STATUSES = ("active", "inactive", "bounced", "complained", "cancelled", "all")


def _cursor(name: str) -> str | None:
    """A cursor from the query string: opaque to us, but short and printable."""
    value = request.args.get(name, "")
    return value if value and len(value) <= 512 and value.isprintable() else None


def _paging() -> dict[str, Any]:
    after = _cursor("after")
    return {"after": after, "before": None if after else _cursor("before")}


def _write(
    connection: KitConnection, path: str, body: dict[str, Any], field: Field
) -> tuple[Any, int]:
    """POST to Kit for this connection. Returns Kit's answer and 200, or None
    and the status to re-render the form with: 422 with Kit's messages on
    `field`, 503 with a flash that says nothing was saved."""
    try:
        answer = data.client_for(connection.id).post(path, body)
    except KitValidationError as exc:
        field.errors = [*field.errors, *exc.messages]
        return None, 422
    except KitError as exc:
        flash(write_failure(exc), "error")
        return None, 503
    data.invalidate(connection.id)
    return answer, 200


# --- subscribers --------------------------------------------------------------


@bp.route("/c/<int:connection_id>/subscribers", methods=["GET", "POST"])
@login_required
def subscribers(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    status = request.args.get("status", "active")
    status = status if status in STATUSES else "active"
    email = (request.args.get("email") or "").strip()[:254]
    form = AddSubscriberForm()
    code = 200
    if form.validate_on_submit():
        _, code = _write(
            connection,
            "subscribers",
            {
                "email_address": form.email_address.data,
                "first_name": form.first_name.data,
            },
            form.email_address,
        )
        if code == 200:
            flash(f"Saved {form.email_address.data} as a subscriber.", "success")
            return redirect(
                url_for("dashboard.subscribers", connection_id=connection.id)
            )
    elif form.is_submitted():
        code = 400
    page, status_code = kit_page(
        connection,
        "dashboard/subscribers.html",
        lambda: {
            "page": data.list_page(
                connection.id,
                "subscribers",
                "subscribers",
                first_page_total=True,
                status=status,
                email_address=email or None,
                per_page=PER_PAGE,
                **_paging(),
            )
        },
        form=form,
        status_filter=status,
        statuses=STATUSES,
        email=email,
    )
    return page, max(code, status_code)


# --- tags ---------------------------------------------------------------------


def _tags_page(
    connection: KitConnection, code: int = 200, **forms: Any
) -> tuple[str, int]:
    create = forms.get("create") or CreateTagForm(prefix="create")
    tag = forms.get("tag") or TagSubscriberForm(prefix="tag")

    def load() -> dict[str, Any]:
        tags = data.all_items(connection.id, "tags", "tags")
        tag.tag_id.choices = [(t["id"], t["name"]) for t in tags]
        return {"tags": tags}

    page, status = kit_page(
        connection, "dashboard/tags.html", load, create_form=create, tag_form=tag
    )
    return page, max(code, status)


@bp.get("/c/<int:connection_id>/tags")
@login_required
def tags(connection_id: int) -> tuple[str, int]:
    return _tags_page(own_connection(connection_id))


@bp.post("/c/<int:connection_id>/tags")
@login_required
def create_tag(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    form = CreateTagForm(prefix="create")
    if not form.validate_on_submit():
        return _tags_page(connection, 400, create=form)
    body, code = _write(connection, "tags", {"name": form.name.data or ""}, form.name)
    if code != 200:
        return _tags_page(connection, code, create=form)
    name = ((body or {}).get("tag") or {}).get("name", form.name.data)
    flash(f"Tag “{name}” is ready.", "success")
    return redirect(url_for("dashboard.tags", connection_id=connection.id))


@bp.post("/c/<int:connection_id>/tags/subscribers")
@login_required
def tag_subscriber(connection_id: int) -> Response | tuple[str, int]:
    connection = own_connection(connection_id)
    form = TagSubscriberForm(prefix="tag")
    # The choices come from Kit: load them before validating the choice.
    try:
        tags = data.all_items(connection.id, "tags", "tags")
    except KitError as exc:
        flash(write_failure(exc), "error")
        return _tags_page(connection, 503, tag=form)
    form.tag_id.choices = [(t["id"], t["name"]) for t in tags]
    if not form.validate_on_submit():
        return _tags_page(connection, 400, tag=form)
    _, code = _write(
        connection,
        f"tags/{form.tag_id.data}/subscribers",
        {"email_address": form.email_address.data},
        form.email_address,
    )
    if code != 200:
        return _tags_page(connection, code, tag=form)
    name = dict(form.tag_id.choices).get(form.tag_id.data, "the tag")
    flash(f"Tagged {form.email_address.data} with “{name}”.", "success")
    return redirect(url_for("dashboard.tags", connection_id=connection.id))


# --- forms, sequences, broadcasts ---------------------------------------------


def _simple_list(
    connection_id: int, path: str, template: str, **filters: Any
) -> tuple[str, int]:
    connection = own_connection(connection_id)
    return kit_page(
        connection,
        template,
        lambda: {
            "page": data.list_page(
                connection.id, path, path, per_page=PER_PAGE, **filters, **_paging()
            )
        },
    )


@bp.get("/c/<int:connection_id>/forms")
@login_required
def forms(connection_id: int) -> tuple[str, int]:
    return _simple_list(connection_id, "forms", "dashboard/forms.html", status="all")


@bp.get("/c/<int:connection_id>/sequences")
@login_required
def sequences(connection_id: int) -> tuple[str, int]:
    return _simple_list(connection_id, "sequences", "dashboard/sequences.html")


@bp.get("/c/<int:connection_id>/broadcasts")
@login_required
def broadcasts(connection_id: int) -> tuple[str, int]:
    return _simple_list(connection_id, "broadcasts", "dashboard/broadcasts.html")
