"""The work-situation journal and its evidence attachments."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Enum, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.i18n import N_
from app.models.apprenticeship import Apprenticeship
from app.models.base import Base, Timestamped
from app.models.certification import Competency
from app.models.user import User


class SituationStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"

    @property
    def label(self) -> str:
        """A msgid for people (translate it where it is shown)."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    SituationStatus.DRAFT: N_("draft"),
    SituationStatus.SUBMITTED: N_("submitted"),
    SituationStatus.ACKNOWLEDGED: N_("acknowledged"),
}


def _enum(cls: type[enum.Enum], length: int) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


situation_competencies = Table(
    "work_situation_competencies",
    Base.metadata,
    Column(
        "work_situation_id",
        ForeignKey("work_situations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("competency_id", ForeignKey("competencies.id"), primary_key=True, index=True),
)


class WorkSituation(Timestamped, Base):
    """Something the apprentice did in the company, offered as evidence of competencies."""

    __tablename__ = "work_situations"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
        # Per-apprenticeship counts by status (pending actions, dashboards).
        Index("ix_work_situations_apprenticeship_status", "apprenticeship_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    apprenticeship_id: Mapped[int] = mapped_column(
        ForeignKey("apprenticeships.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    context: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    learnings: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SituationStatus] = mapped_column(
        _enum(SituationStatus, 12), default=SituationStatus.DRAFT, index=True
    )
    submitted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tutor_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    apprenticeship: Mapped[Apprenticeship] = relationship(lazy="raise")
    competencies: Mapped[list[Competency]] = relationship(
        secondary=situation_competencies, order_by=Competency.code, lazy="raise"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="work_situation",
        order_by="Attachment.id",
        lazy="raise",
        cascade="all, delete-orphan",
    )
    reviewed_by: Mapped[User | None] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class Attachment(Base):
    """An uploaded file, stored under the data directory with a server-generated name."""

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint(
            "(work_situation_id IS NOT NULL) <> (english_result_id IS NOT NULL)",
            name="one_owner",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_situation_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_situations.id", ondelete="CASCADE"), index=True
    )
    english_result_id: Mapped[int | None] = mapped_column(
        ForeignKey("english_results.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))  # sanitised original name, display only
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]

    work_situation: Mapped[WorkSituation | None] = relationship(
        back_populates="attachments", lazy="raise"
    )
