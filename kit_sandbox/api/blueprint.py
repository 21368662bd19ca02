"""Kit's API v4 blueprint, and what every endpoint shares.

The endpoints, for the account a bearer token was issued for, register
themselves on ``bp`` from their own modules:

* ``account.py``: ``GET /v4/account``, ``GET /v4/account/growth_stats``
  (``starting``/``ending``, ``YYYY-MM-DD``, default the last 90 days; days
  in the account's sending time zone, as Kit counts them), ``GET
  /v4/account/email_stats``;
* ``subscribers.py``: ``GET``/``POST /v4/subscribers``, ``GET
  /v4/subscribers/<id>``, ``GET /v4/custom_fields``;
* ``tags.py``: ``GET``/``POST /v4/tags``, ``GET``/``POST``/``DELETE``
  (by email) ``/v4/tags/<tag_id>/subscribers``, ``POST``/``DELETE
  /v4/tags/<tag_id>/subscribers/<id>``, ``GET /v4/subscribers/<id>/tags``;
* ``content.py``: ``GET /v4/forms``, ``GET /v4/sequences``, ``GET
  /v4/broadcasts``, ``GET /v4/broadcasts/stats`` (``status``,
  ``sent_after``/``sent_before``), ``GET /v4/broadcasts/<id>``, ``GET
  /v4/broadcasts/<id>/stats``.

Every route here, known or not, gets the configured latency and planned
faults first, then Kit's rate limit (``rate_limit`` requests per access token
per rolling ``rate_window`` seconds; over it, a plain-text 429 "Retry later"
with no Retry-After), and is logged in ``state.api_requests``. Endpoints need
a live bearer token (401 in Kit's words otherwise) and see only its account.
Errors are ``{"errors": ["..."]}``: raise ``ApiError`` (``params.py``) from a
view. Lists are paginated with Kit's cursors (``pagination.py``). Unknown
paths, and known paths with the wrong method, are Kit-style 404s.

To add an endpoint (the README's recipe, followed by tests/test_recipe.py): a
record with ``to_api()`` in ``records.py``, a list of them on ``AccountData``
and their ids' start in ``ID_STARTS`` (``audience.py``), a few in
``seed/account_data.py``, and a view in a module that ``api/__init__.py``
imports (``list_response`` pages a list as Kit does)::

    @bp.get("/segments")
    @require_token
    def segments() -> Response:
        with current_data() as data:  # the token's account's, lock held
            ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, Response, g, jsonify, request

from ..audience import AccountData
from ..faults import retry_later, simulate_conditions
from ..seed import DemoAccount
from ..state import (
    PATH_FAULT_MESSAGES,
    IssuedTokens,
    SandboxState,
    current_state,
)
from .pagination import PageParams, paginate
from .params import MSG_NOT_FOUND, ApiError, json_object

bp = Blueprint("api", __name__, url_prefix="/v4")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

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


@contextmanager
def current_data() -> Iterator[AccountData]:
    """The token's account's data, with the state's lock held meanwhile."""
    state = current_state()
    with state.lock:
        yield state.account_data(current_account().id)


def json_body() -> dict[str, Any]:
    """A write's JSON object body, or a 422 in Kit's words."""
    # force=True: the body decides, not the Content-Type header, so a JSON body
    # sent as text/plain works and a form body gets the JSON error.
    return json_object(request.get_json(force=True, silent=True))


def now() -> datetime:
    """When a write happens, in whole seconds as Kit stores dates."""
    return datetime.now(UTC).replace(microsecond=0)


def _record_id(record: Any) -> int:
    record_id: int = record.id
    return record_id


def list_response(
    root: str,
    select: Callable[[AccountData], Iterable[T]],
    render: Callable[[T], dict[str, Any]],
    *,
    key: Callable[[T], int] = _record_id,
    newest_first: bool = False,
) -> Response:
    """A list endpoint's answer ``{root: [...], "pagination": {...}}``: one page
    of what ``select`` picks from the token's account's data, per the request's
    ``per_page``, ``after``/``before`` and ``include_total_count``."""
    with current_data() as data:
        items = list(select(data))
        params = PageParams.from_args(request.args)
        page = paginate(items, params, key=key, newest_first=newest_first)
        body = page.to_api(root, render)
    return jsonify(body)


def require_token(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Let the view run only with a live bearer token; 401 in Kit's words else."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        state = current_state()
        tokens = _bearer_tokens()
        problem = _token_problem(tokens)
        account = state.accounts.get(tokens.account_id) if tokens else None
        if problem is None and account is None:
            problem = MSG_INVALID
        if problem is not None:
            response = api_error(401, problem)
            response.headers["WWW-Authenticate"] = (
                f'Bearer realm="Kit", error="invalid_token", '
                f'error_description="{problem}"'
            )
            return response
        g.kit_token = tokens
        g.kit_account = account
        return view(*args, **kwargs)

    return wrapper


def _bearer_tokens() -> IssuedTokens | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return current_state().find_access_token(token.strip())


def _token_problem(tokens: IssuedTokens | None) -> str | None:
    # Doorkeeper's order: a revoked token says so even if it has also expired.
    if tokens is None:
        return MSG_INVALID
    if tokens.revoked:
        return MSG_REVOKED
    if tokens.is_expired():
        return MSG_EXPIRED
    return None


@bp.before_request
def _simulate_conditions() -> Response | None:
    state = current_state()
    return _path_fault(state) or simulate_conditions(state, "api") or _rate_limit(state)


def _path_fault(state: SandboxState) -> Response | None:
    """A path told to fail (``SandboxState.add_path_fault``) answers Kit's error."""
    kind = state.take_path_fault(request.path)
    if kind is None:
        return None
    response = jsonify(errors=[PATH_FAULT_MESSAGES[kind]])
    response.status_code = int(kind)
    return response


def _rate_limit(state: SandboxState) -> Response | None:
    """Count the request against its token; a token that is not live is not
    counted (the view answers 401, as Kit checks the token first)."""
    tokens = _bearer_tokens()
    if tokens is None or _token_problem(tokens) is not None:
        return None
    config = state.config
    if state.rate_limiter.allow(
        tokens.access_token, config.rate_limit, config.rate_window
    ):
        return None
    return retry_later()


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


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return api_error(error.status, error.message)


@bp.route("/<path:unknown>", methods=ALL_METHODS)
def not_found(unknown: str) -> Response:
    # Also reached by a known path with the wrong method: Kit answers 404 there.
    return api_error(404, MSG_NOT_FOUND)
