"""The Kit sandbox: a local, in-memory stand-in for Kit, served over real HTTP.

It plays both of Kit's origins on one loopback port:

* the web origin a creator's browser sees: ``/apps/<app_id>`` (the App Store
  page and, with ``?success=true``, the "App installed" page),
  ``/apps/<app_id>/install`` and the consent screen at ``/v4/oauth/authorize``
  (legacy ``/oauth/authorize``);
* the API origin our server calls: ``POST /v4/oauth/token`` and
  ``/v4/oauth/revoke`` (legacy ``/oauth/token``, ``/oauth/revoke``) and
  ``GET /v4/account``.

It follows KIT_PLATFORM.md: exact redirect URIs, PKCE S256 (required for a
public client), single-use codes, rotating refresh tokens, Kit's error shapes.

Control API (JSON, **no authentication, loopback clients only**; never expose
the sandbox beyond 127.0.0.1): ``GET /_sandbox/stats``, ``GET
/_sandbox/requests``, ``POST /_sandbox/faults`` ``{"endpoint", "kind",
"times"}``, ``DELETE /_sandbox/faults``, ``POST /_sandbox/settings`` (any of
``access_token_lifetime``, ``refreshed_token_lifetime``, ``code_lifetime``,
``latency_ms``, ``timeout_seconds``), ``POST /_sandbox/expire-tokens``,
``POST /_sandbox/revoke-account`` ``{"account_id"}``, ``POST /_sandbox/reset``.

In the same process, use the ``SandboxState`` directly::

    kit = SandboxServer().start()
    kit.state.add_fault("token", "500")
    ...
    kit.stop()
"""

from .config import SandboxConfig
from .factory import create_sandbox_app
from .server import SandboxServer
from .state import SandboxState

__all__ = ["SandboxConfig", "SandboxServer", "SandboxState", "create_sandbox_app"]
