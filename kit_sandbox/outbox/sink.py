"""An SMTP server that keeps what it receives, in memory, on a loopback port."""

from __future__ import annotations

import itertools
import logging
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

#: Links in a plain-text body: what a developer (or a test) follows.
LINK = re.compile(r"https?://[^\s<>\"']+")

# aiosmtpd logs every SMTP command at INFO (and message data at DEBUG).
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Mail:
    """One message as received: who sent it to whom, and its plain text."""

    id: int
    received_at: str
    sender: str
    recipients: list[str]
    subject: str
    text: str
    links: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Outbox:
    """The mail received since the start (or the last ``clear()``), oldest first."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._mail: list[Mail] = []
        self._ids = itertools.count(1)

    def add(self, sender: str, recipients: list[str], raw: bytes) -> Mail:
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        with self._lock:
            mail = Mail(
                id=next(self._ids),
                received_at=datetime.now(UTC).isoformat(timespec="seconds"),
                sender=sender,
                recipients=list(recipients),
                subject=str(parsed.get("Subject", "")),
                text=text,
                links=LINK.findall(text),
            )
            self._mail.append(mail)
            del self._mail[: -self.limit]  # a long-running sandbox stays small
        return mail

    def messages(self, to: str | None = None) -> list[Mail]:
        """Every message, oldest first; with ``to``, only those to that address."""
        with self._lock:
            found = list(self._mail)
        if to is not None:
            wanted = to.strip().lower()
            found = [m for m in found if wanted in (r.lower() for r in m.recipients)]
        return found

    def clear(self) -> None:
        with self._lock:
            self._mail.clear()


class _Handler:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        content = envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        self.outbox.add(str(envelope.mail_from or ""), envelope.rcpt_tos, raw)
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's threaded controller, able to bind port 0 (a free port)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """Receives SMTP on ``host:port`` (0 picks a free port) into ``outbox``."""

    def __init__(self, outbox: Outbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.outbox = outbox
        self.host = host
        self.port = port
        self._controller: _Controller | None = None

    def start(self) -> SmtpSink:
        if self._controller is not None:
            raise RuntimeError("The SMTP sink is already running")
        controller = _Controller(
            _Handler(self.outbox),
            hostname=self.host,
            port=self.port,
            # Not the machine's FQDN: finding it may wait on DNS.
            server_hostname="kit-sandbox.localhost",
        )
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
