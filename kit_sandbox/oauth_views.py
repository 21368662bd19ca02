"""Kit's token and revoke endpoints, at their current and legacy paths."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from . import oauth
from .faults import NO_STORE, simulate_conditions
from .state import current_state

bp = Blueprint("oauth", __name__)


@bp.post("/v4/oauth/token")
@bp.post("/oauth/token")
def token() -> Response:
    state = current_state()
    params = _body_params()
    creds = _client_credentials(params)
    state.record(
        state.token_requests,
        {
            "path": request.path,
            "content_type": request.mimetype,
            "params": params,
            "basic_auth": creds.basic_auth,
            "grant_type": params.get("grant_type"),
        },
    )
    failure = simulate_conditions(state, "token")
    if failure is not None:
        return failure
    try:
        token_set = oauth.grant_tokens(state, params, creds)
    except oauth.OAuthError as error:
        response = jsonify(error.to_json())
        response.status_code = error.status
    else:
        response = jsonify(oauth.token_response(token_set))
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
    entry: dict[str, Any] = {
        "path": request.path,
        "content_type": request.mimetype,
        "params": params,
        "basic_auth": creds.basic_auth,
        "revoked": False,
    }
    state.record(state.revoke_requests, entry)
    failure = simulate_conditions(state, "revoke")
    if failure is not None:
        return failure
    try:
        oauth.authenticate_client(state.config, creds, secret_required=True)
    except oauth.OAuthError:
        pass
    else:
        assert creds.client_id is not None
        with state.lock:
            entry["revoked"] = oauth.revoke_token(
                state, params.get("token", ""), creds.client_id
            )
    return Response(b"", 200)


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


def _client_credentials(params: dict[str, str]) -> oauth.ClientCredentials:
    """Client id and secret from HTTP Basic if sent, else from the body."""
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return oauth.ClientCredentials(
            client_id=auth.username or None,
            client_secret=auth.password or None,
            basic_auth=True,
        )
    return oauth.ClientCredentials(
        client_id=params.get("client_id") or None,
        client_secret=params.get("client_secret") or None,
        basic_auth=False,
    )
