"""Logging, configured once, to stderr, with secrets redacted from every record
and control characters escaped.

Kit's callback URL carries `code` and `state`, token responses carry tokens, and
request logs (werkzeug's, gunicorn's, urllib3's debug output) would print them.
The filter rewrites each record's message before any handler formats it.

A path or header can carry CR, LF or ESC once decoded (gunicorn's `%(U)s` is
the decoded path): written raw, it forges a log line or drives the terminal of
whoever reads the log. Every record's message is written with them escaped
(`\x0d`), one record one line (ASVS V7.3.1); a traceback keeps its own lines,
with the other control characters escaped.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

# Names of parameters whose values are secret (not secrets themselves).
_SECRET_PARAMS = "|".join(
    (
        "code",
        "state",
        "code_verifier",
        "code_challenge",
        "access_token",
        "refresh_token",
        "token",
        "client_secret",
        "password",
        "csrf_token",
    )
)
_PATTERNS = [
    # query strings and form bodies: code=..., &state=...
    (re.compile(rf"(?i)(?<![\w-])({_SECRET_PARAMS})=([^&\s\"']+)"), r"\1=[redacted]"),
    # JSON: "access_token": "..."
    (re.compile(rf'(?i)"({_SECRET_PARAMS})"\s*:\s*"[^"]*"'), r'"\1": "[redacted]"'),
    # Python reprs: {'access_token': '...'}, Client(client_secret='...') (Authlib
    # logs the token it issues at DEBUG)
    (re.compile(rf"(?i)'({_SECRET_PARAMS})'\s*:\s*'[^']*'"), r"'\1': '[redacted]'"),
    (re.compile(rf"(?i)\b({_SECRET_PARAMS})='[^']*'"), r"\1='[redacted]'"),
    # headers: Authorization: Bearer ..., Basic ...
    (re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
]


# C0 (tab aside), DEL and C1, and the Unicode line and paragraph separators:
# each written as `\xNN` / `\uNNNN`, as werkzeug escapes its request lines.
_CONTROLS = {
    i: f"\\x{i:02x}" for i in (*range(0x20), *range(0x7F, 0xA0)) if i != 0x09
} | {0x2028: "\\u2028", 0x2029: "\\u2029"}
# A traceback's own line breaks stay.
_CONTROLS_BUT_NEWLINE = {k: v for k, v in _CONTROLS.items() if k != 0x0A}
# werkzeug escapes the decoded path itself, then colours the line with ESC
# sequences of its own (`flask run`): those stay.
_CONTROLS_BUT_ESC = {k: v for k, v in _CONTROLS.items() if k != 0x1B}


def escape_controls(text: str) -> str:
    """`text` with its control characters escaped: one line, no terminal codes."""
    return text.translate(_CONTROLS)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite a record's message (and traceback) with the secrets removed and
    the control characters escaped."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a bad format string: leave it to the handler
        return record
    table = _CONTROLS_BUT_ESC if record.name == "werkzeug" else _CONTROLS
    cleaned = redact(message).translate(table)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        # Exception messages quote URLs and bodies too (requests does).
        text = _format_exception(record.exc_info)
        record.exc_text = redact(text).translate(_CONTROLS_BUT_NEWLINE)
    return record


def _format_exception(exc_info: Any) -> str:
    """The traceback, each exception's message escaped (its own line breaks
    included: a message is where a client's text lands); the frames' lines
    are the code's."""
    if not isinstance(exc_info, tuple) or exc_info[1] is None:
        return logging.Formatter().formatException(exc_info)
    formatted = traceback.TracebackException(
        type(exc_info[1]), exc_info[1], exc_info[2]
    )
    seen: set[int] = set()
    pending = [formatted]
    while pending:
        one = pending.pop()
        if id(one) in seen:
            continue
        seen.add(id(one))
        if isinstance(getattr(one, "_str", None), str):
            one._str = escape_controls(one._str)
        pending += [e for e in (one.__cause__, one.__context__) if e is not None]
    return "".join(formatted.format()).rstrip("\n")


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    return redact_record(_base_factory(*args, **kwargs))


def configure_logging(level: str) -> None:
    """Send logs to stderr once per process; redact secrets from every record.

    The record factory cleans each record as it is made, whichever logger made
    it and whichever handler (gunicorn's, a test's, a log shipper's) gets it;
    the handler filter covers records made before this ran.
    """
    logging.setLogRecordFactory(_redacting_factory)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())
    logging.getLogger("app").setLevel(level)
