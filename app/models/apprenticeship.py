"""An apprentice's contract: the record every portfolio hangs from."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped
from app.models.organisation import Cohort, Organisation
from app.models.user import User


class Apprenticeship(Timestamped, Base):
    __tablename__ = "apprenticeships"
    __table_args__ = (
        CheckConstraint("ends_on > starts_on", name="dates_ordered"),
        CheckConstraint("semester_count BETWEEN 1 AND 12", name="semester_count_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    apprentice_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    semester_count: Mapped[int] = mapped_column(default=6)

    apprentice: Mapped[User] = relationship(foreign_keys=[apprentice_id], lazy="raise")
    tutor: Mapped[User] = relationship(foreign_keys=[tutor_id], lazy="raise")
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id], lazy="raise")
    company: Mapped[Organisation] = relationship(lazy="raise")
    cohort: Mapped[Cohort] = relationship(lazy="raise")
