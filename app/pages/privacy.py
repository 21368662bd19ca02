"""What the app stores, read from its own models, for the privacy page.

The list of tables, their columns and which columns are encrypted come from
the SQLAlchemy metadata, and the retention figures from the settings, so the
page cannot drift from the schema: a table added by a migration appears on
the page at once, and `tests/test_help_pages.py` fails until `PURPOSES`
says in words what it holds and for how long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.crypto import EncryptedText
from app.extensions import db
from app.install.flow import ATTEMPTS_KEPT


def holds_email(column: str) -> bool:
    """The column's name says it holds an email address (a person's data)."""
    return column == "email" or column.endswith("_email")


@dataclass(frozen=True)
class Purpose:
    what: str  # what a row is, for the creator
    kept: str  # how long; "{events_days}" and "{attempt_hours}" are filled in


# table name -> what it holds and how long. Every table needs a row.
PURPOSES: dict[str, Purpose] = {
    "users": Purpose(
        "Your account here: your email address, a hash of your password (never "
        "the password itself), when you signed up and confirmed your address, "
        "and when you agreed to what the app keeps about your Kit accounts.",
        "As long as your account exists; ask support to delete it.",
    ),
    "kit_connections": Purpose(
        "Each Kit account you connect: its Kit id, name, sending email address "
        "and time zone, the access and refresh tokens Kit issued (encrypted), "
        "their expiry and the connection's status.",
        "While connected. Disconnecting (or uninstalling at Kit) revokes the "
        "tokens at Kit and deletes them here; the name stays so that your Kit "
        "accounts page can show the connection's history.",
    ),
    "connection_events": Purpose(
        "Each connection's history: connected, refreshed, reconnect needed, "
        "disconnected, with the reason Kit gave.",
        "With the connection.",
    ),
    "oauth_attempts": Purpose(
        "A trip to Kit's consent screen in progress: a hash of its state, the "
        "PKCE verifier (encrypted) and the Kit page to return to.",
        "Single use; deleted after {attempt_hours} hours.",
    ),
    "retired_grants": Purpose(
        "Tokens the app stopped using (a reinstall replaced them), encrypted, "
        "waiting to be revoked at Kit.",
        "Until Kit confirms the revocation (retried for about six days).",
    ),
    "growth_days": Purpose(
        "Your finished days of Kit's growth figures: subscriber counts, new "
        "subscribers, cancellations. Counts only, no subscriber.",
        "While connected; deleted when you disconnect.",
    ),
    "webhook_endpoints": Purpose(
        "The address Kit sends your account's events to, and its signing "
        "secret (encrypted).",
        "While connected; the secret is deleted when you disconnect.",
    ),
    "webhook_events": Purpose(
        "The events Kit sends for your account (the activity feed). Events "
        "carry your subscribers' email addresses and what happened (a tag "
        "added, a form filled in, an unsubscribe).",
        "{events_days} days after they arrive (a daily job deletes older ones); "
        "all of them when you disconnect.",
    ),
    "legacy_webhooks": Purpose(
        "The rules of Kit's older webhooks the app set up for your account "
        "(purchases, link clicks): the event, the product or link followed, "
        "and a hash of the key in the address Kit sends them to.",
        "While connected; deleted at Kit, and marked gone here, when you disconnect.",
    ),
    "plugin_grants": Purpose(
        "Your yes to Kit on this app's plugin screen (Kit's email editor "
        "blocks): which of your Kit connections Kit's plugin calls may read.",
        "As long as your account exists; ended (marked revoked) when you "
        "uninstall the app at Kit or install it again.",
    ),
    "plugin_codes": Purpose(
        "The one-time codes handed to Kit during a plugin install: a hash of "
        "each, never the code itself.",
        "Single use, valid for minutes; kept with their grant.",
    ),
    "plugin_tokens": Purpose(
        "The tokens Kit holds for this app's plugin calls: hashes only (the "
        "tokens themselves exist only at Kit).",
        "With their grant; each works until it expires or is refreshed, "
        "and none after an uninstall.",
    ),
}


@dataclass(frozen=True)
class StoredTable:
    name: str
    what: str
    kept: str
    columns: list[str]
    encrypted: list[str]
    emails: list[str]


def what_is_stored(config: Mapping[str, Any]) -> list[StoredTable]:
    """Every table of the app's schema, described, in the schema's order."""
    figures = {
        "events_days": config["WEBHOOK_EVENTS_KEPT_DAYS"],
        "attempt_hours": int(ATTEMPTS_KEPT.total_seconds() // 3600),
    }
    found = []
    for table in db.metadata.sorted_tables:
        purpose = PURPOSES.get(
            table.name,
            Purpose(f"Kept by the app in its {table.name} table.", "Not described."),
        )
        columns = [c.name for c in table.columns]
        found.append(
            StoredTable(
                name=table.name,
                what=purpose.what,
                kept=purpose.kept.format(**figures),
                columns=columns,
                encrypted=[
                    c.name for c in table.columns if isinstance(c.type, EncryptedText)
                ],
                emails=[c for c in columns if holds_email(c)],
            )
        )
    return found


def undescribed() -> list[str]:
    """Tables of the schema that `PURPOSES` says nothing about."""
    return [t.name for t in db.metadata.sorted_tables if t.name not in PURPOSES]
