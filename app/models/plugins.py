"""Kit as our OAuth client (plugin access, KIT_PLATFORM.md §8): the grants a
creator gives Kit, the authorization codes and the token pairs issued on them.

Codes and tokens are kept only as SHA-256 hashes: a copy of the database
cannot call a plugin route. A grant belongs to one user of this app and is
linked to the Kit connection made in the same install (app/plugins/links.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import UTCDateTime
from app.extensions import db
from app.models.accounts import KitConnection, User, utcnow


def token_hash(value: str) -> str:
    """What is stored for a code or token: its SHA-256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()


class PluginGrant(db.Model):
    """A creator's "yes" to Kit on our authorize screen: the codes and tokens
    issued on it live and die with it."""

    __tablename__ = "plugin_grants"

    REPLACED = "replaced"  # a reinstall linked a newer grant to the connection
    UNINSTALLED = "uninstalled"  # Kit's revoke call: the creator uninstalled
    CODE_REPLAYED = "code_replayed"  # its code was presented a second time

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Set when the API install that follows in the same browser has stored
    # its connection; NULL until then (plugin calls are refused meanwhile).
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship()
    connection: Mapped[KitConnection | None] = relationship()

    def __repr__(self) -> str:
        return f"<PluginGrant {self.id} user={self.user_id} conn={self.connection_id}>"


class PluginCode(db.Model):
    """An authorization code: single use (`used_at`), short-lived, bound to
    the client and redirect URI it was issued for."""

    __tablename__ = "plugin_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("plugin_grants.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(255))
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[PluginGrant] = relationship()

    # Authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def __repr__(self) -> str:
        return f"<PluginCode {self.id} grant={self.grant_id}>"


class PluginToken(db.Model):
    """One access token and its refresh token, issued together. A refresh
    revokes the pair it spent (rotation): each refresh token works once."""

    __tablename__ = "plugin_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("plugin_grants.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(255))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(255), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[PluginGrant] = relationship()

    # Authlib's TokenMixin
    def check_client(self, client: object) -> bool:
        return getattr(client, "client_id", None) == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return utcnow() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.grant.revoked_at is not None

    def __repr__(self) -> str:
        # Never the tokens, not even their hashes.
        return f"<PluginToken {self.id} grant={self.grant_id}>"
