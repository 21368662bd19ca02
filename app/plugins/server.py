"""The app's OAuth 2 authorization server, for one client: Kit (plugin access,
KIT_PLATFORM.md §8). Authlib does the protocol; this module says where codes
and tokens live and what Kit may do:

- authorization code: Kit authenticates with its secret (form body, JSON body
  or Basic); codes are single use, live CODE_SECONDS, and are bound to the
  client and redirect URI they were issued for;
- refresh: no secret (Kit's documented call), and rotation: each refresh
  token works once, the pair it belonged to is revoked;
- revoke: with the secret; any token, known or not, is answered 200 (RFC 7009).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Flask, current_app
from sqlalchemy import select, update

from app.extensions import db
from app.models import PluginCode, PluginGrant, PluginToken, token_hash, utcnow
from app.plugins.kit_request import KitRequest

CODE_SECONDS = 300  # Kit exchanges the code as soon as the browser is back
ACCESS_SECONDS = 2 * 60 * 60  # Kit refreshes when it expires
SECRET_METHODS = ["client_secret_basic", "client_secret_post"]


@dataclass(frozen=True)
class KitClient(ClientMixin):  # type: ignore[misc]
    """Kit, the one client: its id and secret are the app's settings
    (KIT_PLUGIN_CLIENT_ID/SECRET), its redirect URIs the two Kit documents."""

    client_id: str
    client_secret: str = field(repr=False)  # Authlib logs the client at DEBUG
    redirect_uris: tuple[str, ...] = ()

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        # Kit's plugin scopes are names without spaces; keep what was asked.
        return (scope or "")[:255]

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        # Bytes: compare_digest refuses a str that is not ASCII.
        return hmac.compare_digest(
            str(client_secret).encode(), self.client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # "none" only reaches here from the refresh grant (its own list).
        return method in SECRET_METHODS or (method == "none" and endpoint == "token")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


def kit_client() -> KitClient | None:
    """Kit as configured, or None when plugins are off (no id or secret)."""
    config = current_app.config
    client_id = config["KIT_PLUGIN_CLIENT_ID"]
    secret = config["KIT_PLUGIN_CLIENT_SECRET"]
    if not (client_id and secret):
        return None
    kit = config["KIT_APP_URL"]
    return KitClient(client_id, secret, (f"{kit}/apps/install", f"{kit}/apps"))


def query_client(client_id: object) -> KitClient | None:
    client = kit_client()
    if client is None or not isinstance(client_id, str):
        return None
    if not hmac.compare_digest(client_id.encode(), client.client_id.encode()):
        return None
    return client


class PluginServer(AuthorizationServer):  # type: ignore[misc]
    def create_oauth2_request(self, request: object) -> KitRequest:
        return KitRequest()


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        grant: PluginGrant = request.user
        db.session.add(
            PluginCode(
                code_hash=token_hash(code),
                grant_id=grant.id,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=grant.scope,
                expires_at=utcnow() + timedelta(seconds=CODE_SECONDS),
            )
        )
        db.session.commit()

    def query_authorization_code(
        self, code: str, client: KitClient
    ) -> PluginCode | None:
        """Spend the code here, atomically: of two exchanges of one code, one
        wins. A code presented again ends its grant (RFC 6749 §4.1.2: it may
        have been stolen), tokens included."""
        found = db.session.scalar(
            select(PluginCode).where(PluginCode.code_hash == token_hash(code))
        )
        if found is None or found.client_id != client.client_id:
            return None
        spent = db.session.execute(
            update(PluginCode)
            .where(PluginCode.id == found.id, PluginCode.used_at.is_(None))
            .values(used_at=utcnow())
        )
        db.session.commit()
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            revoke_grant(found.grant, PluginGrant.CODE_REPLAYED)
            return None
        if utcnow() >= found.expires_at or found.grant.revoked_at is not None:
            return None
        return found

    def delete_authorization_code(self, authorization_code: PluginCode) -> None:
        pass  # spent in query_authorization_code; kept for the replay check

    def authenticate_user(self, authorization_code: PluginCode) -> PluginGrant:
        return authorization_code.grant


class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]  # Kit sends no secret
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> PluginToken | None:
        token = db.session.scalar(
            select(PluginToken).where(
                PluginToken.refresh_token_hash == token_hash(refresh_token)
            )
        )
        if token is None or token.is_revoked():
            return None
        # Spent here, atomically: of two refreshes with one token, one wins.
        spent = db.session.execute(
            update(PluginToken)
            .where(PluginToken.id == token.id, PluginToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        db.session.commit()
        return token if spent.rowcount == 1 else None  # type: ignore[attr-defined]

    def authenticate_user(self, refresh_token: PluginToken) -> PluginGrant:
        return refresh_token.grant

    def revoke_old_credential(self, refresh_token: PluginToken) -> None:
        pass  # spent in authenticate_refresh_token, with the pair's access token


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = SECRET_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Any:
        hashed = token_hash(token_string)
        return db.session.scalar(
            select(PluginToken).where(
                (PluginToken.access_token_hash == hashed)
                | (PluginToken.refresh_token_hash == hashed)
            )
        )

    def revoke_token(self, token: PluginToken, request: OAuth2Request) -> None:
        from app.plugins.uninstall import uninstall

        uninstall(token.grant)


def save_token(token: dict[str, Any], request: OAuth2Request) -> None:
    """Store a new pair as hashes; the answer to Kit carries the values."""
    grant: PluginGrant = request.user
    now = utcnow()
    token["created_at"] = int(now.timestamp())
    db.session.add(
        PluginToken(
            grant_id=grant.id,
            client_id=request.client.client_id,
            access_token_hash=token_hash(token["access_token"]),
            refresh_token_hash=token_hash(token["refresh_token"]),
            scope=token.get("scope") or "",
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
        )
    )
    db.session.commit()


def revoke_grant(grant: PluginGrant, reason: str) -> None:
    """End a grant and every token issued on it (idempotent)."""
    now = utcnow()
    if grant.revoked_at is None:
        grant.revoked_at, grant.revoked_reason = now, reason
    db.session.execute(
        update(PluginToken)
        .where(PluginToken.grant_id == grant.id, PluginToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.commit()


def oauth_server() -> PluginServer:
    server: PluginServer = current_app.extensions["plugin_server"]
    return server


def init_app(app: Flask) -> None:
    """One server per app (Authlib's reads the app's config once)."""
    app.config.setdefault(
        "OAUTH2_TOKEN_EXPIRES_IN",
        {"authorization_code": ACCESS_SECONDS, "refresh_token": ACCESS_SECONDS},
    )
    app.config.setdefault("OAUTH2_REFRESH_TOKEN_GENERATOR", True)
    server = PluginServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_grant(CodeGrant)
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    app.extensions["plugin_server"] = server
