"""Logging, configured once, to stderr, with secrets redacted from every record.

Kit's callback URL carries `code` and `state`, token responses carry tokens, and
request logs (werkzeug's, gunicorn's, urllib3's debug output) would print them.
The filter rewrites each record's message before any handler formats it.
"""

from __future__ import annotations

import logging
import re

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
    # headers: Authorization: Bearer ..., Basic ...
    (re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite a record's message (and traceback) with the secrets removed."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a bad format string: leave it to the handler
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and not record.exc_text:
        # Exception messages quote URLs and bodies too (requests does).
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


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
