"""Kit's Webhooks 2.0, the app's side, all of it: the receiving endpoint
(`POST /webhooks/kit/<key>`, views.py), the signature check (signature.py), a
delivery's body validated (delivery.py) and stored once (store.py), the
activity feed built on the stored events (feed.py), the signing secret's
rotation (rotation.py), the endpoint's registration, upkeep and the prune of
old events (tasks.py, Celery) and `flask kit webhooks ...` (cli.py). Kit's
legacy webhooks, for purchases and link clicks (which 2.0 refuses): received
and stored once (legacy.py, `POST /webhooks/kit/legacy/<key>`), their rules
at Kit (legacy_rules.py), the links and products a creator follows
(legacy_follow.py) and `flask kit webhooks legacy ...` (legacy_cli.py).
Only the HTTP calls to Kit are elsewhere: app/kit/webhook_endpoints.py and
app/kit/legacy_webhooks.py.
"""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.webhooks import views  # noqa: E402, F401  (registers the routes)
