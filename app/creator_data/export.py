""" "Download my data": everything the app keeps about one connection's Kit
account, as one JSON document or a zip of CSV files, streamed.

Both are generators: rows are read in batches of BATCH on the primary key
(keyset, each batch its own short read, so no transaction stays open for
the length of a download and a writer is never held up), written out and
dropped. Memory stays flat whether a connection has ten events or ten
million; a client that stops reading stops the reads. Never a token, the
webhook endpoint's key (it is a capability: whoever has it may post
events) or its secrets.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import (
    ConnectionEvent,
    GrowthDay,
    KitConnection,
    WebhookEndpoint,
    WebhookEvent,
)

BATCH = 1000

CONNECTION = (
    "id",
    "kit_account_id",
    "tenant_name",
    "account_name",
    "account_email",
    "timezone",
    "status",
    "created_at",
    "updated_at",
    "expires_at",
    "last_refreshed_at",
    "last_error",
    "events_not_kept",
)
ENDPOINT = ("status", "created_at", "last_delivery_at", "checked_at", "last_error")
# The tables, each with the columns exported, in this order.
TABLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "connection_history": (ConnectionEvent, ("created_at", "kind", "reason")),
    "growth_days": (
        GrowthDay,
        (
            "day",
            "subscribers",
            "new_subscribers",
            "cancellations",
            "net_new_subscribers",
            "fetched_at",
        ),
    ),
    "webhook_events": (
        WebhookEvent,
        (
            "event_id",
            "type",
            "occurred_at",
            "received_at",
            "subscriber_email",
            "subject",
            "delivery_id",
            "data",
        ),
    ),
}


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def facts(connection_id: int) -> dict[str, Any]:
    """The connection (no token) and its webhook endpoint (no key, no secret)."""
    row = db.session.get(KitConnection, connection_id)
    if row is None:
        raise LookupError(f"no connection {connection_id}")
    found = {name: _value(getattr(row, name)) for name in CONNECTION}
    found["events_not_kept"] = sorted(row.kinds_not_kept)
    endpoint = db.session.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.connection_id == connection_id)
    )
    found["webhook_endpoint"] = (
        None
        if endpoint is None
        else {name: _value(getattr(endpoint, name)) for name in ENDPOINT}
    )
    return found


def rows(table: str, connection_id: int) -> Iterator[tuple[Any, ...]]:
    """The table's rows of the connection, oldest first, BATCH at a time."""
    model, names = TABLES[table]
    columns = [getattr(model, name) for name in names]
    last = 0
    while True:
        batch = db.session.execute(
            select(model.id, *columns)
            .where(model.connection_id == connection_id, model.id > last)
            .order_by(model.id)
            .limit(BATCH)
        ).all()
        db.session.commit()  # end the read: nothing stays open between batches
        for _id, *values in batch:
            yield tuple(_value(value) for value in values)
        if len(batch) < BATCH:
            return
        last = batch[-1][0]


# --- JSON ------------------------------------------------------------------------


def _event_data(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def json_chunks(connection_id: int) -> Iterator[str]:
    """`{"exported_at", "connection": {...}, "connection_history": [...],
    "growth_days": [...], "webhook_events": [...]}`, a row at a time."""
    head = {
        "exported_at": _value(datetime.now(UTC)),
        "connection": facts(connection_id),
    }
    yield json.dumps(head)[:-1]  # the object stays open for the tables
    for table, (_, names) in TABLES.items():
        yield f", {json.dumps(table)}: ["
        separator = ""
        for values in rows(table, connection_id):
            record = dict(zip(names, values, strict=True))
            if "data" in record:
                record["data"] = _event_data(record["data"])
            yield separator + json.dumps(record)
            separator = ", "
        yield "]"
    yield "}\n"


# --- CSV in a zip --------------------------------------------------------------------


class _Sink:
    """A file that only keeps what was written since the last `take()`: the
    zip is written into it and handed on as it grows. No seek(), so zipfile
    writes each member's sizes after its data (a streamed zip)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


# Spreadsheets run a cell that starts with one of these as a formula: a
# subscriber address or a tag name is data, so it is quoted to stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def _csv_lines(
    header: Iterable[str], records: Iterable[Iterable[Any]]
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, record in enumerate(records, 1):
        writer.writerow([_cell(value) for value in record])
        if count % 200 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _facts_records(found: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    endpoint = found.pop("webhook_endpoint") or {}
    for name, value in found.items():
        yield name, " ".join(value) if isinstance(value, list) else value
    for name, value in endpoint.items():
        yield f"webhook_endpoint.{name}", value


def csv_zip_chunks(connection_id: int) -> Iterator[bytes]:
    """A zip of connection.csv (field, value) and one CSV per table."""
    sink = _Sink()
    found = facts(connection_id)
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        members: list[tuple[str, Iterator[str]]] = [
            ("connection.csv", _csv_lines(("field", "value"), _facts_records(found)))
        ]
        members += [
            (f"{table}.csv", _csv_lines(names, rows(table, connection_id)))
            for table, (_, names) in TABLES.items()
        ]
        for name, lines in members:
            with archive.open(name, "w", force_zip64=True) as member:
                for text in lines:
                    member.write(text.encode())
                    if chunk := sink.take():
                        yield chunk
    yield sink.take()
