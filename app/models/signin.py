"""One-time secrets sent by email: sign-in links, invitations, password resets and signing
codes. Only digests are stored; throttle events count requests that send such mail."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, utcnow
from app.models.user import User


class SignInLink(Base):
    """A single-use sign-in link: the token travels by email, its SHA-256 is stored."""

    __tablename__ = "signin_links"
    __table_args__ = (Index("ix_signin_links_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))  # who asked for it

    user: Mapped[User] = relationship(lazy="raise")


class SignCode(Base):
    """A 6-digit code that lets a link-authenticated session sign one review in one role.

    The code is short, so it is stored as an HMAC keyed with the server secret (a leaked
    table cannot be brute-forced offline), tried a few times at most, and expires quickly."""

    __tablename__ = "sign_codes"
    __table_args__ = (Index("ix_sign_codes_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(
        ForeignKey("semester_reviews.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(12))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    failed_attempts: Mapped[int] = mapped_column(default=0)


class AccountLinkPurpose(enum.StrEnum):
    INVITATION = "invitation"  # choose a first password (or keep signing in by emailed link)
    RESET = "reset"  # forgot password: choose a new one


class AccountLink(Base):
    """A single-use emailed link to choose a password: an invitation or a password reset. The
    token travels by email, its SHA-256 is stored. Kept after use or expiry (for a while) so
    the page can say which happened."""

    __tablename__ = "account_links"
    __table_args__ = (
        Index("ix_account_links_user_id_purpose_created_at", "user_id", "purpose", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[AccountLinkPurpose] = mapped_column(
        Enum(
            AccountLinkPurpose,
            native_enum=False,
            length=12,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))  # who asked for it
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )  # the administrator who sent an invitation

    user: Mapped[User] = relationship(lazy="raise", foreign_keys=[user_id])


class ThrottleEvent(Base):
    """One request that sends mail (a password reset, a new invitation), counted over a sliding
    window per key (an email address as typed, or a client IP), whether or not an account
    exists: throttling then tells nothing about accounts."""

    __tablename__ = "throttle_events"
    __table_args__ = (Index("ix_throttle_events_kind_key_created_at", "kind", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
