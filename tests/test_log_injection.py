"""No one forges a log line (ASVS V7.3.1): control characters a client sends
(CR, LF, ESC, ...) are written escaped, one record one line, by the app's
logging and by gunicorn's access log under a real gunicorn.
"""

from __future__ import annotations

import io
import logging
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.test_serve import serving

HOSTILE = (
    '/x\r\n127.0.0.1 - - [01/Jan/2026] "GET /admin HTTP/1.1" 200\x1b[2J\x00\x85\u2028'
)


def test_escape_controls_leaves_one_line_and_plain_text_alone():
    from app.logs import escape_controls

    escaped = escape_controls(HOSTILE)
    assert "\n" not in escaped and "\r" not in escaped and "\x1b" not in escaped
    assert "\x00" not in escaped and "\x85" not in escaped and "\u2028" not in escaped
    assert "\\x0d\\x0a127.0.0.1" in escaped and "\\x1b[2J" in escaped
    plain = 'GET /c/1/subscribers?status=active "é ü 😀"\ttab'
    assert escape_controls(plain) == plain


def test_a_record_with_control_characters_is_one_line(app):
    """Whichever logger and handler: the app's record factory escapes."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("app.test_log_injection")
    logger.addHandler(handler)
    try:
        logger.warning("Refused %s %s", "GET", HOSTILE)
        logger.warning(f"Unformatted {HOSTILE}")  # noqa: G004 (the point)
        try:
            raise ValueError(HOSTILE)
        except ValueError:
            logger.exception("Failed on %s", HOSTILE)
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("WARNING Refused GET /x\\x0d\\x0a127.0.0.1")
    assert lines[1].startswith("WARNING Unformatted /x\\x0d\\x0a")
    assert lines[2].startswith("ERROR Failed on /x\\x0d\\x0a")
    # The traceback keeps its own lines, but no line of it is the forged one.
    assert not any(line.startswith("127.0.0.1") for line in lines)
    assert "\x1b" not in out.getvalue() and "\r" not in out.getvalue()


def test_werkzeugs_own_colours_survive(app):
    """werkzeug escapes the path itself, then colours the status: its ESC
    stays, so `flask run` keeps its colours."""
    record = logging.getLogger("werkzeug").makeRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        "\x1b[33mGET /x\\x0d 404\x1b[0m",
        (),
        None,
    )
    assert record.getMessage() == "\x1b[33mGET /x\\x0d 404\x1b[0m"


def raw_get(base: str, target: bytes) -> bytes:
    """A request line as sent by hand: `target` is not quoted by any client."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        host = url.netloc.encode()
        sock.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.mark.usefixtures("kit")
def test_gunicorn_logs_a_forged_path_escaped_on_one_line(
    kit, database_url: str, tmp_path: Path, redis_url: str
):
    log = tmp_path / "gunicorn.log"
    with serving(
        kit,
        database_url,
        log,
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        REDIS_URL=redis_url,
    ) as base:
        answer = raw_get(
            base,
            b"/forged%0d%0a127.0.0.1%20-%20-%20%22GET%20/admin%22%20200%1b[2J%00end",
        )
        assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 404")), answer[:200]
    output = log.read_bytes()
    assert b"\x1b" not in output and b"\x00" not in output and b"\r" not in output
    lines = output.decode().splitlines()
    [line] = [line for line in lines if "forged" in line]
    # (gunicorn escapes the quotes itself.)
    assert '/forged\\x0d\\x0a127.0.0.1 - - \\"GET /admin\\" 200\\x1b[2J\\x00end' in line
    assert not any(line.startswith('127.0.0.1 - - "GET /admin') for line in lines)
