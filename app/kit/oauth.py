"""Kit's OAuth endpoints: authorize URL, code exchange, refresh, revoke.

Authlib does the protocol work (PKCE, client authentication, parsing); this
module turns its results and failures into `TokenSet` and the typed errors of
`app.kit.errors`, which is all the rest of the app ever sees.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from urllib3.exceptions import MaxRetryError, NewConnectionError

from app.kit.errors import KitUnavailable, OAuthGrantError, TokenOutcomeUnknown
from app.kit.settings import KitSettings


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"<TokenSet expires_at={self.expires_at.isoformat()}>"


def new_state() -> str:
    return generate_token(43)


def new_code_verifier() -> str:
    # RFC 7636: 43 to 128 characters from the unreserved set.
    return generate_token(64)


def _session(settings: KitSettings, redirect_uri: str | None = None) -> OAuth2Session:
    # Kit's docs put the client credentials in the body; a public client
    # (Secure application off) sends only its client_id, plus PKCE.
    auth_method = "none" if settings.public_client else "client_secret_post"
    session = OAuth2Session(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        token_endpoint_auth_method=auth_method,
        revocation_endpoint_auth_method=auth_method,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    session.headers["User-Agent"] = settings.user_agent
    return session


def authorize_url(
    settings: KitSettings,
    *,
    redirect_uri: str,
    state: str,
    code_verifier: str,
    tenant_name: str = "",
) -> str:
    """The URL of Kit's consent screen for this attempt (PKCE S256 always on)."""
    extra = {"tenant_name": tenant_name} if tenant_name else {}
    with _session(settings, redirect_uri) as session:
        url, _ = session.create_authorization_url(
            settings.authorize_url, state=state, code_verifier=code_verifier, **extra
        )
    return url


def exchange_code(
    settings: KitSettings, *, code: str, code_verifier: str, redirect_uri: str
) -> TokenSet:
    with _session(settings, redirect_uri) as session:
        return _token_call(
            lambda: session.fetch_token(
                settings.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
                timeout=token_timeout(settings),
            )
        )


def token_timeout(settings: KitSettings) -> tuple[float, float]:
    """(connect, read) for Kit's token endpoint: connecting is as quick as for
    any call, the answer gets `KIT_TOKEN_TIMEOUT`. A refresh Kit answers after
    we stopped waiting has rotated the pair all the same, and the code of an
    exchange is spent: waiting longer here is what keeps the only copy."""
    return (settings.timeout, settings.token_timeout)


def refresh(settings: KitSettings, refresh_token: str) -> TokenSet:
    """Spend `refresh_token` for a new pair. Kit rotates: the old one is now dead,
    so the caller must persist the result before anything else can fail."""
    with _session(settings) as session:
        return _token_call(
            lambda: session.refresh_token(
                settings.token_url,
                refresh_token=refresh_token,
                timeout=token_timeout(settings),
            )
        )


def revoke(settings: KitSettings, token: str, token_type_hint: str) -> None:
    """RFC 7009 revocation, form-encoded. Kit answers 200 even for unknown
    tokens, so anything else means Kit did not get to hear it."""
    with _session(settings) as session:
        try:
            # types-Authlib leaves revoke_token unannotated; it returns the
            # requests.Response of the POST.
            response: requests.Response = session.revoke_token(  # type: ignore[no-untyped-call]
                settings.revoke_url,
                token=token,
                token_type_hint=token_type_hint,
                timeout=settings.timeout,
            )
        except requests.RequestException as exc:
            raise KitUnavailable(
                f"Kit's revoke endpoint failed: {type(exc).__name__}"
            ) from None
    if response.status_code != 200:
        raise KitUnavailable(f"Kit's revoke endpoint answered {response.status_code}")


def _token_call(call: Any) -> TokenSet:
    sent_at = time.time()
    try:
        token = call()
    except OAuthError as exc:
        raise OAuthGrantError(exc.error or "error", exc.description or "") from None
    except (requests.RequestException, ValueError) as exc:
        # 5xx, timeouts, connection errors, bodies that are not a JSON object.
        failed = f"Kit's token endpoint failed: {type(exc).__name__}"
        if never_sent(exc):
            raise KitUnavailable(failed) from None
        # Sent, and no usable answer: Kit may have done the work (a late
        # answer, a gateway's 504 in front of a Kit that finished).
        raise TokenOutcomeUnknown(failed) from None
    return token_set_from_response(dict(token), received_at=sent_at)


def never_sent(exc: BaseException) -> bool:
    """The request cannot have reached Kit: no connection was ever made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0]
        if isinstance(reason, MaxRetryError):
            return isinstance(reason.reason, NewConnectionError)
        return isinstance(reason, NewConnectionError)
    return False


def token_set_from_response(body: dict[str, Any], received_at: float) -> TokenSet:
    """Validate a token response and compute its expiry.

    Expiry is `created_at + expires_in` (as Kit's own plugins compute it), bounded
    by our own clock: `received_at + expires_in`, the earlier of the two. A
    response without a token or a lifetime is a failed call, never stored.
    """
    access = body.get("access_token")
    refresh_token = body.get("refresh_token")
    expires_in = body.get("expires_in")
    if not isinstance(access, str) or not access:
        raise TokenOutcomeUnknown("Kit's token response had no access_token")
    if not isinstance(refresh_token, str) or not refresh_token:
        raise TokenOutcomeUnknown("Kit's token response had no refresh_token")
    try:
        lifetime = float(expires_in)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TokenOutcomeUnknown(
            "Kit's token response had no usable expires_in"
        ) from None
    if lifetime <= 0:
        raise TokenOutcomeUnknown("Kit's token response had no usable expires_in")
    expiry = received_at + lifetime
    created_at = body.get("created_at")
    if isinstance(created_at, int | float) and not isinstance(created_at, bool):
        expiry = min(expiry, float(created_at) + lifetime)
    return TokenSet(
        access_token=access,
        refresh_token=refresh_token,
        expires_at=datetime.fromtimestamp(0, UTC) + timedelta(seconds=expiry),
    )
