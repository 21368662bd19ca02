"""What Kit knows about our app (its registration in Kit's developer
settings), and the sandbox's timing knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The wording of Kit's one scope ("public"), on the App Store page and the
#: consent screen.
PERMISSION = "Access your Kit account"

#: Settings that may be changed while the sandbox runs (``POST /_sandbox/settings``).
TUNABLE_SETTINGS = (
    "access_token_lifetime",
    "refreshed_token_lifetime",
    "code_lifetime",
    "latency_ms",
    "rate_limit",
    "rate_window",
    "webhook_batch_seconds",
    "webhook_rotation_seconds",
)


@dataclass
class SandboxConfig:
    """What Kit knows about our app, as entered in Kit's developer settings.

    ``client_secret=None`` models "Secure application" switched off: a public
    client, which must use PKCE (S256) and is never asked for a secret.
    """

    client_id: str = "kit-starter-sandbox"
    client_secret: str | None = "sandbox-secret"  # noqa: S105 (not a real secret)
    redirect_uris: list[str] = field(
        default_factory=lambda: ["http://127.0.0.1:5000/kit/oauth/callback"]
    )
    #: The app's "Authorization URL": where the App Store's Install button goes.
    authorization_url: str = "http://127.0.0.1:5000/kit/oauth"
    app_name: str = "Kit App Starter"
    app_description: str = (
        "See your Kit audience at a glance: your account, your growth and your "
        "latest broadcasts, in one dashboard."
    )
    app_id: int = 4242
    #: The app's allow-listed ``return_to`` domains (Kit's app settings, since
    #: October 2025): the install link refuses a ``return_to`` on any other
    #: host. A domain also allows its subdomains.
    return_to_domains: list[str] = field(
        default_factory=lambda: ["127.0.0.1", "localhost"]
    )
    #: ``expires_in`` after a code exchange (Kit documents 48 h).
    access_token_lifetime: int = 172800
    #: ``expires_in`` after a refresh (Kit documents 2 h).
    refreshed_token_lifetime: int = 7200
    code_lifetime: int = 600
    #: Added to every token, revoke and /v4 API call, to make slowness visible.
    latency_ms: int = 0
    #: Kit's limit: ``rate_limit`` /v4 requests per access token in any rolling
    #: ``rate_window`` seconds; more get a plain-text 429 (KIT_PLATFORM.md §5).
    rate_limit: int = 600
    rate_window: float = 60.0
    #: Webhooks 2.0 (KIT_PLATFORM.md §5a), Kit's hours compressed to seconds:
    #: the wait before each retry (Kit: 30 s, 2 min, 15 min, 1 h, 4 h, 12 h,
    #: 24 h), so 8 attempts in all; then the delivery is failed.
    webhook_retry_seconds: tuple[float, ...] = (1, 2, 4, 8, 15, 30, 60)
    #: Events of one type for one endpoint that happen within this many seconds
    #: of the first go out together (up to 100 per delivery).
    webhook_batch_seconds: float = 0.5
    #: How long the previous secret stays valid after ``rotate_secret``.
    webhook_rotation_seconds: float = 86400.0
    #: How long a delivery waits for the receiver's answer.
    webhook_timeout: float = 5.0
    #: Plugin access (KIT_PLATFORM.md §8): the app's own OAuth server, as
    #: entered in Kit's app settings. ``plugin_client_id=None``: no plugin
    #: access, and Install goes straight to the API OAuth.
    plugin_authorize_url: str | None = None
    plugin_token_url: str | None = None
    plugin_refresh_url: str | None = None
    plugin_revoke_url: str | None = None
    plugin_client_id: str | None = None
    plugin_client_secret: str | None = None
    #: What the sandbox sends as the bearer token on plugin calls
    #: (``kit_sandbox.plugins.tokens.bearer_for``): "valid" (refreshed when
    #: expired), "wrong", "expired" (never refreshed) or "foreign" (another
    #: account's valid token).
    plugin_token_mode: str = "valid"  # noqa: S105 (a mode, not a secret)
    #: The app's content blocks, as the developer pasted them into Kit: the
    #: ``blocks`` of ``flask kit plugins --json`` (the email editor's menu).
    plugin_blocks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def has_plugins(self) -> bool:
        return bool(self.plugin_client_id and self.plugin_authorize_url)

    @property
    def is_public_client(self) -> bool:
        return self.client_secret is None

    def settings(self) -> dict[str, int | float]:
        return {name: getattr(self, name) for name in TUNABLE_SETTINGS}
