"""GET /help, /support, /privacy: the app's own page, or a redirect to the
address configured in its place."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, render_template, url_for
from werkzeug.wrappers import Response

from app.pages import bp
from app.pages.privacy import what_is_stored

# setting that replaces a page -> the page's endpoint
REPLACED_BY = {
    "HELP_URL": "pages.help",
    "SUPPORT_URL": "pages.support",
    "PRIVACY_URL": "pages.privacy",
}


def listing_url(setting: str, external: bool = False) -> str:
    """Where a listing page is: the configured address, else our own page."""
    return current_app.config.get(setting) or url_for(
        REPLACED_BY[setting], _external=external
    )


@bp.app_context_processor
def listing_links() -> dict[str, Any]:
    return {"listing_url": listing_url}


@bp.get("/help")
def help() -> str | Response:  # noqa: A001 (the page's name)
    if current_app.config["HELP_URL"]:
        return redirect(current_app.config["HELP_URL"])
    return render_template(
        "pages/help.html",
        settings_page="settings.page" in current_app.view_functions,
    )


@bp.get("/support")
def support() -> str | Response:
    if current_app.config["SUPPORT_URL"]:
        return redirect(current_app.config["SUPPORT_URL"])
    return render_template("pages/support.html")


@bp.get("/privacy")
def privacy() -> str | Response:
    if current_app.config["PRIVACY_URL"]:
        return redirect(current_app.config["PRIVACY_URL"])
    return render_template(
        "pages/privacy.html", tables=what_is_stored(current_app.config)
    )
