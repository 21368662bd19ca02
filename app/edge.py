"""The HTTP edge: what a request must be before a view sees it.

- **Host:** one the app serves (`ALLOWED_HOSTS`) and that werkzeug can parse.
  Anything else, sent directly or through a proxy's X-Forwarded-Host, gets a
  400 page. It is checked in WSGI middleware before Flask routes the request,
  because Flask cannot build a single URL (so cannot render a page) for a host
  it cannot parse.
- **Body size:** `MAX_CONTENT_LENGTH` (64 KiB: the app's forms are small),
  refused with a 413 from the Content-Length before anything reads the body,
  and while reading a chunked body. A route that needs more says so with
  `accepts_body`.
- **Body type:** a route takes form posts only, unless it says otherwise with
  `accepts_body`. Flask-WTF would otherwise feed a JSON body into the form.
- **Ids in paths:** the `id` URL converter, 1 to 2**31 - 1, so an id the
  database cannot hold is a 404, never a database error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import IntegerConverter, Map, ValidationError
from werkzeug.sansio.utils import host_is_trusted

from app.errors import problem

F = TypeVar("F", bound=Callable[..., Any])

# PostgreSQL's INTEGER; SQLite's rowid goes to 2**63 - 1, so the smaller wins.
MAX_ID = 2**31 - 1
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BAD_HOST = "kit_app.bad_host"  # set in the WSGI environ by HostCheck
_HOST = re.compile(r"(?P<name>[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?")


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id the database can hold, else the route does not match."""

    def __init__(self, map: Map) -> None:  # noqa: A002 (werkzeug's name)
        super().__init__(map, min=1, max=MAX_ID)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):  # before int(): 5,000 digits cost
            raise ValidationError()
        return int(super().to_python(value))


def usable_host(host: str, trusted: Iterable[str] | None) -> bool:
    """The Host header names a host we serve, in a form werkzeug can parse
    (characters, port, and IDNA labels of 1 to 63 characters)."""
    host = host.lower()
    if not host_is_trusted(host, list(trusted) if trusted else None):
        return False
    found = _HOST.fullmatch(host)
    if found is None:
        return False
    name = found["name"]
    if name.startswith("["):
        return True
    try:
        name.encode("idna")
    except UnicodeError:  # an empty label (a..b) or one over 63 characters
        return False
    return True


class HostCheck:
    """WSGI middleware, inside ProxyFix (so it sees X-Forwarded-Host once
    believed): a request for a host we do not serve is handed to the app on a
    host that works, marked, and answered 400 by `refuse_bad_host`."""

    def __init__(self, wsgi_app: Any, trusted: list[str] | None) -> None:
        self.wsgi_app = wsgi_app
        self.trusted = trusted
        # A host the list allows (".a.com" takes a.com too).
        self.fallback = trusted[0].lstrip(".") if trusted else "localhost"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        host = environ.get("HTTP_HOST")
        if host is not None:
            if usable_host(host, self.trusted):
                # Host names are case-insensitive; werkzeug expects lower case.
                environ["HTTP_HOST"] = host.lower()
            else:
                environ["HTTP_HOST"] = self.fallback
                environ[BAD_HOST] = True
        return self.wsgi_app(environ, start_response)


def accepts_body(
    max_bytes: int | None = None, content_types: Iterable[str] = ()
) -> Callable[[F], F]:
    """Let one route take a larger body or other content types than forms,
    e.g. `@accepts_body(1024 * 1024, ["application/json"])` for a webhook,
    written under the route decorator. It marks the view; `check_body` applies
    the limit before anything reads the body."""

    def mark(view: F) -> F:
        view.body_limit = max_bytes  # type: ignore[attr-defined]
        view.body_types = frozenset(content_types)  # type: ignore[attr-defined]
        return view

    return mark


def refuse_bad_host() -> tuple[Any, int] | None:
    if request.environ.get(BAD_HOST):
        return problem(
            400,
            "This address is not served here",
            "Check the address in your browser's address bar, or open the app "
            "from its usual link.",
        )
    return None


def check_body() -> None:
    """Size and type of the body, before CSRF, rate limits or a view read it."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, "body_limit", None)
    if limit is not None:
        request.max_content_length = limit
    length = request.content_length
    maximum = request.max_content_length
    if length is not None and maximum is not None and length > maximum:
        raise RequestEntityTooLarge()
    if request.method not in BODY_METHODS:
        return
    allowed = FORM_TYPES | getattr(view, "body_types", frozenset())
    if request.mimetype and request.mimetype not in allowed:
        raise UnsupportedMediaType()
    if length is None and "wsgi.input_terminated" in request.environ:
        # A chunked body has no length to check: read it now, up to the limit
        # (the form parser then reuses the bytes). werkzeug stops quietly at
        # the limit, leaving a truncated body: one byte more means too large.
        data = request.get_data(parse_form_data=False)
        if (
            maximum is not None
            and len(data) >= maximum
            and request.input_stream.read(1)
        ):
            raise RequestEntityTooLarge()


def register(app: Flask) -> None:
    """Call before ProxyFix wraps the app, so that HostCheck runs inside it."""
    app.wsgi_app = HostCheck(app.wsgi_app, app.config["ALLOWED_HOSTS"])  # type: ignore[method-assign]
    # First of all before_request functions: CSRF and the rate limits read
    # the body, and must not for a request refused here.
    app.before_request_funcs.setdefault(None, [])[:0] = [refuse_bad_host, check_body]


def register_converters(app: Flask) -> None:
    """Before the blueprints: their rules look converters up as they are added."""
    app.url_map.converters["id"] = IdConverter
