"""The overview page of one connection: served from `overview_cache` while
its fingerprint holds, else rendered from `overview_data` (and the events of
today) and kept when it shows neither a banner nor a failed panel."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.wrappers import Response

from app.auth.access import remember_selected
from app.dashboard import overview_cache
from app.dashboard.forms import ReloadForm
from app.dashboard.overview import overview_data
from app.dashboard.period import PERIODS, period_days
from app.dashboard.render import kit_page
from app.models import KitConnection
from app.webhooks import feed


def overview_page(
    connection: KitConnection, endpoint_status: str | None
) -> tuple[str, int] | Response:
    """The page from `overview_cache` when its fingerprint still holds (see
    there: the generation, the day, the rows read for this request), else
    rendered, and kept when it shows neither a banner nor a failed panel."""
    days = period_days(request.args.get("period"))
    zone = connection.zone
    found = overview_cache.lookup(connection, endpoint_status, days)
    if found.entry is not None:
        remember_selected(connection)
        return overview_cache.serve(found.entry)
    loaded: dict[str, Any] = {}

    def load() -> dict[str, Any]:
        # "Today" is the account's day, in the zone Kit counts it in: Kit's
        # own figures for it (the same on every connection to the account),
        # and apart, the events that reached this connection since then.
        midnight = zone.start_of(zone.today())
        loaded.update(
            overview_data(connection.id, zone, days)
            | {
                "events_today": feed.today(connection.id, midnight),
                "connected_today": connection.created_at >= midnight,
                "event_source": feed.source(connection.id),
            }
        )
        return loaded

    body, status = kit_page(
        connection,
        "dashboard/overview.html",
        load,
        reload_form=ReloadForm(),
        period_days=days,
        periods=PERIODS,
    )
    if (
        status != 200
        or not loaded
        or loaded["unavailable"]
        or connection.status != KitConnection.ACTIVE
    ):
        return body, status
    return overview_cache.keep(found, body, loaded["answered_at"])
