"""Kit's API v4, for the account a bearer token was issued for.

This module holds what every endpoint shares, and the account endpoints:

* ``GET /v4/account``, ``GET /v4/account/growth_stats?starting=&ending=``
  (``YYYY-MM-DD``, default the last 90 days; UTC days, although Kit uses the
  sending time zone), ``GET /v4/account/email_stats``;
* in ``api_audience.py``: ``GET``/``POST /v4/subscribers``, ``GET``/``POST
  /v4/tags``, ``GET``/``POST /v4/tags/<tag_id>/subscribers``, ``GET
  /v4/custom_fields``;
* in ``api_content.py``: ``GET /v4/forms``, ``GET /v4/sequences``, ``GET
  /v4/broadcasts``, ``GET /v4/broadcasts/<id>/stats``.

Every route here, known or not, gets the configured latency and planned
faults first, then Kit's rate limit (``rate_limit`` requests per access token
per rolling ``rate_window`` seconds; over it, a plain-text 429 "Retry later"
with no Retry-After), and is logged in ``state.api_requests``. Endpoints need
a live bearer token (401 in Kit's words otherwise) and see only its account.
Errors are ``{"errors": ["..."]}``: raise ``ApiError`` from a view. Unknown
paths, and known paths with the wrong method, are Kit-style 404s.

To add an endpoint, put its data in ``seed_data.py`` and write a view::

    @bp.get("/segments")
    @require_token
    def segments() -> Response:
        ...  # current_data() is the token's account's data; hold state.lock
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import Blueprint, Response, g, jsonify, request

from .audience import AccountData
from .faults import retry_later, simulate_conditions
from .pagination import PageParams, paginate
from .params import ApiError, parse_day
from .seed import DemoAccount
from .state import SandboxState, TokenSet, current_state

bp = Blueprint("api", __name__, url_prefix="/v4")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# Doorkeeper's wording, which Kit's clients match on (KIT_PLATFORM.md section 5).
MSG_INVALID = "The access token is invalid"
MSG_EXPIRED = "The access token expired"
MSG_REVOKED = "The access token was revoked"

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
GROWTH_DEFAULT_DAYS = 90


def api_error(status: int, *messages: str) -> Response:
    response = jsonify(errors=list(messages))
    response.status_code = status
    return response


def current_account() -> DemoAccount:
    account: DemoAccount = g.kit_account
    return account


def current_data() -> AccountData:
    """The token's account's data. Hold ``current_state().lock`` while using it."""
    return current_state().account_data(current_account().id)


def _record_id(record: Any) -> int:
    record_id: int = record.id
    return record_id


def listing(
    root: str,
    items: list[T],
    render: Callable[[T], dict[str, Any]],
    *,
    key: Callable[[T], int] = _record_id,
    newest_first: bool = False,
) -> dict[str, Any]:
    """A list endpoint's body: one page of ``items`` per the request's
    ``per_page``, ``after``/``before`` and ``include_total_count``."""
    params = PageParams.from_args(request.args)
    page = paginate(items, params, key=key, newest_first=newest_first)
    return page.to_api(root, render)


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
    state = current_state()
    return simulate_conditions(state, "api") or _rate_limit(state)


def _rate_limit(state: SandboxState) -> Response | None:
    """Count the request against its token; a token that is not live is not
    counted (the view answers 401, as Kit checks the token first)."""
    token_set = _bearer_token_set()
    if token_set is None or _token_problem(token_set) is not None:
        return None
    config = state.config
    if state.rate_limiter.allow(
        token_set.access_token, config.rate_limit, config.rate_window
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


@bp.get("/account")
@require_token
def account() -> Response:
    return jsonify(current_account().to_api())


@bp.get("/account/growth_stats")
@require_token
def growth_stats() -> Response:
    """Counts for whole UTC days, ``starting`` to ``ending`` inclusive."""
    today = datetime.now(UTC).date()
    starting = parse_day(request.args.get("starting"), "Starting")
    ending = parse_day(request.args.get("ending"), "Ending") or today
    starting = starting or today - timedelta(days=GROWTH_DEFAULT_DAYS)
    if starting > ending:
        raise ApiError(422, "Starting must be on or before ending")
    state = current_state()
    with state.lock:
        stats: dict[str, Any] = current_data().growth.stats(starting, ending)
    stats["starting"] = f"{starting.isoformat()}T00:00:00Z"
    stats["ending"] = f"{ending.isoformat()}T23:59:59Z"
    return jsonify(stats=stats)


@bp.get("/account/email_stats")
@require_token
def email_stats() -> Response:
    state = current_state()
    with state.lock:
        stats = current_data().email_stats(datetime.now(UTC).replace(microsecond=0))
    return jsonify(stats=stats)


@bp.route("/<path:unknown>", methods=ALL_METHODS)
def not_found(unknown: str) -> Response:
    # Also reached by a known path with the wrong method: Kit answers 404 there.
    return api_error(404, "Not Found")


# The endpoints register themselves on ``bp``; they import from this module,
# so they are imported last.
from . import api_audience, api_content  # noqa: E402, F401
