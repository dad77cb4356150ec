"""Apprenticeships over the API."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.models import Apprenticeship, User
from app.routes.api.deps import ApiUser
from app.schemas.apprenticeship import (
    ApprenticeshipCreate,
    ApprenticeshipRead,
    CohortRead,
    OrganisationRead,
    PersonRead,
)
from app.schemas.problem import problem_responses
from app.schemas.school import PartiesUpdate
from app.services.access import roles_of
from app.services.school import apprenticeships as apprenticeship_service
from app.web.deps import DbSession, client_ip
from app.web.params import PathId

router = APIRouter(tags=["apprenticeships"])


def apprenticeship_read(appr: Apprenticeship, viewer: User) -> ApprenticeshipRead:
    return ApprenticeshipRead(
        id=appr.id,
        apprentice=PersonRead.model_validate(appr.apprentice),
        tutor=PersonRead.model_validate(appr.tutor),
        supervisor=PersonRead.model_validate(appr.supervisor),
        company=OrganisationRead.model_validate(appr.company),
        cohort=CohortRead(
            id=appr.cohort.id,
            name=appr.cohort.name,
            intake_year=appr.cohort.intake_year,
            rncp_code=appr.cohort.certification.rncp_code,
        ),
        starts_on=appr.starts_on,
        ends_on=appr.ends_on,
        semester_count=appr.semester_count,
        roles=sorted(r.value for r in roles_of(viewer, appr)),
    )


@router.get(
    "/apprenticeships",
    response_model=list[ApprenticeshipRead],
    responses=problem_responses(401),
)
def list_apprenticeships(session: DbSession, user: ApiUser) -> list[ApprenticeshipRead]:
    return [
        apprenticeship_read(a, user) for a in apprenticeship_service.list_visible(session, user)
    ]


@router.get(
    "/apprenticeships/{apprenticeship_id}",
    response_model=ApprenticeshipRead,
    responses=problem_responses(401, 404, 422),
)
def get_apprenticeship(
    apprenticeship_id: PathId, session: DbSession, user: ApiUser
) -> ApprenticeshipRead:
    return apprenticeship_read(apprenticeship_service.get(session, user, apprenticeship_id), user)


@router.post(
    "/apprenticeships",
    response_model=ApprenticeshipRead,
    status_code=201,
    responses=problem_responses(401, 403, 413, 422),
)
def create_apprenticeship(
    body: ApprenticeshipCreate, session: DbSession, user: ApiUser
) -> ApprenticeshipRead:
    appr = apprenticeship_service.create(
        session, user, apprenticeship_service.ApprenticeshipInput(**body.model_dump())
    )
    return apprenticeship_read(appr, user)


@router.patch(
    "/apprenticeships/{apprenticeship_id}/parties",
    response_model=ApprenticeshipRead,
    responses=problem_responses(401, 403, 404, 413, 422),
)
def change_parties(
    apprenticeship_id: PathId,
    body: PartiesUpdate,
    request: Request,
    session: DbSession,
    user: ApiUser,
) -> ApprenticeshipRead:
    """Reassign the company tutor and the academic supervisor (the admin page's safeguards:
    active accounts, not the apprentice). The former ones lose access at once; signatures
    already given stay valid."""
    appr = apprenticeship_service.change_parties(
        session,
        user,
        apprenticeship_id,
        tutor_email=body.tutor_email,
        supervisor_email=body.supervisor_email,
        ip=client_ip(request),
    )
    return apprenticeship_read(appr, user)
