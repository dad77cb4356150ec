"""One-time secrets sent by email: sign-in links and signing codes. Only digests are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
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
