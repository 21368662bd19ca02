"""Kit's Webhooks 2.0 in the sandbox (KIT_PLATFORM.md §5a).

* ``api_views.py``: ``/v4/webhook_endpoints`` (create, list, get, update,
  delete, rotate and revoke the previous secret, delivery history), on the
  API blueprint (``api/__init__.py`` imports it);
* ``hub.py``: ``WebhookHub`` (``state.webhooks``), the endpoints, queued events
  and deliveries; ``events.py``: the event types; ``records.py``: what is kept;
* ``dispatcher.py``: the thread a ``SandboxServer`` runs to POST deliveries,
  signed (``signing.py``), with Kit's retry schedule compressed to seconds
  (``SandboxConfig.webhook_retry_seconds``);
* ``activity.py`` and ``views.py``: **Make activity** (``/_sandbox/activity``)
  and the control routes ``/_sandbox/webhooks/*``.

This module imports only what ``state.py`` needs, so that the views (which
import the state) can be imported after it.
"""

from .dispatcher import Dispatcher
from .events import EVENT_TYPES, PLANNED_EVENT_TYPES
from .hub import WebhookHub

__all__ = ["EVENT_TYPES", "PLANNED_EVENT_TYPES", "Dispatcher", "WebhookHub"]
