"""The sandbox's outbox: an SMTP sink for the app's mail, and the pages that
show what arrived.

The app sends its sign-up, verification and password-reset mail over real
SMTP to ``SmtpSink`` (aiosmtpd on a loopback port); the messages are kept in
memory in an ``Outbox`` and shown at ``/_sandbox/outbox`` (a page with the
links to click) and ``/_sandbox/outbox.json`` (for tests). Nothing is relayed
anywhere.
"""

from .sink import Mail, Outbox, SmtpSink
from .views import bp, current_outbox

__all__ = ["Mail", "Outbox", "SmtpSink", "bp", "current_outbox"]
