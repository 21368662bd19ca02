"""Sending mail with Flask-Mailman: SMTP in production, the console or the Kit
sandbox's outbox in development (settings in app/config/).

Each message is a plain-text template in templates/mail/; account mail is
sent from a job (app/auth/tasks.py), its links built on the configured public
origin (app/auth/links.py), never the request's Host. A mail server that is
down or refuses never turns into an error page: the sender is told the same as
always, and the failure is logged (without the message, which holds links that
sign in).
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from flask import Flask, render_template
from flask_mailman import EmailMessage, Mail

log = logging.getLogger(__name__)

mail = Mail()


def init_app(app: Flask) -> None:
    """Bind (or re-bind, after `flask kit dev` changed the settings) the mailer."""
    mail.init_app(app)


def send_mail(to: str, subject: str, template: str, **context: Any) -> bool:
    """Send templates/mail/<template>.txt to `to`; False when it could not go."""
    body = render_template(f"mail/{template}.txt", **context)
    try:
        EmailMessage(subject, body, to=[to]).send()
    except (OSError, smtplib.SMTPException) as error:
        log.warning(
            "The %s mail could not be sent (%s); check MAIL_SERVER and MAIL_PORT",
            template,
            type(error).__name__,
        )
        return False
    log.info("Sent the %s mail", template)
    return True
