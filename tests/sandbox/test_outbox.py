"""The sandbox's outbox: an SMTP sink that keeps the app's mail, shown as a
page and as JSON, for loopback clients only."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import requests

from kit_sandbox.cli import default_smtp_port


def _send(kit, to: str, subject: str, body: str) -> None:  # type: ignore[no-untyped-def]
    message = EmailMessage()
    message["From"] = "App <no-reply@localhost>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP("127.0.0.1", kit.smtp_port, timeout=5) as smtp:
        smtp.send_message(message)


def test_mail_sent_over_smtp_shows_in_the_outbox(fresh_kit):
    _send(
        fresh_kit,
        "ada@example.com",
        "Confirm your address",
        "Open http://127.0.0.1:5000/verify-email?token=abc.def&x=1 to continue.",
    )
    _send(fresh_kit, "bob@example.com", "Hello Bob", "No link here.")

    everything = requests.get(f"{fresh_kit.url}/_sandbox/outbox.json", timeout=5)
    assert [m["subject"] for m in everything.json()["messages"]] == [
        "Confirm your address",
        "Hello Bob",
    ]
    ada = requests.get(
        f"{fresh_kit.url}/_sandbox/outbox.json",
        params={"to": "ADA@example.com"},
        timeout=5,
    ).json()["messages"]
    assert len(ada) == 1
    assert ada[0]["recipients"] == ["ada@example.com"]
    assert ada[0]["sender"] == "no-reply@localhost"
    assert ada[0]["links"] == ["http://127.0.0.1:5000/verify-email?token=abc.def&x=1"]

    page = requests.get(f"{fresh_kit.url}/_sandbox/outbox", timeout=5)
    assert page.status_code == 200
    # Newest first, the link ready to click.
    assert page.text.index("Hello Bob") < page.text.index("Confirm your address")
    assert 'href="http://127.0.0.1:5000/verify-email?token=abc.def&amp;x=1"' in (
        page.text
    )


def test_the_outbox_is_linked_from_the_sandbox_pages(fresh_kit):
    home = requests.get(f"{fresh_kit.url}/", timeout=5)
    assert 'href="/_sandbox/outbox"' in home.text
    empty = requests.get(f"{fresh_kit.url}/_sandbox/outbox", timeout=5)
    assert "No mail yet" in empty.text


def test_the_outbox_empties_on_reset_and_on_delete(fresh_kit):
    _send(fresh_kit, "ada@example.com", "One", "1")
    requests.post(f"{fresh_kit.url}/_sandbox/reset", timeout=5)
    url = f"{fresh_kit.url}/_sandbox/outbox.json"
    assert requests.get(url, timeout=5).json() == {"messages": []}
    _send(fresh_kit, "ada@example.com", "Two", "2")
    assert requests.delete(url, timeout=5).json() == {"messages": []}
    assert fresh_kit.outbox.messages() == []


def test_only_loopback_clients_may_read_the_outbox(fresh_kit):
    _send(fresh_kit, "ada@example.com", "Secret link", "http://x/reset?token=t")
    client = fresh_kit.app.test_client()
    for path in ("/_sandbox/outbox", "/_sandbox/outbox.json"):
        answer = client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert answer.status_code == 403
        assert "token=t" not in answer.text


def test_the_smtp_port_sits_beside_the_http_port():
    assert default_smtp_port(5001) == 5025
    assert default_smtp_port(0) == 0  # tests: a free port for each
