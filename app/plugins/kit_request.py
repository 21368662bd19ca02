"""The request as Authlib's server reads it, with Kit's bodies: Kit's samples
send the token calls as JSON under a form content type, so a body that is a
JSON object is read as the form, whatever the content type says."""

from __future__ import annotations

import json

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from flask import request as flask_request
from werkzeug.datastructures import CombinedMultiDict, MultiDict


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, data: CombinedMultiDict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> CombinedMultiDict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: self._data.getlist(key) for key in self._data}


class KitRequest(OAuth2Request):  # type: ignore[misc]
    """The Flask request as Authlib sees it, with a JSON object body read as
    the form: Kit's samples send JSON under a form content type."""

    def __init__(self) -> None:
        req = flask_request
        super().__init__(req.method, req.url, headers=req.headers)
        self._args = req.args
        self._form = body_fields()
        self.payload = _Payload(CombinedMultiDict([self._args, self._form]))

    @property
    def args(self) -> MultiDict[str, str]:
        return self._args

    @property
    def form(self) -> MultiDict[str, str]:
        return self._form


def body_fields() -> MultiDict[str, str]:
    """The POST body's fields: a JSON object (whatever the content type says)
    or a form. Only text and numbers count; anything else is left out, so a
    field sent as a list or object is "missing" (invalid_request)."""
    req = flask_request
    if req.method != "POST":
        return MultiDict()
    raw = req.get_data(cache=True)
    if raw.lstrip()[:1] == b"{":
        try:
            body = json.loads(raw)
        except ValueError:
            return MultiDict()
        if not isinstance(body, dict):
            return MultiDict()
        return MultiDict(
            {
                str(key): str(value)
                for key, value in body.items()
                if isinstance(value, str | int) and not isinstance(value, bool)
            }
        )
    return MultiDict(req.form)
