"""The Kit sandbox: a local, in-memory stand-in for Kit, served over real HTTP.

It plays both of Kit's origins on one loopback port:

* the web origin a creator's browser sees: ``/apps/<app_id>`` (the App Store
  page and, with ``?success=true``, the "App installed" page) and
  ``/apps/<app_id>/install`` (``store/``), and the consent screen at
  ``/v4/oauth/authorize`` (legacy ``/oauth/authorize``; ``oauth/``);
* the API origin our server calls: ``POST /v4/oauth/token`` and
  ``/v4/oauth/revoke`` (legacy ``/oauth/token``, ``/oauth/revoke``;
  ``oauth/``), and API v4 with a bearer token, scoped to the token's account
  (``api/``): ``GET /v4/account``, ``/v4/account/growth_stats``,
  ``/v4/account/email_stats``, ``GET``/``POST /v4/subscribers``, ``GET
  /v4/subscribers/<id>`` and ``/v4/subscribers/<id>/tags``,
  ``GET``/``POST /v4/tags``, ``GET``/``POST``/``DELETE
  /v4/tags/<tag_id>/subscribers``, ``POST``/``DELETE
  /v4/tags/<tag_id>/subscribers/<id>``, ``GET /v4/custom_fields``,
  ``/v4/forms``, ``/v4/sequences``, ``/v4/broadcasts``,
  ``/v4/broadcasts/stats``, ``/v4/broadcasts/<id>`` and
  ``/v4/broadcasts/<id>/stats``. Lists use Kit's
  cursor pagination (``api/pagination.py``); writes take JSON only;
* Webhooks 2.0 (``webhooks/``): ``/v4/webhook_endpoints`` and its delivery
  history on the API origin, and signed, batched, retried deliveries from a
  dispatcher thread that ``SandboxServer`` runs.

It follows KIT_PLATFORM.md: exact redirect URIs, PKCE S256 (required for a
public client), single-use codes, rotating refresh tokens, Kit's error shapes,
and Kit's rate limit: ``rate_limit`` (600) requests per access token in any
rolling ``rate_window`` (60 s), then a plain-text 429 without Retry-After.

The demo data (``seed/``) is the same on every run, dated relative to when it
is first used after a start or ``reset()``: Ada's Kitchen (1001) has 2,600
subscribers, tags, forms, sequences and 25 broadcasts; Byte-Sized Notes (1002)
a small list; Quiet Trails Newsletter (1003) nothing at all.

Control API (JSON, **no authentication, loopback clients only**; never expose
the sandbox beyond 127.0.0.1; ``control.py``): ``GET /_sandbox/stats``, ``GET
/_sandbox/requests``, ``POST /_sandbox/faults`` ``{"endpoint", "kind",
"times"}``, ``DELETE /_sandbox/faults``, ``POST /_sandbox/settings`` (any of
``access_token_lifetime``, ``refreshed_token_lifetime``, ``code_lifetime``,
``latency_ms``, ``rate_limit``, ``rate_window``, ``webhook_batch_seconds``,
``webhook_rotation_seconds``, ``timeout_seconds``), ``POST
/_sandbox/expire-tokens``, ``POST /_sandbox/revoke-account``
``{"account_id"}``, ``POST /_sandbox/reset``; for webhooks (``webhooks/views.py``)
``GET``/``POST /_sandbox/activity`` (the **Make activity** page, and ``{"account_id",
"kind": "burst"|"batch"}``), ``GET /_sandbox/webhooks``, ``POST
/_sandbox/webhooks/enabled`` ``{"account_id", "enabled"}`` and ``POST
/_sandbox/webhooks/flush``.

The layout, one Flask blueprint per concern:

* ``store/``: the App Store pages (blueprint ``store``);
* ``oauth/``: the consent screen, the token and revoke endpoints (blueprint
  ``oauth``) and the rules behind them (``authorize.py``, ``grants.py``);
* ``api/``: API v4 (blueprint ``api``), its parameters and pagination;
* ``webhooks/``: Webhooks 2.0 (its API routes on ``api``; blueprint
  ``webhooks`` for the activity page and its control routes);
* ``plugins/``: Kit's plugin side: the plugin OAuth client and tokens, and
  the email editor at ``/email-editor`` (blueprint ``editor``) that inserts
  the app's content blocks (``choices.py``: what the docs leave open);
* ``seed/``: the demo accounts and what they hold;
* ``control.py``: the control API (blueprint ``control``).

At the top level, what they all share: ``registration.py`` (``SandboxConfig``:
what Kit knows about our app, and the timing knobs), ``state.py``
(``SandboxState``: accounts, codes, ``IssuedTokens``, faults, request logs),
``records.py`` and ``audience.py`` (an account's subscribers, tags, forms...),
``faults.py`` (latency and planned failures), ``ratelimit.py``, ``urls.py``
and ``error_page.py``; and the ways to run it: ``factory.py``
(``create_sandbox_app``), ``server.py`` (``SandboxServer``; with a
``state_file``, ``persistence.py`` keeps the state across restarts), ``cli.py``
(``python -m kit_sandbox``) and ``testing.py`` (drivers for tests and
benchmarks).

In the same process, use the ``SandboxState`` directly::

    kit = SandboxServer().start()
    kit.state.add_fault("token", "500")
    ...
    kit.stop()
"""

from .factory import create_sandbox_app
from .registration import SandboxConfig
from .server import SandboxServer
from .state import SandboxState

__all__ = ["SandboxConfig", "SandboxServer", "SandboxState", "create_sandbox_app"]
