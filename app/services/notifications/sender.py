"""The mail transport: deliver what the outbox holds, by SMTP or (in development and tests,
without ``LIVRET_SMTP_HOST``) to ``<data_dir>/outbox/*.eml`` and the log.

Each message is claimed in a short transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite serialises writers), marked ``sending`` with a lease and its attempt counted,
then sent outside any transaction, then marked ``sent``, or ``pending`` again with an
exponential backoff, or ``failed`` after ``LIVRET_MAIL_MAX_ATTEMPTS`` (or when the server
refuses the recipient for good). Two senders never send the same message; a sender that dies
mid-way leaves its claims to be retried once the lease has passed. This module imports no
domain module: it moves rows of ``outbox_messages``, whatever they announce.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import MailStatus, OutboxMessage
from app.models.base import utcnow

log = logging.getLogger("livret.mail")

CLAIM_LEASE = timedelta(minutes=10)  # longer than a batch can take to send
MAX_BACKOFF = timedelta(hours=6)
BATCH_SIZE = 20
MAX_ERROR = 2000
# Messages that carry a one-time secret (sign-in link, signing code): their bodies are wiped
# once delivered or given up, so the outbox does not keep usable secrets around.
SECRET_KINDS = frozenset({"signin_link", "sign_code"})
REDACTED = "[removed after delivery: it contained a one-time secret]"

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
