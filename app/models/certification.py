"""Referentials: certifications, competency blocks, competencies, scales, requirements."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, Timestamped


class Certification(Timestamped, Base):
    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    rncp_code: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[int]
    certifier_name: Mapped[str] = mapped_column(String(300))
    certifier_siret: Mapped[str] = mapped_column(String(14), default="")
    certifier_website: Mapped[str] = mapped_column(String(300), default="")
    nsf_codes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    formacodes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rome_codes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    registration_ends_on: Mapped[date | None]
    previous_certification: Mapped[str] = mapped_column(Text, default="")
    # The level at or above which a competency counts as acquired.
    acquired_threshold: Mapped[int] = mapped_column(default=3)

    blocks: Mapped[list[CompetencyBlock]] = relationship(
        back_populates="certification",
        order_by="CompetencyBlock.position",
        lazy="raise",
        cascade="all, delete-orphan",
    )
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="certification",
        order_by="Competency.position",
        lazy="raise",
        cascade="all, delete-orphan",
    )
    rating_levels: Mapped[list[RatingLevel]] = relationship(
        back_populates="certification",
        order_by="RatingLevel.value",
        lazy="raise",
        cascade="all, delete-orphan",
    )
    requirements: Mapped[DegreeRequirements | None] = relationship(
        back_populates="certification", lazy="raise", cascade="all, delete-orphan"
    )


class CompetencyBlock(Timestamped, Base):
    __tablename__ = "competency_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]
    evaluation_methods: Mapped[str] = mapped_column(Text, default="")

    certification: Mapped[Certification] = relationship(back_populates="blocks", lazy="raise")
    competencies: Mapped[list[Competency]] = relationship(
        back_populates="block", order_by="Competency.position", lazy="raise"
    )
    transversal_links: Mapped[list[BlockTransversalLink]] = relationship(
        back_populates="block",
        order_by="BlockTransversalLink.position",
        lazy="raise",
        cascade="all, delete-orphan",
    )


class Competency(Timestamped, Base):
    """A competency statement. Block competencies belong to one block; transversal ones
    (``block_id`` NULL) are defined once per certification and linked to blocks."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("certification_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), index=True
    )
    block_id: Mapped[int | None] = mapped_column(
        ForeignKey("competency_blocks.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    statement: Mapped[str] = mapped_column(Text)
    statement_en: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int]

    certification: Mapped[Certification] = relationship(back_populates="competencies", lazy="raise")
    block: Mapped[CompetencyBlock | None] = relationship(
        back_populates="competencies", lazy="raise"
    )

    @property
    def is_transversal(self) -> bool:
        return self.block_id is None


class BlockTransversalLink(Base):
    """Links a transversal competency to a block, with an optional block-specific wording."""

    __tablename__ = "block_transversal_links"
    __table_args__ = (UniqueConstraint("block_id", "competency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    block_id: Mapped[int] = mapped_column(
        ForeignKey("competency_blocks.id", ondelete="CASCADE"), index=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    statement_variant: Mapped[str | None] = mapped_column(Text)

    block: Mapped[CompetencyBlock] = relationship(back_populates="transversal_links", lazy="raise")
    competency: Mapped[Competency] = relationship(lazy="raise")

    @property
    def statement(self) -> str:
        return self.statement_variant or self.competency.statement


class RatingLevel(Base):
    """One level of a certification's rating scale. "Not observed" is not a level."""

    __tablename__ = "rating_levels"
    __table_args__ = (UniqueConstraint("certification_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[int]
    label_fr: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))

    certification: Mapped[Certification] = relationship(
        back_populates="rating_levels", lazy="raise"
    )


class DegreeRequirements(Timestamped, Base):
    """The degree's conditions besides the blocks."""

    __tablename__ = "degree_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(
        ForeignKey("certifications.id", ondelete="CASCADE"), unique=True
    )
    all_blocks_required: Mapped[bool] = mapped_column(default=True)
    english_cefr_level: Mapped[str] = mapped_column(String(2), default="B2")
    mobility_min_weeks: Mapped[int] = mapped_column(default=0)
    mobility_recommended_weeks: Mapped[int | None]
    company_periods_required: Mapped[bool] = mapped_column(default=True)
    text: Mapped[str] = mapped_column(Text, default="")

    certification: Mapped[Certification] = relationship(back_populates="requirements", lazy="raise")
