"""Kit's Webhooks 2.0, the app's side: the receiving endpoint
(`POST /webhooks/kit/<key>`, views.py), the checks and the storage of a
delivery (store.py), and the activity feed built on the stored events
(feed.py). Registration and upkeep of the endpoints at Kit are jobs
(app/jobs/webhooks.py); the calls to Kit are in app/kit/webhooks.py.
"""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.webhooks import views  # noqa: E402, F401  (registers the routes)
