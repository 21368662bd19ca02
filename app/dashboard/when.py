"""How a time is shown, on every page: in the Kit account's time zone (the
connection's `zone`, the one Kit counts its days in), in one format ("6 Dec
2026, 17:58", or "6 Dec 2026" for a day), inside a `<time>` whose
`datetime` carries the offset for machines. The page names the zone once
(`dashboard/_layout.html`, `install/connection.html`).

    {{ event.occurred_at | when(connection.zone) }}
    {{ subscriber.created_at | when(connection.zone, day=True) }}
"""

from __future__ import annotations

from datetime import date, datetime

from markupsafe import Markup

from app.dashboard import bp
from app.kit.times import AccountZone, shown_day


@bp.app_template_filter("when")
def when(
    value: datetime | date | None, zone: AccountZone | None = None, day: bool = False
) -> Markup:
    """A datetime (aware, as the app keeps them) in `zone`, UTC when none is
    given; a date as it is; "—" for none."""
    if value is None:
        return Markup("—")
    if not isinstance(value, datetime):
        return Markup('<time datetime="{}">{}</time>').format(
            value.isoformat(), shown_day(value)
        )
    zone = zone or AccountZone()
    local = zone.local(value).replace(microsecond=0)
    stamp = local.date().isoformat() if day else local.isoformat()
    return Markup('<time datetime="{}">{}</time>').format(
        stamp, zone.shown(value, day_only=day)
    )
