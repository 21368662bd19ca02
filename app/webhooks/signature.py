"""The check of a Kit webhook delivery's signature (KIT_PLATFORM.md 5a).

`verify` is pure: the raw body, the `X-Kit-Signature` header, the secrets
that may have signed it (two during a rotation) and the time; it returns the
signed timestamp or raises `BadSignature`.
"""

from __future__ import annotations

import hashlib
import hmac
import re

TOLERANCE_SECONDS = 300  # a signed timestamp further from now is refused
MAX_SIGNATURE_HEADER = 1024
MAX_SIGNATURES = 8
_V1 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class BadSignature(Exception):
    """A delivery whose `X-Kit-Signature` does not prove it came from Kit.

    `reason`: missing, malformed, stale, future, mismatch or no_secret.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The `v1` signature Kit sends for `raw_body` at `timestamp`."""
    message = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, header: str, secrets: list[str], now: float) -> int:
    """Check `header` (`t=<unix seconds>,v1=<hex>[,v1=<hex>]`) against the raw
    body; returns the signed timestamp.

    The header is parsed strictly: exactly one `t`, one or more `v1` of 64
    lowercase hex digits, nothing else. Any `v1` may match any secret (Kit
    signs with both secrets during a rotation); each comparison runs in
    constant time, and every pair is compared so the time spent does not tell
    which one matched.
    """
    if not header:
        raise BadSignature("missing")
    timestamp, signatures = _parse(header)
    if timestamp < now - TOLERANCE_SECONDS:
        raise BadSignature("stale")
    if timestamp > now + TOLERANCE_SECONDS:
        raise BadSignature("future")
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise BadSignature("no_secret")
    matched = False
    for secret in usable:
        expected = sign(raw_body, secret, timestamp)
        for signature in signatures:
            matched |= hmac.compare_digest(expected, signature)
    if not matched:
        raise BadSignature("mismatch")
    return timestamp


def _parse(header: str) -> tuple[int, list[str]]:
    if len(header) > MAX_SIGNATURE_HEADER:
        raise BadSignature("malformed")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise BadSignature("malformed")
        if name == "t" and timestamp is None and _TIMESTAMP.fullmatch(value):
            timestamp = int(value)
        elif name == "v1" and _V1.fullmatch(value):
            signatures.append(value)
        else:
            raise BadSignature("malformed")
    if timestamp is None or not signatures or len(signatures) > MAX_SIGNATURES:
        raise BadSignature("malformed")
    return timestamp, signatures
