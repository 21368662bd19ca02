"""Kit's token endpoint rules, as plain functions over a ``SandboxState``:
client authentication, the code exchange (PKCE included), refresh token
rotation and revocation.

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
from dataclasses import dataclass
from typing import Any

from ..registration import SandboxConfig
from ..state import CodeGrant, IssuedTokens, SandboxState


class OAuthError(Exception):
    """An error the token endpoint reports as ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def to_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class ClientCredentials:
    client_id: str | None
    client_secret: str | None
    basic_auth: bool


def _require(params: Mapping[str, str], *names: str) -> None:
    """``invalid_request`` unless every field in ``names`` is sent, not empty."""
    if not all(params.get(name) for name in names):
        verb = "is" if len(names) == 1 else "are"
        raise OAuthError("invalid_request", f"{' and '.join(names)} {verb} required.")


def pkce_s256(verifier: str) -> str:
    """RFC 7636's S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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
) -> IssuedTokens:
    """Handle one token request body; return the new tokens or raise."""
    _require(params, "grant_type")
    grant_type = params["grant_type"]
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
) -> IssuedTokens:
    _require(params, "code", "redirect_uri")
    code, redirect_uri = params["code"], params["redirect_uri"]
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
        if grant.code_challenge is None:
            if "code_verifier" in params:
                # RFC 9700 4.8.2 (PKCE downgrade): a verifier for a code issued
                # without a challenge means the challenge was stripped on the way
                # to the consent screen. Refuse, as Doorkeeper does.
                raise OAuthError(
                    "invalid_grant",
                    "code_verifier was sent, but the authorize request that "
                    "issued this code had no code_challenge.",
                )
        else:
            verifier = params.get("code_verifier", "")
            if not verifier or not hmac.compare_digest(
                pkce_s256(verifier), grant.code_challenge
            ):
                raise OAuthError(
                    "invalid_grant", "The code_verifier doesn't match the challenge."
                )
        grant.used = True
        return _issue(state, client_id, grant, state.config.access_token_lifetime)


def refresh_tokens(
    state: SandboxState, params: Mapping[str, str], client_id: str
) -> IssuedTokens:
    """Rotate: a new pair replaces the old one, which stops working at once."""
    _require(params, "refresh_token")
    refresh_token = params["refresh_token"]
    with state.lock:
        old = state.find_refresh_token(refresh_token)
        if old is None or old.revoked or old.client_id != client_id:
            raise OAuthError(
                "invalid_grant", "The refresh token is invalid, used or revoked."
            )
        state.revoke(old, "refreshed")
        return _issue(state, client_id, old, state.config.refreshed_token_lifetime)


def _issue(
    state: SandboxState,
    client_id: str,
    source: CodeGrant | IssuedTokens,
    expires_in: int,
) -> IssuedTokens:
    """New tokens for the account, tenant and scope that ``source`` (a code, or
    the tokens a refresh replaces) was granted for, in the same lineage."""
    grant_code = source.code if isinstance(source, CodeGrant) else source.grant_code
    return state.issue_tokens(
        client_id=client_id,
        account_id=source.account_id,
        tenant_name=source.tenant_name,
        scope=source.scope,
        expires_in=expires_in,
        grant_code=grant_code,
    )


def revoke_token(state: SandboxState, token: str, client_id: str) -> bool:
    """RFC 7009: revoke the pair ``token`` belongs to. False if nothing to do."""
    with state.lock:
        tokens = state.find_access_token(token) or state.find_refresh_token(token)
        if tokens is None or tokens.client_id != client_id:
            return False
        if tokens.revoked:
            return False
        state.revoke(tokens, "revoked")
        return True


def live_grants(state: SandboxState) -> list[dict[str, Any]]:
    """Every token pair not revoked (expired access tokens included: their
    refresh token still works), oldest first, without the tokens themselves.

    Each pair is a grant of its own: revoking one (RFC 7009) never touches
    another pair of the same account, as Doorkeeper keeps one row per pair.
    (Kit also marks the install uninstalled on a revoke; the sandbox keeps no
    install flag, so only the revoked pair dies.)
    """
    with state.lock:
        return [
            {
                "account_id": tokens.account_id,
                "tenant_name": tokens.tenant_name,
                "scope": tokens.scope,
                "created_at": tokens.created_at,
                "expires_at": int(tokens.expires_at),
            }
            for tokens in state.token_sets
            if not tokens.revoked
        ]


def token_response(tokens: IssuedTokens) -> dict[str, Any]:
    """The success body of Kit's token endpoint (KIT_PLATFORM.md section 4)."""
    return {
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
        "created_at": tokens.created_at,
    }
