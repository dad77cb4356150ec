"""The school's set-up over the API: cohorts, schools and companies (administrators)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.models import OrganisationKind
from app.routes.api.deps import ApiUser
from app.schemas.problem import problem_responses
from app.schemas.school import (
    CertificationRef,
    CohortCreate,
    CohortDetailRead,
    OrganisationCreate,
    OrganisationDetailRead,
)
from app.services.school import cohorts as cohort_service
from app.web.deps import DbSession, client_ip
from app.web.params import PathId

router = APIRouter(tags=["school"])


def cohort_read(row: cohort_service.CohortRow) -> CohortDetailRead:
    cohort = row.cohort
    return CohortDetailRead(
        id=cohort.id,
        name=cohort.name,
        intake_year=cohort.intake_year,
        certification=CertificationRef.model_validate(cohort.certification),
        school=OrganisationDetailRead.model_validate(cohort.school),
        apprenticeship_count=row.apprenticeships,
    )


@router.get(
    "/cohorts", response_model=list[CohortDetailRead], responses=problem_responses(401, 403)
)
def list_cohorts(session: DbSession, user: ApiUser) -> list[CohortDetailRead]:
    """Every cohort, the latest intake first."""
    return [cohort_read(row) for row in cohort_service.list_cohorts(session, user)]


@router.post(
    "/cohorts",
    response_model=CohortDetailRead,
    status_code=201,
    responses=problem_responses(401, 403, 413, 422),
)
def create_cohort(
    body: CohortCreate, request: Request, session: DbSession, user: ApiUser
) -> CohortDetailRead:
    """A cohort of a certification at a school (an existing one by id, or one named in
    `new_school_name`, created when missing)."""
    cohort = cohort_service.create_cohort(
        session, user, cohort_service.CohortInput(**body.model_dump()), ip=client_ip(request)
    )
    return cohort_read(cohort_service.get_cohort(session, user, cohort.id))


@router.get(
    "/cohorts/{cohort_id}",
    response_model=CohortDetailRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_cohort(cohort_id: PathId, session: DbSession, user: ApiUser) -> CohortDetailRead:
    return cohort_read(cohort_service.get_cohort(session, user, cohort_id))


@router.get(
    "/organisations",
    response_model=list[OrganisationDetailRead],
    responses=problem_responses(401, 403, 422),
)
def list_organisations(
    session: DbSession, user: ApiUser, kind: OrganisationKind | None = None
) -> list[OrganisationDetailRead]:
    """Schools and companies by name; `kind` keeps one of them."""
    return [
        OrganisationDetailRead.model_validate(org)
        for org in cohort_service.list_organisations(session, user, kind=kind)
    ]


@router.post(
    "/organisations",
    response_model=OrganisationDetailRead,
    status_code=201,
    responses=problem_responses(401, 403, 413, 422),
)
def create_organisation(
    body: OrganisationCreate, request: Request, session: DbSession, user: ApiUser
) -> OrganisationDetailRead:
    """A school or a company; its name must be free (ignoring case and repeated spaces)."""
    org = cohort_service.add_organisation(
        session, user, name=body.name, kind=body.kind, siret=body.siret, ip=client_ip(request)
    )
    return OrganisationDetailRead.model_validate(org)


@router.get(
    "/organisations/{organisation_id}",
    response_model=OrganisationDetailRead,
    responses=problem_responses(401, 403, 404, 422),
)
def get_organisation(
    organisation_id: PathId, session: DbSession, user: ApiUser
) -> OrganisationDetailRead:
    return OrganisationDetailRead.model_validate(
        cohort_service.get_organisation(session, user, organisation_id)
    )
