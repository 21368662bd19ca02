"""Kit's OAuth endpoints: the consent screen a creator's browser sees at
``/v4/oauth/authorize``, and the token and revoke endpoints our server calls
at ``/v4/oauth/token`` and ``/v4/oauth/revoke`` (each also at its legacy path
without ``/v4``).

The consent form is protected by a CSRF token kept in the sandbox's own session
cookie (``kit_sandbox_session``; see ``factory.py`` for why the name matters).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)

from ..error_page import error_page
from ..faults import NO_STORE, simulate_conditions
from ..registration import PERMISSION
from ..state import current_state
from ..urls import with_query
from .authorize import (
    AuthorizeError,
    AuthorizeRedirect,
    AuthorizeRequest,
    validate_authorize,
)
from .grants import (
    ClientCredentials,
    OAuthError,
    authenticate_client,
    grant_tokens,
    revoke_token,
    token_response,
)

bp = Blueprint("oauth", __name__)


# -- the consent screen --------------------------------------------------------


@bp.route("/v4/oauth/authorize", methods=["GET", "POST"])
@bp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Response | tuple[str, int] | str:
    state = current_state()
    params = request.args if request.method == "GET" else request.form
    try:
        grant = validate_authorize(state.config, params)
    except AuthorizeError as error:
        return error_page(error.title, error.detail, 400)
    except AuthorizeRedirect as error:
        return redirect(error.url)

    if request.method == "GET":
        return _consent_page(grant)

    if not _csrf_ok(request.form.get("csrf_token", "")):
        return error_page(
            "This form has expired",
            "The sandbox couldn't match this form to your browser session (its "
            "cookie may have been cleared, or the page was open for too long). "
            "Go back to your app and start connecting again.",
            400,
        )
    if request.form.get("decision") != "allow":
        return redirect(
            with_query(
                grant.redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The creator denied access to the app.",
                    "state": grant.state,
                },
            )
        )
    account_id = request.form.get("account_id", type=int)
    if account_id is None or account_id not in state.accounts:
        return _consent_page(grant, error="Choose the account to sign in as."), 400
    session["kit_account_id"] = account_id  # who is signed in to Kit now
    code = state.issue_code(
        client_id=grant.client_id,
        redirect_uri=grant.redirect_uri,
        account_id=account_id,
        tenant_name=grant.tenant_name,
        scope=grant.scope,
        code_challenge=grant.code_challenge,
    )
    return redirect(
        with_query(grant.redirect_uri, {"code": code.code, "state": grant.state})
    )


def _consent_page(grant: AuthorizeRequest, error: str | None = None) -> str:
    state = current_state()
    return render_template(
        "sandbox/consent.html",
        config=state.config,
        grant=grant,
        accounts=list(state.accounts.values()),
        permission=PERMISSION,
        redirect_host=urlsplit(grant.redirect_uri).netloc,
        csrf_token=_csrf_token(),
        error=error,
    )


def _csrf_token() -> str:
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    token: str = session["csrf_token"]
    return token


def _csrf_ok(sent: str) -> bool:
    expected = session.get("csrf_token")
    return bool(expected and sent) and hmac.compare_digest(
        sent.encode(), str(expected).encode()
    )


# -- the token and revoke endpoints --------------------------------------------


@bp.post("/v4/oauth/token")
@bp.post("/oauth/token")
def token() -> Response:
    state = current_state()
    params = _body_params()
    creds = _client_credentials(params)
    _log(state.token_requests, params, creds, grant_type=params.get("grant_type"))
    failure = simulate_conditions(state, "token")
    if failure is not None:
        return failure
    try:
        tokens = grant_tokens(state, params, creds)
    except OAuthError as error:
        response = jsonify(error.to_json())
        response.status_code = error.status
    else:
        response = jsonify(token_response(tokens))
    response.headers.update(NO_STORE)
    return response


@bp.post("/v4/oauth/revoke")
@bp.post("/oauth/revoke")
def revoke() -> Response:
    """RFC 7009: always 200 and an empty body, whatever happened.

    Bad client credentials revoke nothing (the entry in ``revoke_requests``
    says ``"revoked": False``), so a client that forgets its secret finds out
    because its token still works, as it would against Kit.
    """
    state = current_state()
    params = _body_params()
    creds = _client_credentials(params)
    entry = _log(state.revoke_requests, params, creds, revoked=False)
    failure = simulate_conditions(state, "revoke")
    if failure is not None:
        return failure
    try:
        authenticate_client(state.config, creds, secret_required=True)
    except OAuthError:
        pass
    else:
        assert creds.client_id is not None
        with state.lock:
            entry["revoked"] = revoke_token(
                state, params.get("token", ""), creds.client_id
            )
    return Response(b"", 200)


def _log(
    log: list[dict[str, Any]],
    params: dict[str, str],
    creds: ClientCredentials,
    **extra: Any,
) -> dict[str, Any]:
    """Add this request to ``log`` (the state's token or revoke requests)."""
    entry = {
        "path": request.path,
        "content_type": request.mimetype,
        "params": params,
        "basic_auth": creds.basic_auth,
        **extra,
    }
    current_state().record(log, entry)
    return entry


def _body_params() -> dict[str, str]:
    """The body's fields, from JSON or a form: Kit accepts both."""
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return {}
        return {
            str(key): value if isinstance(value, str) else str(value)
            for key, value in data.items()
            if value is not None
        }
    return request.form.to_dict()


def _client_credentials(params: dict[str, str]) -> ClientCredentials:
    """Client id and secret from HTTP Basic if sent, else from the body."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return ClientCredentials(
            client_id=auth.username or None,
            client_secret=auth.password or None,
            basic_auth=True,
        )
    return ClientCredentials(
        client_id=params.get("client_id") or None,
        client_secret=params.get("client_secret") or None,
        basic_auth=False,
    )
