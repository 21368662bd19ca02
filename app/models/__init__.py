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
from app.models.plugins import PluginCode, PluginGrant, PluginToken, token_hash

__all__ = [
    "ConnectionEvent",
    "GrowthDay",
    "KitConnection",
    "LegacyWebhook",
    "OAuthAttempt",
    "PluginCode",
    "PluginGrant",
    "PluginToken",
    "RetiredGrant",
    "User",
    "WebhookEndpoint",
    "WebhookEvent",
    "new_session_token",
    "token_hash",
    "utcnow",
]
