"""Outgoing mail (a transactional outbox) and the log of reminder digests."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class MailStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SENDING = "sending"  # claimed by a sender; claimable again once the lease has passed
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt, or refused for good by the server


class OutboxMessage(Base):
    """One email, rendered in its recipient's language when the event happened, and written
    in the same transaction as that event. A sender delivers it later, with retries."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The sender's query: due messages by status and time.
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(40))  # the template, e.g. "situation_submitted"
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(
        Enum(
            MailStatus,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=MailStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderLog(Base):
    """A reminder digest sent to one person on one day: at most one per person and day."""

    __tablename__ = "reminder_logs"
    __table_args__ = (UniqueConstraint("user_id", "reminded_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reminded_on: Mapped[date]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    items: Mapped[int] = mapped_column(default=0)  # pending actions listed in the digest
    escalated: Mapped[bool] = mapped_column(default=False)  # the supervisor got a copy
