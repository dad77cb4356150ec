"""Evidence for the degree's other conditions: English results and international mobility."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped
from app.models.journal import Attachment

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")


class EnglishResult(Timestamped, Base):
    __tablename__ = "english_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    apprenticeship_id: Mapped[int] = mapped_column(
        ForeignKey("apprenticeships.id", ondelete="CASCADE"), index=True
    )
    test_name: Mapped[str] = mapped_column(String(100))
    score: Mapped[str] = mapped_column(String(40))
    cefr_level: Mapped[str] = mapped_column(String(2))
    taken_on: Mapped[date]

    attachments: Mapped[list[Attachment]] = relationship(
        primaryjoin="EnglishResult.id == Attachment.english_result_id",
        order_by="Attachment.id",
        lazy="raise",
        cascade="all, delete-orphan",
    )


class MobilityPeriod(Timestamped, Base):
    __tablename__ = "mobility_periods"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    apprenticeship_id: Mapped[int] = mapped_column(
        ForeignKey("apprenticeships.id", ondelete="CASCADE"), index=True
    )
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    host: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    @property
    def weeks(self) -> int:
        return whole_weeks(self.starts_on, self.ends_on)


def whole_weeks(starts_on: date, ends_on: date) -> int:
    """Whole weeks of a period, counting both ends."""
    return ((ends_on - starts_on).days + 1) // 7
