"""Outgoing email: a transactional outbox and the sender that empties it.

Services call :func:`enqueue` inside their own transaction: the message is rendered in the
recipient's language (plain text and HTML) and stored in ``outbox_messages``, so it exists if
and only if the event it announces was committed. Nothing talks to a mail server during a
request. :mod:`app.services.notifications.sender` delivers due messages later (``livret mail
send-pending``, or the server's background task every ``LIVRET_MAIL_SENDER_INTERVAL_SECONDS``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jinja2 import Template
from markupsafe import Markup
from sqlalchemy import delete
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import DEFAULT_LOCALE, LOCALES
from app.models import MailStatus, OutboxMessage, User
from app.models.base import utcnow
from app.web.templating import environment

log = logging.getLogger("livret.mail")


# --- Settings carried by the session ----------------------------------------------------------


@cache
def _environment_settings() -> Settings:
    return Settings()


def settings_of(session: Session) -> Settings:
    """The settings the session was opened with (the app's and the CLI's session factories put
    them in ``session.info``), or the environment's for sessions made elsewhere."""
    settings = session.info.get("settings")
    if isinstance(settings, Settings):
        return settings
    return _environment_settings()


# --- Rendering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def _block(template: Template, name: str, context: Mapping[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(dict(context))))


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render(kind: str, locale: str, context: Mapping[str, Any], settings: Settings) -> RenderedMail:
    """Render ``templates/email/<kind>.html`` (blocks ``subject``, ``text`` and ``html``) in
    ``locale``. Links are built from ``settings.base_url`` (templates write
    ``{{ base_url }}{{ path }}``)."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    values = {"base_url": settings.base_url.rstrip("/"), "locale": locale, **context}
    name = f"email/{kind}.html"
    text_env, html_env = environment(html=False, strict=True), environment(html=True, strict=True)
    template = text_env.get_template(name)
    subject = " ".join(_block(template, "subject", values).split())
    footer = text_env.get_template("email/footer.html")
    # "-- " (with its space) is the usual signature delimiter: mail clients fold the footer.
    text = (
        _tidy_text(_block(template, "text", values))
        + "\n-- \n"
        + _tidy_text(_block(footer, "text", values))
    )
    html_body = Markup(_block(html_env.get_template(name), "html", values))  # noqa: S704
    html_footer = Markup(  # noqa: S704 - rendered by an autoescaping environment
        _block(html_env.get_template("email/footer.html"), "html", values)
    )
    html = html_env.get_template("email/layout.html").render(
        {**values, "subject": subject, "body": html_body, "footer": html_footer}
    )
    return RenderedMail(subject[:300], text, html)


# --- Enqueueing -------------------------------------------------------------------------------


def valid_address(user: User) -> str | None:
    """The user's address if mail can go to it (active account, well-formed address)."""
    if not user.is_active:
        return None
    try:
        validate_email(user.email, check_deliverability=False)
    except EmailNotValidError as exc:
        log.warning("User %s has an invalid email address %r: %s", user.id, user.email, exc)
        return None
    return user.email


def enqueue(
    session: Session,
    recipient: User,
    kind: str,
    context: Mapping[str, Any],
    *,
    settings: Settings | None = None,
) -> OutboxMessage | None:
    """Queue one message to ``recipient`` in their language, in the caller's transaction.

    Returns None (and logs why) when the account is inactive or its address is invalid."""
    address = valid_address(recipient)
    if address is None:
        log.info("Not queuing %s mail to user %s (inactive or invalid address)", kind, recipient.id)
        return None
    settings = settings or settings_of(session)
    locale = recipient.locale if recipient.locale in LOCALES else DEFAULT_LOCALE
    rendered = render(kind, locale, {"recipient_name": recipient.full_name, **context}, settings)
    now = utcnow()
    message = OutboxMessage(
        recipient_id=recipient.id,
        to_address=address,
        locale=locale,
        kind=kind,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    log.info("Queued %s mail %s to user %s", kind, message.id, recipient.id)
    return message


# --- Housekeeping -----------------------------------------------------------------------------

KEEP_DELIVERED = timedelta(days=90)


def purge_finished(session: Session, now: datetime, keep: timedelta = KEEP_DELIVERED) -> int:
    """Delete sent and given-up messages created more than ``keep`` ago; pending ones and
    those being sent always stay. Returns how many were deleted (the caller commits)."""
    result = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_((MailStatus.SENT, MailStatus.FAILED)),
            OutboxMessage.created_at < now - keep,
        )
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        log.info("Mail: purged %s finished messages older than %s days", count, keep.days)
    return count
