"""Kit's rules for an authorize request (the link to the consent screen).

Nothing here touches ``request``: the consent view (``views.py``) parses HTTP
and calls ``validate_authorize``. A request whose app or redirect URI can't be
trusted gets an error page (``AuthorizeError``); any other bad request is
reported to the verified redirect URI (``AuthorizeRedirect``), as RFC 6749 and
Kit's server (Doorkeeper) do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from ..registration import SandboxConfig
from ..urls import with_query

SUPPORTED_SCOPES = frozenset({"public"})


class AuthorizeError(Exception):
    """A bad authorize request that must NOT be redirected back.

    Raised when the client or the redirect URI can't be trusted: sending the
    browser to an unverified URI would make the sandbox an open redirector.
    """

    def __init__(self, title: str, detail: str) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail


class AuthorizeRedirect(Exception):
    """A bad authorize request reported to the (verified) redirect URI."""

    def __init__(
        self, redirect_uri: str, error: str, description: str, state: str | None
    ) -> None:
        super().__init__(description)
        self.url = with_query(
            redirect_uri,
            {"error": error, "error_description": description, "state": state},
        )


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorize request; its fields ride along in the consent form."""

    client_id: str
    redirect_uri: str
    response_type: str
    state: str | None
    scope: str
    tenant_name: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    def hidden_fields(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value}


def validate_authorize(
    config: SandboxConfig, params: Mapping[str, str]
) -> AuthorizeRequest:
    """Check an authorize request (GET query or the consent form's POST)."""
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    _check_client(config, client_id, redirect_uri)

    state = params.get("state") or None
    response_type = params.get("response_type", "")
    if not response_type:
        raise AuthorizeRedirect(
            redirect_uri, "invalid_request", "response_type is required.", state
        )
    if response_type != "code":
        raise AuthorizeRedirect(
            redirect_uri,
            "unsupported_response_type",
            "Kit supports only response_type=code.",
            state,
        )
    scope = params.get("scope") or "public"
    if not set(scope.split()) <= SUPPORTED_SCOPES:
        raise AuthorizeRedirect(
            redirect_uri, "invalid_scope", "The only scope is 'public'.", state
        )

    code_challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or None
    if config.is_public_client and code_challenge is None:
        raise AuthorizeRedirect(
            redirect_uri,
            "invalid_request",
            "This app is not a secure (confidential) app, so it must use PKCE: "
            "send code_challenge and code_challenge_method=S256.",
            state,
        )
    if code_challenge is not None and method != "S256":
        raise AuthorizeRedirect(
            redirect_uri,
            "invalid_request",
            "code_challenge_method must be S256.",
            state,
        )
    return AuthorizeRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        response_type=response_type,
        state=state,
        scope=scope,
        tenant_name=params.get("tenant_name") or None,
        code_challenge=code_challenge,
        code_challenge_method=method if code_challenge else None,
    )


def _check_client(config: SandboxConfig, client_id: str, redirect_uri: str) -> None:
    """Raise ``AuthorizeError`` unless the app and its redirect URI are known."""
    if not client_id:
        raise AuthorizeError(
            "This link has no app in it",
            "The authorize request has no client_id, so the sandbox can't tell "
            "which app is asking.",
        )
    if client_id != config.client_id:
        raise AuthorizeError(
            "Unknown app",
            f"No app with client_id {client_id!r} is registered in this sandbox "
            f"(it knows {config.client_id!r}). Check the client id your app is "
            "configured with.",
        )
    if not redirect_uri:
        raise AuthorizeError(
            "Missing redirect URI",
            "The authorize request has no redirect_uri. Kit needs one that "
            "exactly matches a Redirect URI registered for the app.",
        )
    if redirect_uri not in config.redirect_uris:
        raise AuthorizeError(
            "This redirect URI is not registered",
            f"{redirect_uri!r} doesn't exactly match any Redirect URI registered "
            f"for {config.app_name} ({', '.join(config.redirect_uris)}). Kit "
            "compares them character for character: check the scheme, host, "
            "port, path and trailing slash.",
        )
