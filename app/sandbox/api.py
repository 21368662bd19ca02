"""Kit's API v4, for the account a bearer token was issued for.

Only ``GET /v4/account`` exists so far. To add an endpoint (subscribers, tags,
forms...), put its data in ``seed.py`` keyed by account id and write a view::

    @bp.get("/tags")
    @require_token
    def tags() -> Response:
        ...  # current_account() is the token's account

Latency, planned faults and the request log apply to every route of this
blueprint without further work; unknown paths fall through to a Kit-style 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Blueprint, Response, g, jsonify, request

from .faults import simulate_conditions
from .seed import DemoAccount
from .state import TokenSet, current_state

bp = Blueprint("api", __name__, url_prefix="/v4")

P = ParamSpec("P")
R = TypeVar("R")

# Doorkeeper's wording, which Kit's clients match on (KIT_PLATFORM.md section 5).
MSG_INVALID = "The access token is invalid"
MSG_EXPIRED = "The access token expired"
MSG_REVOKED = "The access token was revoked"

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def api_error(status: int, *messages: str) -> Response:
    response = jsonify(errors=list(messages))
    response.status_code = status
    return response


def current_account() -> DemoAccount:
    account: DemoAccount = g.kit_account
    return account


def require_token(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let the view run only with a live bearer token; 401 in Kit's words else."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        state = current_state()
        token_set = _bearer_token_set()
        problem = _token_problem(token_set)
        account = state.accounts.get(token_set.account_id) if token_set else None
        if problem is None and account is None:
            problem = MSG_INVALID
        if problem is not None:
            response = api_error(401, problem)
            response.headers["WWW-Authenticate"] = (
                f'Bearer realm="Kit", error="invalid_token", '
                f'error_description="{problem}"'
            )
            return response
        g.kit_token = token_set
        g.kit_account = account
        return view(*args, **kwargs)

    return wrapper


def _bearer_token_set() -> TokenSet | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return current_state().find_access_token(token.strip())


def _token_problem(token_set: TokenSet | None) -> str | None:
    # Doorkeeper's order: a revoked token says so even if it has also expired.
    if token_set is None:
        return MSG_INVALID
    if token_set.revoked:
        return MSG_REVOKED
    if token_set.is_expired():
        return MSG_EXPIRED
    return None


@bp.before_request
def _simulate_conditions() -> Response | None:
    return simulate_conditions(current_state(), "api")


@bp.after_request
def _log_request(response: Response) -> Response:
    state = current_state()
    state.record(
        state.api_requests,
        {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
        },
    )
    return response


@bp.get("/account")
@require_token
def account() -> Response:
    return jsonify(current_account().to_api())


@bp.route("/<path:unknown>", methods=ALL_METHODS)
def not_found(unknown: str) -> Response:
    return api_error(404, "Not Found")
