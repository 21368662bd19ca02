"""Security headers and rate limits, applied to every response in one place."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app

# Per client address. Generous for people, tight for scripts guessing passwords
# or hammering the OAuth endpoints.
SIGN_IN_LIMIT = "10 per minute; 100 per hour"
SIGN_UP_LIMIT = "5 per minute; 30 per hour"
OAUTH_LIMIT = "30 per minute; 300 per hour"


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
