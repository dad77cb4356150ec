"""Referentials over the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.models import Certification
from app.routes.api.deps import ApiUser
from app.schemas.common import SafeStr
from app.schemas.problem import problem_responses
from app.schemas.referential import (
    BlockRead,
    CertificationRead,
    CertificationSummary,
    CompetencyRead,
    RatingLevelRead,
    RequirementsRead,
    ScaleRead,
    TransversalLinkRead,
)
from app.services.referentials import catalog as referential_service
from app.web.deps import DbSession

router = APIRouter(tags=["certifications"])


def certification_read(cert: Certification) -> CertificationRead:
    return CertificationRead(
        rncp_code=cert.rncp_code,
        title=cert.title,
        title_en=cert.title_en,
        level=cert.level,
        certifier_name=cert.certifier_name,
        certifier_siret=cert.certifier_siret,
        certifier_website=cert.certifier_website,
        nsf_codes=cert.nsf_codes,
        formacodes=cert.formacodes,
        rome_codes=cert.rome_codes,
        registration_ends_on=cert.registration_ends_on,
        previous_certification=cert.previous_certification,
        blocks=[
            BlockRead(
                id=b.id,
                code=b.code,
                title=b.title,
                title_en=b.title_en,
                position=b.position,
                evaluation_methods=b.evaluation_methods,
                competencies=[CompetencyRead.model_validate(c) for c in b.competencies],
                transversal=[
                    TransversalLinkRead(code=link.competency.code, statement=link.statement)
                    for link in b.transversal_links
                ],
            )
            for b in cert.blocks
        ],
        transversal_competencies=[
            CompetencyRead.model_validate(c).model_copy(update={"transversal": True})
            for c in cert.competencies
            if c.block_id is None
        ],
        scale=ScaleRead(
            levels=[RatingLevelRead.model_validate(lvl) for lvl in cert.rating_levels],
            acquired_threshold=cert.acquired_threshold,
        ),
        requirements=RequirementsRead.model_validate(cert.requirements)
        if cert.requirements
        else None,
    )


@router.get(
    "/certifications",
    response_model=list[CertificationSummary],
    responses=problem_responses(401),
)
def list_certifications(session: DbSession, user: ApiUser) -> list[CertificationSummary]:
    return [
        CertificationSummary(
            id=c.id,
            rncp_code=c.rncp_code,
            title=c.title,
            title_en=c.title_en,
            level=c.level,
            block_count=len(c.blocks),
        )
        for c in referential_service.list_certifications(session)
    ]


@router.get(
    "/certifications/{rncp_code}",
    response_model=CertificationRead,
    responses=problem_responses(401, 404, 422),
)
def get_certification(
    session: DbSession,
    user: ApiUser,
    rncp_code: Annotated[SafeStr, Path(pattern=r"^[A-Za-z0-9]{1,20}$")],
) -> CertificationRead:
    return certification_read(referential_service.get_certification(session, rncp_code))
