"""Security headers and rate limits, applied to every response in one place."""

from __future__ import annotations

import logging
import math
import time
from urllib.parse import urlsplit

import redis
from flask import Flask, Response, current_app
from limits import parse_many

from app.extensions import limiter

log = logging.getLogger(__name__)

# Per client address. Generous for people, tight for scripts guessing passwords
# or hammering the OAuth endpoints.
SIGN_IN_LIMIT = "10 per minute; 100 per hour"
SIGN_UP_LIMIT = "5 per minute; 30 per hour"
# Routes that send mail (sign-up, forgot password): per client address.
MAIL_LIMIT = "5 per minute; 30 per hour"
OAUTH_LIMIT = "30 per minute; 300 per hour"

# Per recipient, so nobody can flood one inbox: counted by the job that sends
# (app/auth/tasks.py) for any address, account or not, and over the cap the
# mail is simply not sent. Never a refusal of the request: a 429 only for
# addresses that get mail would tell which ones have an account.
MAIL_PER_ADDRESS_LIMIT = "3 per 15 minutes; 10 per day"
# Failed sign-ins per account address, from any number of client addresses
# (ASVS V2.2.1). Keyed on the address as typed (normalised), account or not,
# so that the refusal says nothing about which addresses exist. The owner is
# told once per window.
SIGN_IN_FAILURES_LIMIT = "10 per 15 minutes"
SIGN_IN_FAILURES_WINDOW = "15 minutes"  # the same window, in the page's words
SIGN_IN_NOTICE_LIMIT = "1 per 15 minutes"

# What a rate limit store (Redis) raises when it is down or frozen. The limits
# here then let the attempt through (logged): a store outage must not lock
# every owner out; the per-client limits still hold (in-memory fallback).
STORE_FAILURES = (redis.RedisError, OSError)


def _key(email: str) -> str:
    return email.strip().lower()[:254]


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _hit(limits: str, scope: str, email: str) -> bool:
    """One more against each of `limits` for `email`; False once one is spent."""
    if not _enabled():
        return True
    strategy = limiter.limiter
    try:
        return all(
            strategy.hit(item, scope, _key(email)) for item in parse_many(limits)
        )
    except STORE_FAILURES as error:
        log.warning(
            "Rate limit store unavailable (%s): not counted", type(error).__name__
        )
        return True


def may_mail(email: str) -> bool:
    """Count one more account mail to `email`; False once MAIL_PER_ADDRESS_LIMIT
    is spent (then the mail is not sent, and nobody is told)."""
    return _hit(MAIL_PER_ADDRESS_LIMIT, "mail-to", email)


def sign_in_blocked(email: str) -> int:
    """Seconds until `email` may try to sign in again; 0 while its failed
    sign-ins are under SIGN_IN_FAILURES_LIMIT."""
    if not _enabled():
        return 0
    strategy = limiter.limiter
    try:
        for item in parse_many(SIGN_IN_FAILURES_LIMIT):
            if not strategy.test(item, "sign-in-failures", _key(email)):
                reset_at = strategy.get_window_stats(
                    item, "sign-in-failures", _key(email)
                ).reset_time
                return max(1, math.ceil(reset_at - time.time()))
    except STORE_FAILURES as error:
        log.warning(
            "Rate limit store unavailable (%s): not checked", type(error).__name__
        )
    return 0


def count_failed_sign_in(email: str) -> bool:
    """Count a failed sign-in for `email`; True when this one used up the
    address's attempts and its owner has not been told in this window."""
    _hit(SIGN_IN_FAILURES_LIMIT, "sign-in-failures", email)
    if not sign_in_blocked(email):
        return False
    return _hit(SIGN_IN_NOTICE_LIMIT, "sign-in-notice", email)


def clear_failed_sign_ins(email: str) -> None:
    """The owner proved the mailbox (a reset): their attempts start afresh."""
    if not _enabled():
        return
    strategy = limiter.limiter
    try:
        for item in parse_many(SIGN_IN_FAILURES_LIMIT):
            strategy.clear(item, "sign-in-failures", _key(email))
    except STORE_FAILURES as error:
        log.warning(
            "Rate limit store unavailable (%s): not cleared", type(error).__name__
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(app: Flask) -> str:
    """No inline script anywhere; forms may only lead here or to Kit.

    `form-action` also covers the redirects that follow a form: signing up in
    the middle of an install ends on Kit's authorize page, so Kit's origins are
    allowed too.
    """
    kit = sorted(
        {_origin(app.config["KIT_AUTHORIZE_URL"]), _origin(app.config["KIT_APP_URL"])}
    )
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self' " + " ".join(kit),
        ]
    )


def register(app: Flask) -> None:
    policy = content_security_policy(app)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # The callback URL carries ?code=: never hand it to another site.
        headers.setdefault("Referrer-Policy", "same-origin")
        if current_app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response
