"""Every way an install can stop short, and what the creator reads then.

One table, reason -> (status, title, message, actions), so the wording lives in
one place and a new reason is one row. The flow raises `InstallFailed(reason)`;
the views turn it into a page with `failure_page`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from app.errors import Action, problem

RESTART = "Start the install again from Kit's App Store, or use Connect Kit here."


@dataclass(frozen=True)
class Failure:
    status: int
    title: str
    message: str
    # Which buttons to offer: "open_kit" (Kit's web app), "back_to_kit" (the
    # Kit page the install came from, when Kit sent one).
    actions: tuple[str, ...] = ()


FAILURES: dict[str, Failure] = {
    # /kit/oauth, the Authorization URL
    "redirect_not_kit": Failure(
        400,
        "This install link does not come from Kit",
        "The link that opened this page asks us to send you somewhere outside "
        "Kit afterwards, so we stopped here. Start the install again from the "
        "app's page in Kit's App Store.",
        ("open_kit",),
    ),
    "bad_tenant_name": Failure(
        400,
        "That account label cannot be used",
        "Use a short label (up to 255 printable characters), or leave it empty.",
    ),
    # /kit/oauth/callback, the redirect URI
    "no_state": Failure(
        400, "This link to finish connecting Kit is incomplete", RESTART
    ),
    "signed_out": Failure(
        400, "Your session ended before Kit sent you back", "Sign in, then " + RESTART
    ),
    "unknown_state": Failure(400, "This sign-in to Kit was not started here.", RESTART),
    "state_used": Failure(
        400, "This sign-in to Kit was already completed once.", RESTART
    ),
    "other_browser": Failure(
        400, "This sign-in to Kit was started in another browser.", RESTART
    ),
    "state_expired": Failure(
        400, "This sign-in to Kit took too long and expired.", RESTART
    ),
    "access_denied": Failure(
        400,
        "You did not allow access to your Kit account",
        "Nothing was connected. To connect later, install the app again.",
        ("back_to_kit",),
    ),
    "kit_error": Failure(
        400,
        "Kit could not connect your account",
        "Kit answered “{kit_error}”. Nothing was connected. " + RESTART,
        ("back_to_kit",),
    ),
    "no_code": Failure(400, "Kit sent you back without an authorization code", RESTART),
    "grant_refused": Failure(
        400,
        "Kit did not accept this sign-in",
        "The authorization was already used or has expired. " + RESTART,
        ("back_to_kit",),
    ),
    "kit_unavailable": Failure(
        503,
        "Kit is unavailable right now",
        "We could not finish connecting your Kit account. Nothing was stored. "
        "Wait a moment, then " + RESTART[0].lower() + RESTART[1:],
        ("back_to_kit",),
    ),
}


@dataclass
class InstallFailed(Exception):
    """The install stopped for `reason` (a key of FAILURES).

    `return_to`: the Kit page to go back to, if Kit sent one; `details` fill
    the message's {placeholders} (never a code, state or token).
    """

    reason: str
    return_to: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.reason)


def failure_page(failed: InstallFailed) -> tuple[Any, int]:
    failure = FAILURES[failed.reason]
    links = {
        "open_kit": ("Open Kit", current_app.config["KIT_APP_URL"]),
        "back_to_kit": ("Back to Kit", failed.return_to),
    }
    actions: list[Action] = [
        (label, href)
        for label, href in (links[name] for name in failure.actions)
        if href
    ]
    message = failure.message.format(**failed.details)
    return problem(failure.status, failure.title, message, actions)
