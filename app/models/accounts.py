"""The app's own users, their Kit connections and what happened to them,
pending OAuth attempts, and the token pairs retired until revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import (
    Mapped,
    WriteOnlyMapped,
    mapped_column,
    query_expression,
    relationship,
)
from werkzeug.security import check_password_hash, generate_password_hash

from app.crypto import EncryptedText, UTCDateTime
from app.extensions import db
from app.kit.times import AccountZone


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Carried by every session of this user (see get_id) and replaced at
    # sign-out, password change and reset: the sessions that hold the old one
    # end, wherever they are.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # When the owner of the address followed our link; None: not yet, and the
    # account cannot sign in.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When they agreed to what the app keeps about a Kit account (the notice
    # before consent, app/install/agreement.py); None: not yet, and no install
    # goes on to Kit until they have.
    data_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    connections: Mapped[list[KitConnection]] = relationship(
        back_populates="user", order_by="KitConnection.id"
    )

    @staticmethod
    def normalize_email(email: str) -> str:
        return email.strip().lower()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Flask-Login's "alternative id": what the session keeps, so that a new
        session token signs out every session made before it."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Every session of this user made so far stops working (on commit)."""
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class KitConnection(db.Model):
    """One Kit account (per tenant name) connected by one user of this app.

    Identity is (user, Kit account id, tenant name): installing again with the
    same Kit account updates this row rather than adding one. If a second user of
    this app connects a Kit account that is already connected, they get their own
    row with their own token set; neither sees the other's.
    """

    __tablename__ = "kit_connections"
    __table_args__ = (
        UniqueConstraint("user_id", "kit_account_id", "tenant_name"),
        # `flask kit refresh-due` reads only the connections about to expire.
        Index("ix_kit_connections_status_expires_at", "status", "expires_at"),
    )

    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    REVOKED = "revoked"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kit_account_id: Mapped[str] = mapped_column(String(64))
    # "" rather than NULL when no tenant was given: NULLs never collide in a
    # unique constraint, which would let duplicates in.
    tenant_name: Mapped[str] = mapped_column(String(255), default="")
    account_name: Mapped[str] = mapped_column(String(255), default="")
    account_email: Mapped[str] = mapped_column(String(254), default="")
    # The account's sending time zone, as Kit gave it with the account (IANA
    # name and Kit's label for it): Kit's days, and the times pages show, are
    # in it. "" when not known yet (a row from before it was kept): UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="")
    timezone_label: Mapped[str] = mapped_column(String(100), default="")
    access_token: Mapped[str | None] = mapped_column(EncryptedText)
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the current pair was received: with expires_at, the token's lifetime.
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    last_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(255))
    # A refresh in flight: who claimed it (a random id) and until when. Taken and
    # released in short transactions of their own, never held across the call
    # to Kit (app/kit/tokens.py); a claim past its time was left by a dead worker.
    refresh_claim: Mapped[str | None] = mapped_column(String(64))
    refresh_claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of a refresh token sent to Kit whose answer never arrived (Kit
    # silent past KIT_TOKEN_TIMEOUT, a worker killed mid-call): Kit may have
    # rotated it. Tied to that token, so a new pair (refresh, reinstall) ends it.
    unsettled_refresh: Mapped[str | None] = mapped_column(String(64))
    # Kit's event types the creator does not want kept (space-separated, set
    # on the settings page): their deliveries are acknowledged, not stored.
    events_not_kept: Mapped[str] = mapped_column(String(2048), default="")
    # A run of `register_legacy_rules` in progress, until then: one at a time
    # per connection (app/webhooks/legacy_turn.py), never held across Kit.
    legacy_rules_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When Kit told us the creator uninstalled the app (its plugin revoke
    # call, app/plugins/uninstall.py); cleared by the next install.
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    user: Mapped[User] = relationship(back_populates="connections")
    # Its webhook endpoint's status, read with the row where a page needs it
    # (`app.auth.sessions.load_user`: the signed-in user's connections, in the
    # same query as the user); None where the row was loaded without it.
    webhook_status: Mapped[str | None] = query_expression()
    events: WriteOnlyMapped[ConnectionEvent] = relationship(
        back_populates="connection",
        order_by="ConnectionEvent.id.desc()",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def refresh_outcome_unknown(self) -> bool:
        """A refresh with the stored refresh token went unanswered: "checking"
        while active; once Kit refuses that token, a pair lost in transit is as
        likely as a revoked grant, so the creator is not told they revoked it."""
        token = self.refresh_token
        return bool(
            self.unsettled_refresh
            and token
            and hashlib.sha256(token.encode()).hexdigest() == self.unsettled_refresh
        )

    @property
    def kinds_not_kept(self) -> frozenset[str]:
        return frozenset(self.events_not_kept.split())

    @property
    def zone(self) -> AccountZone:
        return AccountZone.of(self.timezone, self.timezone_label)

    @property
    def label(self) -> str:
        name = self.account_name or f"Kit account {self.kit_account_id}"
        return f"{name} ({self.tenant_name})" if self.tenant_name else name

    def __repr__(self) -> str:
        # Never the tokens.
        return (
            f"<KitConnection {self.id} account={self.kit_account_id} "
            f"status={self.status}>"
        )


class OAuthAttempt(db.Model):
    """One trip to Kit's consent screen, from `/kit/oauth` to the callback.

    Holds what must not travel through the browser: the PKCE verifier
    (encrypted) and the Kit `redirect` to finish on. The `state` itself is kept
    only as a SHA-256 hash; the browser's session holds the value.
    """

    __tablename__ = "oauth_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_verifier: Mapped[str] = mapped_column(EncryptedText)
    return_to: Mapped[str | None] = mapped_column(String(2048))
    tenant_name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def expired(self, ttl_seconds: int, now: datetime | None = None) -> bool:
        return (now or utcnow()) > self.created_at + timedelta(seconds=ttl_seconds)

    def __repr__(self) -> str:
        return f"<OAuthAttempt {self.id} user={self.user_id}>"


class ConnectionEvent(db.Model):
    """The audit trail of one connection: what happened to its grant, and why.

    Never holds a secret: `reason` is our own wording or Kit's OAuth error code.
    """

    __tablename__ = "connection_events"

    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    REFRESHED = "refreshed"
    REFRESH_FAILED = "refresh_failed"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"
    DATA_DELETED = "data_deleted"  # the stored Kit data, by the creator or a job
    UNINSTALLED = "uninstalled"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    connection: Mapped[KitConnection] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<ConnectionEvent {self.kind} connection={self.connection_id}>"


class RetiredGrant(db.Model):
    """A token pair the app no longer uses, kept (encrypted) until Kit has
    revoked it: replaced by a reinstall, lost in a race of two installs, or
    orphaned by a failed step after the code exchange.

    `connection_id` is only a note of where the pair came from: SET NULL, not
    CASCADE, so deleting the connection never loses a grant still to revoke.
    `next_attempt_at` NULL means the job gave up (see `app.kit.grants`).
    """

    __tablename__ = "retired_grants"
    # The sweep reads only the rows whose next attempt is due.
    __table_args__ = (Index("ix_retired_grants_next_attempt_at", "next_attempt_at"),)

    REPLACED = "replaced"
    LOST_RACE = "lost_race"
    ORPHANED = "orphaned"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("kit_connections.id", ondelete="SET NULL"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    access_token: Mapped[str] = mapped_column(EncryptedText)
    refresh_token: Mapped[str] = mapped_column(EncryptedText)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, default=utcnow
    )
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        # Never the tokens.
        return (
            f"<RetiredGrant {self.id} connection={self.connection_id} "
            f"reason={self.reason} attempts={self.attempts}>"
        )
