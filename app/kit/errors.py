"""Typed failures of Kit, so callers can answer each one the right way."""

from __future__ import annotations


class KitError(Exception):
    """Base class for everything that went wrong talking to Kit."""


class KitUnavailable(KitError):
    """Kit did not give a usable answer (5xx, timeout, garbage). Try again later."""


class TokenOutcomeUnknown(KitUnavailable):
    """A token request was sent and no usable answer came back (read timeout,
    a dropped connection, a gateway's page). Kit may have rotated the pair, or
    not: the stored tokens stay, and the next refresh tries the same refresh
    token once (`app.kit.tokens`)."""


class RefreshBusy(KitUnavailable):
    """Another worker is refreshing this connection's token and did not finish
    within our wait. Nothing is wrong with the grant: try again shortly."""


class AccessRefused(KitUnavailable):
    """Kit answered 401 to a token, and again to the token after it (one
    refresh, one retry). A 401 alone proves nothing about the grant (only the
    token endpoint's `invalid_grant` does), so the connection stays active and
    the creator is asked to try again."""


class OAuthGrantError(KitError):
    """The token endpoint refused the grant (OAuth error response).

    `error` is the OAuth error code: `invalid_grant` means the code or refresh
    token is dead (used, expired, revoked) and only a new install helps.
    """

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


class NeedsReconnect(KitError):
    """The connection's grant is gone; the creator must install again."""


class KitAPIError(KitError):
    """Kit answered an API call with an error status and `{"errors": [...]}`."""

    def __init__(self, status: int, messages: list[str]) -> None:
        super().__init__(f"Kit API {status}: {'; '.join(messages)}")
        self.status = status
        self.messages = messages


class AccessTokenExpired(KitAPIError):
    """401 "The access token expired": refresh and retry once."""


class AccessTokenInvalid(KitAPIError):
    """401 "The access token is invalid" (or revoked): refresh and retry once;
    only the refresh's `invalid_grant` proves the grant is gone."""


class KitNotFound(KitAPIError):
    """404: the thing is not in this Kit account (or never existed)."""


class KitValidationError(KitAPIError):
    """422: Kit refused the input; `messages` are Kit's words, fit to show."""


class KitRateLimited(KitAPIError):
    """429 even after backing off: the account's 600 calls a minute are spent."""
