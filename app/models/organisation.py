"""Schools, companies and cohorts."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped
from app.models.certification import Certification


class OrganisationKind(enum.StrEnum):
    SCHOOL = "school"
    COMPANY = "company"


class Organisation(Timestamped, Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(
            OrganisationKind,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    siret: Mapped[str | None] = mapped_column(String(14))


class Cohort(Timestamped, Base):
    __tablename__ = "cohorts"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    intake_year: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))

    certification: Mapped[Certification] = relationship(lazy="raise")
    school: Mapped[Organisation] = relationship(lazy="raise")
