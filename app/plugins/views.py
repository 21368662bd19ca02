"""The plugin OAuth server's routes: the creator's authorize screen, and the
token, refresh and revoke endpoints Kit calls (Authlib answers those, with
RFC 6749's error JSON for every refusal)."""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import SubmitField

from app.creator_data.agreement import agree
from app.edge import accepts_body
from app.errors import ADVICE, problem
from app.extensions import csrf, db, limiter
from app.models import PluginGrant
from app.plugins import bp
from app.plugins.guard import plugin_connection, plugin_route
from app.plugins.kit_request import body_fields
from app.plugins.links import remember_grant
from app.plugins.server import kit_client, oauth_server
from app.security import OAUTH_LIMIT

KIT_BODY = (16 * 1024, ["application/json"])  # Kit's token calls: small JSON
# Per client address, as OAUTH_LIMIT, but Kit's servers make every install's,
# refresh's and uninstall's call from a few addresses: far more room.
KIT_CALLS_LIMIT = "600 per minute"


class AuthorizeForm(FlaskForm):
    allow = SubmitField("Allow")
    deny = SubmitField("Cancel")


# What the creator is told when Kit's link is not one we accept: a page, never
# a redirect to a redirect URI we have not checked.
LINK_PROBLEMS = {
    "invalid_client": "This link names an app client this site does not know.",
    "invalid_request": "This link is incomplete or its return address is not Kit's.",
    "unsupported_response_type": "This link asks for something this site does "
    "not offer.",
}


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@limiter.limit(OAUTH_LIMIT)
def authorize() -> Any:
    """Kit sends the creator here during an install with plugin access: sign
    in (or up), see what Kit gets, allow; then back to Kit with a code."""
    if kit_client() is None:
        return problem(
            404, "Kit plugins are off", "This app has no plugin access set up."
        )
    if not current_user.is_authenticated:
        flash("Create an account, or sign in, to install this app in Kit.", "info")
        return redirect(url_for("auth.signup", next=request.full_path))
    server = oauth_server()
    try:
        grant = server.get_consent_grant(end_user=current_user)
    except OAuth2Error as error:
        message = LINK_PROBLEMS.get(error.error, "This link from Kit is not valid.")
        return problem(
            400,
            "This link from Kit cannot be used",
            f"{message} Start the install again from Kit's App Store.",
            [("Your dashboard", url_for("dashboard.index"))],
        )
    form = AuthorizeForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template(
            "plugins/authorize.html", form=form, action=request.full_path
        )
    if not form.allow.data:
        return server.create_authorization_response(grant_user=None, grant=grant)
    plugin_grant = PluginGrant(
        user_id=current_user.id,
        client_id=grant.client.client_id,
        scope=grant.client.get_allowed_scope(grant.request.payload.scope),
    )
    db.session.add(plugin_grant)
    db.session.commit()
    agree(current_user)  # the page showed what the app keeps; Kit's install is next
    remember_grant(plugin_grant)
    return server.create_authorization_response(grant_user=plugin_grant, grant=grant)


@bp.post("/oauth/token")
@accepts_body(*KIT_BODY)
@csrf.exempt
@limiter.limit(KIT_CALLS_LIMIT)
def token() -> Response:
    """Kit exchanges a code (or refreshes): form or JSON body."""
    return oauth_server().create_token_response()  # type: ignore[no-any-return]


@bp.post("/oauth/refresh")
@accepts_body(*KIT_BODY)
@csrf.exempt
@limiter.limit(KIT_CALLS_LIMIT)
def refresh() -> Response | tuple[Response, int]:
    """Kit's refresh URL: `grant_type=refresh_token`, no secret, rotation."""
    if body_fields().get("grant_type") != "refresh_token":
        return oauth_error(400, "unsupported_grant_type", "Only refresh_token here.")
    return oauth_server().create_token_response()  # type: ignore[no-any-return]


@bp.post("/oauth/revoke")
@accepts_body(*KIT_BODY)
@csrf.exempt
@limiter.limit(KIT_CALLS_LIMIT)
def revoke() -> Response:
    """Kit's uninstall notice: `{client_id, client_secret, token}` -> 200."""
    return oauth_server().create_endpoint_response("revocation")  # type: ignore[no-any-return]


@bp.route("/oauth/token", methods=["GET", "PUT", "PATCH", "DELETE"])
@bp.route("/oauth/refresh", methods=["GET", "PUT", "PATCH", "DELETE"])
@bp.route("/oauth/revoke", methods=["GET", "PUT", "PATCH", "DELETE"])
@csrf.exempt
def not_a_post() -> tuple[Response, int]:
    """Kit POSTs to these. Another method is refused in RFC 6749's shape too:
    an unrouted 405 would be the app's HTML page, since a routing error never
    reaches a blueprint's error handlers."""
    response, status = oauth_error(405, "invalid_request", "Send a POST.")
    response.headers["Allow"] = "POST"
    return response, status


@bp.route("/account", methods=["GET", "POST"])
@plugin_route
def account() -> Response:
    """The Kit account a token serves: for a developer checking a token with
    curl, and the smallest plugin route (the isolation test walks it)."""
    connection = plugin_connection()
    return jsonify(
        kit_account_id=connection.kit_account_id, account_name=connection.account_name
    )


def oauth_error(status: int, error: str, description: str) -> tuple[Response, int]:
    response = jsonify(error=error, error_description=description)
    response.headers["Cache-Control"] = "no-store"
    return response, status


@bp.errorhandler(InsecureTransportError)
def over_http(_: InsecureTransportError) -> Any:
    """Production takes Kit's calls over https only (Authlib's rule). One that
    reached the app as http (a proxy that does not say X-Forwarded-Proto, or
    PROXY_FIX_HOPS unset) is refused in RFC 6749's shape, not a 500."""
    message = (
        "Plugin OAuth needs https. Behind a proxy, set PROXY_FIX_HOPS so the "
        "app sees X-Forwarded-Proto."
    )
    if request.endpoint == "plugins.authorize":
        return problem(400, "This page needs https", message)
    return oauth_error(400, "invalid_request", message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Any:
    """Kit's endpoints answer in RFC 6749's shape even for a body too large
    or of a type they do not take; the creator's screen answers with a page."""
    status = error.code or 400
    if request.endpoint == "plugins.authorize":
        title, message = ADVICE.get(status, (error.name, "Go back and try again."))
        return problem(status, title, message)
    error_code = "server_error" if status >= 500 else "invalid_request"
    return oauth_error(status, error_code, error.name)
