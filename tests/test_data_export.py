""" "Download my data" (`/kit/settings/<id>/export`): everything the app keeps
about one Kit account (the connection without its tokens, its history, the
stored days, every webhook event) as JSON or a zip of CSV files, streamed:
many rows cross several batches and come out whole, memory stays a fraction
of the download, and nothing secret or another creator's is in it."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from app.creator_data.export import BATCH
from app.extensions import db
from app.models import WebhookEndpoint, WebhookEvent
from tests.support.accounts import sign_in
from tests.support.rows import add_connection, add_growth_days, add_history, stored
from tests.support.webhooks import add_endpoint

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def bulk_events(app, count: int, connection_id: int = 1, data: str = "") -> None:  # type: ignore[no-untyped-def]
    """`count` events for the connection in one statement (fast: many rows)."""
    payload = json.dumps({"subscriber": {"id": 1}, "note": data})
    rows = [
        {
            "connection_id": connection_id,
            "event_id": f"e{connection_id}-{n}",
            "type": "subscriber.created",
            "occurred_at": T0 + timedelta(seconds=n),
            "received_at": T0 + timedelta(seconds=n),
            "subscriber_email": f"s{n}@example.com",
            "subject": "",
            "data": payload,
        }
        for n in range(count)
    ]
    with app.app_context():
        db.session.execute(insert(WebhookEvent), rows)
        db.session.commit()


def owner_with_data(app, client, events: int = 0, data: str = ""):  # type: ignore[no-untyped-def]
    """Connection 1 of the signed-in creator, with a webhook endpoint, two
    stored days, a history entry, and `events` events."""
    add_connection(app, account_name="Ada's list", account_email="ada@example.com")
    add_endpoint(app, 1, "whsec-export", key="k" * 20)
    add_growth_days(app, 1, [date(2026, 11, 1), date(2026, 11, 2)])
    add_history(app, 1, "connected", T0, "installed from Kit")
    bulk_events(app, events, data=data)
    assert sign_in(client).status_code == 302


def secrets_of(app) -> list[str]:  # type: ignore[no-untyped-def]
    row = stored(app)
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, 1)
        return [row.access_token, row.refresh_token, endpoint.key, endpoint.secret]


def test_json_has_everything_across_batches_and_no_secret(app, client):
    count = 2 * BATCH + 7
    owner_with_data(app, client, events=count)
    someone_else = add_connection(app, "other@example.com")
    bulk_events(app, 3, connection_id=someone_else)

    answer = client.get("/kit/settings/1/export?format=json")
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"].startswith(
        'attachment; filename="kit-data-'
    )
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_data(as_text=True)
    for secret in secrets_of(app):
        assert secret not in body
    document = json.loads(body)
    connection = document["connection"]
    assert (connection["account_name"], connection["status"]) == (
        "Ada's list",
        "active",
    )
    assert "access_token" not in connection and "refresh_token" not in connection
    assert connection["webhook_endpoint"]["status"] == "active"
    assert [d["day"] for d in document["growth_days"]] == ["2026-11-01", "2026-11-02"]
    assert document["connection_history"] == [
        {
            "created_at": T0.isoformat(),
            "kind": "connected",
            "reason": "installed from Kit",
        }
    ]
    events = document["webhook_events"]
    assert [e["event_id"] for e in events] == [f"e1-{n}" for n in range(count)]
    assert events[-1]["subscriber_email"] == f"s{count - 1}@example.com"
    assert events[0]["data"] == {"subscriber": {"id": 1}, "note": ""}


def test_csv_is_a_zip_of_one_table_per_kind_of_data(app, client):
    count = BATCH + 1
    owner_with_data(app, client, events=count)
    with app.app_context():
        db.session.execute(
            insert(WebhookEvent),
            [
                {
                    "connection_id": 1,
                    "event_id": "formula",
                    "type": "subscriber.tag_added",
                    "occurred_at": T0,
                    "received_at": T0,
                    "subscriber_email": '=HYPERLINK("http://evil")@x.com',
                    "subject": "+VIP",
                    "data": "{}",
                }
            ],
        )
        db.session.commit()
    answer = client.get("/kit/settings/1/export?format=csv")
    assert answer.status_code == 200
    assert answer.mimetype == "application/zip"
    assert answer.headers["Content-Disposition"].endswith('.zip"')
    body = answer.get_data()
    for secret in secrets_of(app):
        assert secret.encode() not in body
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.namelist() == [
        "connection.csv",
        "connection_history.csv",
        "growth_days.csv",
        "webhook_events.csv",
    ]

    def table(name: str) -> list[dict[str, str]]:
        with archive.open(name) as member:
            return list(csv.DictReader(io.TextIOWrapper(member, "utf-8")))

    facts = {row["field"]: row["value"] for row in table("connection.csv")}
    assert facts["account_email"] == "ada@example.com"
    assert facts["webhook_endpoint.status"] == "active"
    assert not any("token" in field or "secret" in field for field in facts)
    assert [row["day"] for row in table("growth_days.csv")] == [
        "2026-11-01",
        "2026-11-02",
    ]
    assert table("connection_history.csv")[0]["kind"] == "connected"
    events = table("webhook_events.csv")
    assert len(events) == count + 1
    assert events[0]["subscriber_email"] == "s0@example.com"
    # A spreadsheet would run these as formulas: they stay text.
    assert events[-1]["subscriber_email"] == '\'=HYPERLINK("http://evil")@x.com'
    assert events[-1]["subject"] == "'+VIP"


def test_a_large_download_streams_in_a_fraction_of_its_size(app, client):
    """Many rows with a kilobyte each: what is held at once while the
    download runs is a small part of what it sends (rows are read a batch
    at a time and written out, never gathered into one list)."""
    owner_with_data(app, client, events=10 * BATCH, data="x" * 2000)
    for format_ in ("json", "csv"):
        answer = client.get(f"/kit/settings/1/export?format={format_}", buffered=False)
        assert answer.status_code == 200
        sent = 0
        tracemalloc.start()
        try:
            for chunk in answer.response:
                sent += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            answer.close()
        if format_ == "json":
            assert sent > 20_000_000
        # The rows' data alone is 20 MB; seen: about 6 MB at the peak.
        assert peak < 8_000_000, (format_, sent, peak)


def test_only_the_owner_downloads_and_a_bad_format_is_a_400(app, client):
    owner_with_data(app, client, events=1)
    theirs = add_connection(app, "other@example.com")
    assert client.get(f"/kit/settings/{theirs}/export").status_code == 404
    bad = client.get("/kit/settings/1/export?format=xlsx")
    assert bad.status_code == 400
    assert 'href="/kit/settings?connection=1"' in bad.text
    client.post("/logout")
    signed_out = client.get("/kit/settings/1/export")
    assert signed_out.status_code == 302
    assert signed_out.location.startswith("/login?next=")
