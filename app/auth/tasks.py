"""Account mail, sent by a job.

The request that asks for a mail (sign-up, forgot password, a fresh
confirmation link, the notice of failed sign-ins) only queues this job with
the address as typed: looking the account up, the per-recipient cap and the
sending happen here. So the request does the same work, and gives the same
answer, whether or not the address has an account and whether or not its
mail cap is spent (then nothing is sent, and nobody is told).

With REDIS_URL a Celery worker runs the job; without it the job runs
in-process as it is queued (eager), inside the request: the answers are still
identical, but the request then takes longer by the cost of sending when
there is a mail to send (run a worker to take that out of the request too).
The address travels through the broker; tokens and links never do, they are
made here.
"""

from __future__ import annotations

import logging

from celery import shared_task
from flask import current_app
from limits import parse

from app.auth import links
from app.auth.accounts import find_user
from app.extensions import db
from app.jobs import enqueue
from app.security import (
    SIGN_IN_FAILURES_LIMIT,
    SIGN_IN_FAILURES_WINDOW,
    may_mail,
)

log = logging.getLogger(__name__)

VERIFY = "verify"  # a new account, or a fresh link asked for at sign-in
SIGNUP_AGAIN = "signup_again"  # a sign-up for an address that has an account
RESET = "reset"  # forgot password
SIGN_IN_NOTICE = "sign_in_notice"  # the address's failed sign-ins ran out
KINDS = (VERIFY, SIGNUP_AGAIN, RESET, SIGN_IN_NOTICE)


@shared_task
def send_account_mail(kind: str, email: str, next_url: str = "") -> str:
    """Send the `kind` mail to the account of `email`, if there is one and
    the recipient's cap allows; returns what happened (`sent`, `failed`,
    `capped`, `no_account`)."""
    # The notice is limited on its own (once per window): asking for other
    # mail to the address must not silence it.
    if kind != SIGN_IN_NOTICE and not may_mail(email):
        log.info("Not sent, the recipient's mail cap is spent: %s", kind)
        return "capped"
    user = find_user(email)
    if user is None:
        return "no_account"
    if kind == VERIFY:
        sent = user.email_verified_at is None and links.send_verification(
            user, next_url or None
        )
    elif kind == SIGNUP_AGAIN:
        sent = links.send_signup_again(user)
    elif kind == RESET:
        sent = links.send_reset(user)
    elif kind == SIGN_IN_NOTICE:
        attempts = parse(SIGN_IN_FAILURES_LIMIT).amount
        sent = links.send_sign_in_notice(user, attempts, SIGN_IN_FAILURES_WINDOW)
    else:
        raise ValueError(f"unknown account mail {kind!r}")
    db.session.commit()  # nothing written; ends the read transaction
    return "sent" if sent else "failed"


def queue_account_mail(kind: str, email: str, next_url: str | None = None) -> None:
    """Queue `send_account_mail`; never fails the request.

    No sweep would find a mail that could not be queued (the broker down), so
    then the mail is sent here, in the request: during a Redis outage a
    sign-up still gets its link, at the price of the request taking longer
    when there is a mail to send (the answer stays the same for every
    address). A mail that cannot be sent either is logged; the person asks
    again. No account is changed either way."""
    if kind not in KINDS:
        raise ValueError(f"unknown account mail {kind!r}")
    if enqueue(send_account_mail, kind, email, next_url or "", about="account mail"):
        return
    if current_app.extensions["celery"].conf.task_always_eager:
        return  # it ran here already, and failed: logged by enqueue
    try:
        send_account_mail.run(kind, email, next_url or "")
    except Exception:
        db.session.rollback()
        log.exception("Could not send account mail (%s) in the request either", kind)
