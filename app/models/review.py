"""Semester reviews: three assessments, the agreed content, and co-signatures."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import N_
from app.models.apprenticeship import Apprenticeship
from app.models.base import Base, Timestamped
from app.models.certification import Competency
from app.models.party import Party
from app.models.user import User


class RatingSource(enum.StrEnum):
    """Whose rating: one of the three parties (same values as :class:`Party`), or the agreed
    content. Only competency ratings need it; assessments and signatures are by a party."""

    APPRENTICE = Party.APPRENTICE.value
    TUTOR = Party.TUTOR.value
    SUPERVISOR = Party.SUPERVISOR.value
    AGREED = "agreed"

    @classmethod
    def of(cls, party: Party) -> RatingSource:
        """The ratings of ``party`` (the one conversion between the two enums)."""
        return cls(party.value)

    @property
    def label(self) -> str:
        """A msgid for people (translate it where it is shown)."""
        return N_("Agreed level") if self is RatingSource.AGREED else Party(self.value).label


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class SemesterReview(Timestamped, Base):
    __tablename__ = "semester_reviews"
    __table_args__ = (
        UniqueConstraint("apprenticeship_id", "semester"),
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    apprenticeship_id: Mapped[int] = mapped_column(
        ForeignKey("apprenticeships.id", ondelete="CASCADE"), index=True
    )
    semester: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    agreed_summary: Mapped[str] = mapped_column(Text, default="")
    # Bumped by every change to the agreed content (optimistic concurrency).
    version: Mapped[int] = mapped_column(default=1)
    locked_at: Mapped[datetime | None] = mapped_column(index=True)

    apprenticeship: Mapped[Apprenticeship] = relationship(lazy="raise")
    assessments: Mapped[list[PartyAssessment]] = relationship(
        back_populates="review", lazy="raise", cascade="all, delete-orphan"
    )
    ratings: Mapped[list[CompetencyRating]] = relationship(
        back_populates="review", lazy="raise", cascade="all, delete-orphan"
    )
    signatures: Mapped[list[Signature]] = relationship(
        back_populates="review",
        order_by="Signature.signed_at",
        lazy="raise",
        cascade="all, delete-orphan",
    )

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class PartyAssessment(Timestamped, Base):
    """One party's own assessment of a semester: its general comment and version."""

    __tablename__ = "party_assessments"
    __table_args__ = (UniqueConstraint("review_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("semester_reviews.id", ondelete="CASCADE"), index=True
    )
    party: Mapped[Party] = mapped_column(_enum(Party, 12))
    general_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    review: Mapped[SemesterReview] = relationship(back_populates="assessments", lazy="raise")
    updated_by: Mapped[User | None] = relationship(lazy="raise")


class CompetencyRating(Base):
    """A level (or "not observed") given to one competency by one source in one review."""

    __tablename__ = "competency_ratings"
    __table_args__ = (
        UniqueConstraint("review_id", "competency_id", "source"),
        CheckConstraint("(level IS NULL) OR (NOT not_observed)", name="level_or_not_observed"),
        # One source's levels in a review, read from the index alone: divergences (apprentice
        # against tutor) and the latest agreed levels. Also serves the foreign key.
        Index(
            "ix_competency_ratings_review_source_levels",
            "review_id",
            "source",
            "competency_id",
            "level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("semester_reviews.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), index=True)
    source: Mapped[RatingSource] = mapped_column(_enum(RatingSource, 12))
    level: Mapped[int | None]
    not_observed: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    review: Mapped[SemesterReview] = relationship(back_populates="ratings", lazy="raise")
    competency: Mapped[Competency] = relationship(lazy="raise")


class Signature(Base):
    """A co-signature of the agreed content; voided (never deleted) when that content changes."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("semester_reviews.id", ondelete="CASCADE"), index=True
    )
    signer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[Party] = mapped_column(_enum(Party, 12))
    signed_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(20), default="password")
    content_hash: Mapped[str] = mapped_column(String(64))
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)

    review: Mapped[SemesterReview] = relationship(back_populates="signatures", lazy="raise")
    signer: Mapped[User] = relationship(lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.voided_at is None
