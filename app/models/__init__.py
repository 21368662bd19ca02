"""The app's data: its own users and their Kit connections (accounts.py), and
the Kit data kept locally (kit_data.py). Import the models from here."""

from app.models.accounts import (
    ConnectionEvent,
    KitConnection,
    OAuthAttempt,
    RetiredGrant,
    User,
    new_session_token,
    utcnow,
)
from app.models.kit_data import (
    GrowthDay,
    LegacyWebhook,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = [
    "ConnectionEvent",
    "GrowthDay",
    "KitConnection",
    "LegacyWebhook",
    "OAuthAttempt",
    "RetiredGrant",
    "User",
    "WebhookEndpoint",
    "WebhookEvent",
    "new_session_token",
    "utcnow",
]
