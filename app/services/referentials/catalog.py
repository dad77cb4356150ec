"""Reading the referentials: the certifications, and one with everything its pages show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import BlockTransversalLink, Certification, CompetencyBlock
from app.services.errors import NotFound


def list_certifications(session: Session) -> Sequence[Certification]:
    return session.scalars(
        select(Certification)
        .order_by(Certification.rncp_code)
        .options(selectinload(Certification.blocks))
    ).all()


def certification_detail_options() -> list[Any]:
    return [
        selectinload(Certification.blocks).selectinload(CompetencyBlock.competencies),
        selectinload(Certification.blocks)
        .selectinload(CompetencyBlock.transversal_links)
        .joinedload(BlockTransversalLink.competency),
        selectinload(Certification.competencies),
        selectinload(Certification.rating_levels),
        selectinload(Certification.requirements),
    ]


def get_certification(session: Session, rncp_code: str) -> Certification:
    cert = session.scalars(
        select(Certification)
        .where(Certification.rncp_code == rncp_code.upper())
        .options(*certification_detail_options())
    ).one_or_none()
    if cert is None:
        raise NotFound("No such certification.")
    return cert
