"""Outgoing email: a transactional outbox and the sender that empties it.

Services call :func:`enqueue` inside their own transaction: the message is rendered in the
recipient's language (plain text and HTML) and stored in ``outbox_messages``, so it exists if
and only if the event it announces was committed. Nothing talks to a mail server during a
request. :func:`send_pending` delivers due messages later (``livret mail send-pending``, or the
server's background task every ``LIVRET_MAIL_SENDER_INTERVAL_SECONDS``):

* a message is *claimed* in a short transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite serialises writers), marked ``sending`` with a lease and its attempt
  counted, then sent outside any transaction, then marked ``sent``, or ``pending`` again with
  an exponential backoff, or ``failed`` after ``LIVRET_MAIL_MAX_ATTEMPTS`` (or when the server
  refuses the recipient for good). Two senders never send the same message; a sender that
  dies mid-way leaves its claims to be retried once the lease has passed.
* with ``LIVRET_SMTP_HOST`` set, delivery uses SMTP (STARTTLS and login when configured);
  without it, development and test write each message to the log and to
  ``<data_dir>/outbox/*.eml``, and production leaves the messages queued (and says so).
"""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email
from jinja2 import Template
from markupsafe import Markup
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.i18n import DEFAULT_LOCALE, LOCALES
from app.models import MailStatus, OutboxMessage, User
from app.models.base import utcnow
from app.web.templating import environment

log = logging.getLogger("livret.mail")

CLAIM_LEASE = timedelta(minutes=10)  # longer than a batch can take to send
MAX_BACKOFF = timedelta(hours=6)
BATCH_SIZE = 20
MAX_ERROR = 2000
# Messages that carry a one-time secret (sign-in link, signing code): their bodies are wiped
# once delivered or given up, so the outbox does not keep usable secrets around.
SECRET_KINDS = frozenset({"signin_link", "sign_code"})
REDACTED = "[removed after delivery: it contained a one-time secret]"


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


# --- Sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """What the sender needs from a claimed row, detached from any session."""

    id: int
    kind: str
    to_address: str
    locale: str
    subject: str
    text_body: str
    html_body: str
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    id: int
    error: str | None = None
    permanent: bool = False


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    left_queued: int = 0  # production without an SMTP host

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Delay before the next attempt once ``attempts`` have failed: base × 2^(attempts-1)."""
    seconds = settings.mail_retry_base_seconds * 2 ** max(0, attempts - 1)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def _claim(session_factory: Callable[[], Session], now: datetime, limit: int) -> list[Claimed]:
    with session_factory() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.status.in_([MailStatus.PENDING, MailStatus.SENDING]),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.status = MailStatus.SENDING
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
            claimed.append(
                Claimed(
                    row.id,
                    row.kind,
                    row.to_address,
                    row.locale,
                    row.subject,
                    row.text_body,
                    row.html_body,
                    row.created_at,
                )
            )
        session.commit()
    return claimed


def _record(
    session_factory: Callable[[], Session],
    settings: Settings,
    outcomes: list[Outcome],
    now: datetime,
    report: SendReport,
) -> None:
    with session_factory() as session:
        rows = {
            m.id: m
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_([o.id for o in outcomes]))
            )
        }
        for outcome in outcomes:
            message = rows.get(outcome.id)
            if message is None:
                continue
            if outcome.error is None:
                message.status = MailStatus.SENT
                message.sent_at = now
                message.last_error = None
                report.sent += 1
            elif outcome.permanent or message.attempts >= settings.mail_max_attempts:
                message.status = MailStatus.FAILED
                message.last_error = outcome.error[:MAX_ERROR]
                report.failed += 1
                log.error(
                    "Giving up on mail %s to %s after %s attempt(s): %s",
                    message.id,
                    message.to_address,
                    message.attempts,
                    outcome.error,
                )
            else:
                message.status = MailStatus.PENDING
                message.next_attempt_at = now + backoff(settings, message.attempts)
                message.last_error = outcome.error[:MAX_ERROR]
                report.retried += 1
                log.warning(
                    "Mail %s to %s not sent (attempt %s), retrying at %s: %s",
                    message.id,
                    message.to_address,
                    message.attempts,
                    message.next_attempt_at.isoformat(timespec="seconds"),
                    outcome.error,
                )
                continue
            if message.kind in SECRET_KINDS:
                message.text_body = message.html_body = REDACTED
        session.commit()


def _sender_address(settings: Settings) -> str:
    return parseaddr(settings.smtp_from)[1] or "livret@localhost"


def build_message(item: Claimed, settings: Settings) -> EmailMessage:
    """A multipart/alternative message (plain text, then HTML) in the recipient's language."""
    domain = _sender_address(settings).rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["Subject"] = item.subject
    message["From"] = settings.smtp_from
    message["To"] = item.to_address
    message["Date"] = format_datetime(item.created_at)
    # Stable across retries, so a receiving server can drop a duplicate.
    message["Message-ID"] = f"<livret.{item.id}.{int(item.created_at.timestamp())}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(item.text_body)
    message.add_alternative(item.html_body, subtype="html")
    message["Content-Language"] = item.locale  # after the body: set_content clears Content-*
    return message


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"{type(exc).__name__}: {exc.smtp_code} {text}".strip()
    return f"{type(exc).__name__}: {exc}"


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    )
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _deliver_smtp(items: list[Claimed], settings: Settings) -> list[Outcome]:
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        error = _describe(exc)
        return [Outcome(item.id, error) for item in items]
    outcomes: list[Outcome] = []
    with smtp:
        for index, item in enumerate(items):
            try:
                smtp.send_message(
                    build_message(item, settings),
                    from_addr=_sender_address(settings),
                    to_addrs=[item.to_address],
                )
            except smtplib.SMTPRecipientsRefused as exc:
                # The recipient refused for good (5xx) will not be accepted later either.
                codes = [code for code, _text in exc.recipients.values()]
                permanent = bool(codes) and all(code >= 500 for code in codes)
                outcomes.append(Outcome(item.id, f"recipient refused: {codes}", permanent))
            except smtplib.SMTPResponseException as exc:
                outcomes.append(Outcome(item.id, _describe(exc)))
                try:
                    smtp.rset()
                except (OSError, smtplib.SMTPException):
                    rest = items[index + 1 :]
                    outcomes.extend(Outcome(i.id, "connection lost") for i in rest)
                    break
            except (OSError, smtplib.SMTPException) as exc:
                error = _describe(exc)
                outcomes.extend(Outcome(i.id, error) for i in items[index:])
                break
            else:
                outcomes.append(Outcome(item.id))
                log.info("Sent %s mail %s to %s", item.kind, item.id, item.to_address)
    return outcomes


def _deliver_to_folder(items: list[Claimed], settings: Settings) -> list[Outcome]:
    """Development and test without SMTP: log each message and write it as a .eml file."""
    outcomes = []
    folder = settings.outbox_dir
    for item in items:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{item.created_at:%Y%m%dT%H%M%S}-{item.id}-{item.kind}.eml"
            path.write_bytes(build_message(item, settings).as_bytes())
        except OSError as exc:
            outcomes.append(Outcome(item.id, _describe(exc)))
            continue
        log.info(
            "Mail %s to %s: %s (no SMTP host; written to %s)\n%s",
            item.id,
            item.to_address,
            item.subject,
            path,
            item.text_body,
        )
        outcomes.append(Outcome(item.id))
    return outcomes


def send_pending(
    session_factory: Callable[[], Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    max_messages: int = 500,
) -> SendReport:
    """Deliver every due message (at most ``max_messages``), each claimed before it is sent.

    ``now`` pins the clock (tests); by default each batch reads the time afresh."""
    report = SendReport()
    if not settings.smtp_host and settings.environment == "production":
        with session_factory() as session:
            report.left_queued = (
                session.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status == MailStatus.PENDING
                    )
                )
                or 0
            )
        if report.left_queued:
            log.warning(
                "LIVRET_SMTP_HOST is not set: %s message(s) stay queued", report.left_queued
            )
        return report
    deliver = _deliver_smtp if settings.smtp_host else _deliver_to_folder
    while report.handled < max_messages:
        current = now or utcnow()
        batch = _claim(session_factory, current, min(BATCH_SIZE, max_messages - report.handled))
        if not batch:
            break
        outcomes = deliver(batch, settings)
        _record(session_factory, settings, outcomes, now or utcnow(), report)
    return report


async def run_sender(
    session_factory: Callable[[], Session],
    settings: Settings,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """The server's background sender: deliver due mail every interval, in a worker thread
    (smtplib blocks), until cancelled. A failing round is logged and the loop goes on.

    ``sleep`` waits between rounds; tests pass their own rather than patching
    ``asyncio.sleep``, which every event loop of the process shares."""
    interval = settings.mail_sender_interval_seconds or 60
    log.info("Mail sender started (every %s s)", interval)
    while True:
        try:
            report = await asyncio.to_thread(send_pending, session_factory, settings)
            if report.handled:
                log.info(
                    "Mail: %s sent, %s to retry, %s failed",
                    report.sent,
                    report.retried,
                    report.failed,
                )
        except Exception:
            log.exception("Mail sender round failed; trying again in %s s", interval)
        await sleep(interval)


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
