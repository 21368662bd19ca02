"""Every way an install can stop short, and what the creator reads then.

One table, reason -> (status, title, message, actions), so the wording lives in
one place and a new reason is one row. The flow raises `InstallFailed(reason)`;
the views turn it into a page with `failure_page`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for

from app.errors import Action, problem

# Every message's advice names only buttons its page shows: the `actions` of
# its row (a "back_to_kit" button shows only when Kit sent a `redirect`), and
# the Home button every problem page has.
RESTART = "Nothing was connected. Press Connect Kit to start again."


@dataclass(frozen=True)
class Failure:
    status: int
    title: str
    message: str
    # Which buttons to offer, first one primary: "connect" (our Connect Kit),
    # "sign_in" (then Connect Kit), "accounts" (the Kit accounts page),
    # "open_kit" (Kit's web app), "back_to_kit" (the Kit page the install came
    # from, when Kit sent one), "open_dashboard" (the connection in
    # `details["connection_id"]`).
    actions: tuple[str, ...] = ()


FAILURES: dict[str, Failure] = {
    # /kit/oauth, the Authorization URL
    "redirect_not_kit": Failure(
        400,
        "This install link does not come from Kit",
        "The link that opened this page asks us to send you somewhere outside "
        "Kit afterwards, so we stopped here. Start the install again from the "
        "app's page in Kit's App Store: Open Kit takes you there.",
        ("open_kit",),
    ),
    "return_to_not_ours": Failure(
        400,
        "This link would send you away from this site",
        "The link that opened this page asks Kit to send you to another site "
        "after the install, so we stopped here. Nothing was connected: press "
        "Connect Kit to start again.",
        ("connect",),
    ),
    "bad_tenant_name": Failure(
        400,
        "That account label cannot be used",
        "Go to your Kit accounts and enter a short label (up to 255 printable "
        "characters), or leave it empty.",
        ("accounts",),
    ),
    # /kit/oauth/callback, the redirect URI
    "no_state": Failure(
        400, "This link to finish connecting Kit is incomplete", RESTART, ("connect",)
    ),
    "signed_out": Failure(
        400,
        "Your session ended before Kit sent you back",
        "Nothing was connected. Sign in, and you will go on to connect Kit.",
        ("sign_in",),
    ),
    "unknown_state": Failure(
        400, "This sign-in to Kit was not started here.", RESTART, ("connect",)
    ),
    "state_used": Failure(
        400, "This sign-in to Kit was already completed once.", RESTART, ("connect",)
    ),
    "already_connected": Failure(
        200,
        "Already connected",
        "{label} is connected: this link was already used to connect it, so "
        "there is nothing more to do. Open its dashboard to see its data.",
        ("open_dashboard", "back_to_kit"),
    ),
    "other_browser": Failure(
        400,
        "This sign-in to Kit was started in another browser.",
        "Nothing was connected. Finish in the browser you started in, or press "
        "Connect Kit to start again here.",
        ("connect",),
    ),
    "state_expired": Failure(
        400, "This sign-in to Kit took too long and expired.", RESTART, ("connect",)
    ),
    "access_denied": Failure(
        400,
        "You did not allow access to your Kit account",
        "Nothing was connected. To connect it later, press Connect Kit.",
        ("back_to_kit", "connect"),
    ),
    "kit_error": Failure(
        400,
        "Kit could not connect your account",
        "Kit answered “{kit_error}”. " + RESTART,
        ("connect", "back_to_kit"),
    ),
    "no_code": Failure(
        400,
        "Kit sent you back without an authorization code",
        RESTART,
        ("connect",),
    ),
    "grant_refused": Failure(
        400,
        "Kit did not accept this sign-in",
        "The authorization was already used or has expired. " + RESTART,
        ("connect", "back_to_kit"),
    ),
    "kit_unavailable": Failure(
        503,
        "Kit is unavailable right now",
        "We could not finish connecting your Kit account. Nothing was stored. "
        "Wait a moment, then press Connect Kit to start again.",
        ("connect", "back_to_kit"),
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
    connection_id = failed.details.get("connection_id")
    links = {
        "connect": ("Connect Kit", url_for("install.start")),
        "sign_in": (
            "Sign in",
            url_for("auth.login", next=url_for("install.start")),
        ),
        "accounts": ("Your Kit accounts", url_for("dashboard.accounts")),
        "open_kit": ("Open Kit", current_app.config["KIT_APP_URL"]),
        "back_to_kit": ("Back to Kit", failed.return_to),
        "open_dashboard": (
            "Open its dashboard",
            connection_id
            and url_for("dashboard.overview", connection_id=int(connection_id)),
        ),
    }
    actions: list[Action] = [
        (label, href)
        for label, href in (links[name] for name in failure.actions)
        if href
    ]
    message = failure.message.format(**failed.details)
    return problem(failure.status, failure.title, message, actions)
