"""Security headers and rate limits, applied to every response in one place."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from limits import parse_many

from app.extensions import limiter

# Per client address. Generous for people, tight for scripts guessing passwords
# or hammering the OAuth endpoints.
SIGN_IN_LIMIT = "10 per minute; 100 per hour"
SIGN_UP_LIMIT = "5 per minute; 30 per hour"
# Routes that send mail (sign-up, forgot password, and sign-in, which sends a
# fresh link to an unconfirmed account): per client address as above, and per
# recipient, counted only when a mail went, so nobody can flood one inbox.
MAIL_LIMIT = "5 per minute; 30 per hour"
MAIL_PER_ADDRESS_LIMIT = "3 per 15 minutes; 10 per day"
OAUTH_LIMIT = "30 per minute; 300 per hour"


def mail_recipient() -> str:
    """The rate-limit key of a mail-sending form: the address it mails."""
    return "mail-to:" + request.form.get("email", "").strip().lower()[:254]


def sent_mail(response: Response) -> bool:
    """Count a request against MAIL_PER_ADDRESS_LIMIT only if it sent mail."""
    return bool(g.get("sent_mail"))


def may_resend(email: str) -> bool:
    """Count one more fresh link to `email` at sign-in; False once
    MAIL_PER_ADDRESS_LIMIT is spent. Not a limit on the sign-in route itself:
    anyone could then lock an owner out by asking for mail to their address."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    strategy = limiter.limiter
    return all(
        strategy.hit(item, "resend-link", email.strip().lower())
        for item in parse_many(MAIL_PER_ADDRESS_LIMIT)
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
