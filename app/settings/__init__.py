"""The app settings page Kit links to (the "App settings URL" of the app's
details at Kit): `GET /kit/settings`, per connection what the app keeps and
for how long, the event kinds to keep, the links and products followed
through Kit's legacy webhooks (`following.py`), download and delete of the
kept data, and the way to reconnect or disconnect. The logic is
`app/creator_data/` and `app/webhooks/legacy_follow.py`."""

from flask import Blueprint

bp = Blueprint("settings", __name__)

from app.settings import following, views  # noqa: E402, F401  (registers the routes)
