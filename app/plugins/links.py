"""A plugin grant belongs to the Kit connection made right after it, in the
same browser: Kit runs the plugin OAuth first, then the API install
(KIT_PLATFORM.md §8). The authorize screen leaves the grant's id in the
session; the install callback links it to the connection it stored."""

from __future__ import annotations

from datetime import timedelta

from flask import session
from sqlalchemy import select

from app.extensions import db
from app.models import KitConnection, PluginGrant, User, utcnow
from app.plugins.server import revoke_grant

SESSION_KEY = "plugin_grant"
# The API install follows the plugin OAuth within minutes; a grant older than
# this in the session was left by an install that stopped half-way.
LINK_WINDOW = timedelta(hours=1)


def remember_grant(grant: PluginGrant) -> None:
    session[SESSION_KEY] = grant.id


def link_pending_grant(user: User, connection: KitConnection) -> PluginGrant | None:
    """Link the grant this browser made (if any) to `connection`: the
    install's second half. Called by the install callback."""
    grant_id = session.pop(SESSION_KEY, None)
    if not isinstance(grant_id, int):
        return None
    grant = db.session.get(PluginGrant, grant_id)
    if (
        grant is None
        or grant.user_id != user.id
        or grant.revoked_at is not None
        or grant.created_at < utcnow() - LINK_WINDOW
    ):
        return None
    link(grant, connection)
    return grant


def link(grant: PluginGrant, connection: KitConnection) -> None:
    """Reinstalling replaces, never duplicates: the connection's earlier
    grants end (their tokens stop working) when a new one is linked."""
    earlier = db.session.scalars(
        select(PluginGrant).where(
            PluginGrant.connection_id == connection.id,
            PluginGrant.id != grant.id,
            PluginGrant.revoked_at.is_(None),
        )
    ).all()
    for old in earlier:
        revoke_grant(old, PluginGrant.REPLACED)
    grant.connection_id = connection.id
    db.session.commit()
