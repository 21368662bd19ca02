"""Kit's OAuth rules, as plain functions over a ``SandboxState``.

Nothing here touches ``request``: the views parse HTTP and call these. Kit's
server is Doorkeeper (Rails), so errors follow RFC 6749 the way Doorkeeper does;
the ``error_description`` texts are more specific than Kit's, to help whoever
is debugging a client against the sandbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .config import SandboxConfig
from .state import SandboxState, TokenSet

SUPPORTED_SCOPES = frozenset({"public"})


class OAuthError(Exception):
    """An error the token endpoint reports as ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


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


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None
    client_secret: str | None
    basic_auth: bool


def with_query(url: str, params: Mapping[str, str | None]) -> str:
    """``url`` with ``params`` appended (``None`` values skipped), query kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, value) for key, value in params.items() if value is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def pkce_s256(verifier: str) -> str:
    """RFC 7636's S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def validate_authorize(
    config: SandboxConfig, params: Mapping[str, str]
) -> AuthorizeRequest:
    """Check an authorize request (GET query or the consent form's POST)."""
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
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


def authenticate_client(
    config: SandboxConfig, creds: ClientCredentials, *, secret_required: bool
) -> None:
    """Raise ``invalid_client`` unless ``creds`` identify the registered app.

    A public client is identified by its id alone (PKCE proves the rest). For a
    confidential client, a refresh may omit the secret (Kit's docs list none),
    but a secret that is sent must be right.
    """
    if not creds.client_id:
        raise OAuthError("invalid_client", "No client_id was sent.", 401)
    if creds.client_id != config.client_id:
        raise OAuthError("invalid_client", "Unknown client_id.", 401)
    if config.client_secret is None:
        return
    if creds.client_secret is None:
        if secret_required:
            raise OAuthError(
                "invalid_client",
                "client_secret is required (in the body or with HTTP Basic).",
                401,
            )
        return
    if not hmac.compare_digest(
        creds.client_secret.encode(), config.client_secret.encode()
    ):
        raise OAuthError("invalid_client", "The client_secret is wrong.", 401)


def grant_tokens(
    state: SandboxState, params: Mapping[str, str], creds: ClientCredentials
) -> TokenSet:
    """Handle one token request body; return the new token set or raise."""
    grant_type = params.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type not in ("authorization_code", "refresh_token"):
        raise OAuthError(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token.",
        )
    authenticate_client(
        state.config, creds, secret_required=grant_type == "authorization_code"
    )
    assert creds.client_id is not None  # authenticate_client checked it
    if grant_type == "authorization_code":
        return exchange_code(state, params, creds.client_id)
    return refresh_tokens(state, params, creds.client_id)


def exchange_code(
    state: SandboxState, params: Mapping[str, str], client_id: str
) -> TokenSet:
    code = params.get("code")
    redirect_uri = params.get("redirect_uri")
    if not code or not redirect_uri:
        raise OAuthError("invalid_request", "code and redirect_uri are required.")
    with state.lock:
        grant = state.codes.get(code)
        if grant is None or grant.client_id != client_id:
            raise OAuthError("invalid_grant", "The authorization code is invalid.")
        if grant.used:
            # RFC 6749 4.1.2: a replayed code may mean it leaked; kill its tokens.
            state.revoke_grant(code, "code_reused")
            raise OAuthError(
                "invalid_grant", "The authorization code was already used."
            )
        if time.time() >= grant.expires_at:
            raise OAuthError("invalid_grant", "The authorization code expired.")
        if redirect_uri != grant.redirect_uri:
            raise OAuthError(
                "invalid_grant",
                "redirect_uri doesn't match the one in the authorize request.",
            )
        if grant.code_challenge is not None:
            verifier = params.get("code_verifier", "")
            if not verifier or not hmac.compare_digest(
                pkce_s256(verifier), grant.code_challenge
            ):
                raise OAuthError(
                    "invalid_grant", "The code_verifier doesn't match the challenge."
                )
        grant.used = True
        return state.issue_tokens(
            client_id=client_id,
            account_id=grant.account_id,
            tenant_name=grant.tenant_name,
            scope=grant.scope,
            expires_in=state.config.access_token_lifetime,
            grant_code=code,
        )


def refresh_tokens(
    state: SandboxState, params: Mapping[str, str], client_id: str
) -> TokenSet:
    """Rotate: a new pair replaces the old one, which stops working at once."""
    refresh_token = params.get("refresh_token")
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token is required.")
    with state.lock:
        old = state.find_refresh_token(refresh_token)
        if old is None or old.revoked or old.client_id != client_id:
            raise OAuthError(
                "invalid_grant", "The refresh token is invalid, used or revoked."
            )
        state.revoke(old, "refreshed")
        return state.issue_tokens(
            client_id=client_id,
            account_id=old.account_id,
            tenant_name=old.tenant_name,
            scope=old.scope,
            expires_in=state.config.refreshed_token_lifetime,
            grant_code=old.grant_code,
        )


def revoke_token(state: SandboxState, token: str, client_id: str) -> bool:
    """RFC 7009: revoke the pair ``token`` belongs to. False if nothing to do."""
    with state.lock:
        token_set = state.find_access_token(token) or state.find_refresh_token(token)
        if token_set is None or token_set.client_id != client_id:
            return False
        if token_set.revoked:
            return False
        state.revoke(token_set, "revoked")
        return True


def token_response(token_set: TokenSet) -> dict[str, Any]:
    """The success body of Kit's token endpoint (KIT_PLATFORM.md section 4)."""
    return {
        "access_token": token_set.access_token,
        "token_type": "Bearer",
        "expires_in": token_set.expires_in,
        "refresh_token": token_set.refresh_token,
        "scope": token_set.scope,
        "created_at": token_set.created_at,
    }
