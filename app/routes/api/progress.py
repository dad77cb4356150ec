"""Progress over the API: one apprenticeship's, and a cohort's (the dashboard's rows)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter

from app.routes.api.deps import ApiUser
from app.schemas.problem import problem_responses
from app.schemas.progress import ProgressRead
from app.schemas.school import (
    CohortProgressBlock,
    CohortProgressRead,
    CohortProgressRow,
    CurrentReviewRead,
)
from app.services.pages import dashboard as dashboard_service
from app.services.progress.loader import load_progress
from app.web.deps import AppSettings, DbSession
from app.web.params import PathId

router = APIRouter(tags=["progress"])


@router.get(
    "/apprenticeships/{apprenticeship_id}/progress",
    response_model=ProgressRead,
    responses=problem_responses(401, 404, 422),
)
def get_progress(
    apprenticeship_id: PathId, session: DbSession, settings: AppSettings, user: ApiUser
) -> ProgressRead:
    _appr, progress = load_progress(session, settings, user, apprenticeship_id)
    return ProgressRead.model_validate(progress)


def cohort_progress_read(board: dashboard_service.Dashboard) -> CohortProgressRead:
    assert board.cohort is not None  # the service found the cohort
    rows = []
    for row in board.rows:
        appr, progress, current = row.apprenticeship, row.progress, row.last_review
        rows.append(
            CohortProgressRow(
                apprenticeship_id=appr.id,
                apprentice_id=appr.apprentice_id,
                apprentice_name=appr.apprentice.full_name,
                apprentice_email=appr.apprentice.email,
                company_name=appr.company.name,
                blocks=[CohortProgressBlock.model_validate(b) for b in progress.blocks],
                current_review=CurrentReviewRead.model_validate(current) if current else None,
                overdue=row.overdue,
                divergences=row.divergences,
                pending_semesters=list(progress.pending_semesters),
                overdue_semesters=list(progress.overdue_semesters),
                ready=progress.readiness.ready,
                english_best=row.english,
                english_ok=progress.readiness.english_ok,
                mobility_weeks=row.mobility_weeks,
                mobility_ok=progress.readiness.mobility_ok,
                apprentice_reminded_at=row.apprentice_reminded_at,
                tutor_reminded_at=row.tutor_reminded_at,
            )
        )
    return CohortProgressRead(
        cohort_id=board.cohort.id,
        cohort_name=board.cohort.name,
        rncp_code=board.referential.rncp_code if board.referential else None,
        block_codes=board.block_codes,
        total_in_cohort=board.total_in_cohort,
        rows=rows,
    )


@router.get(
    "/cohorts/{cohort_id}/progress",
    response_model=CohortProgressRead,
    responses=problem_responses(
        401,
        403,
        404,
        422,
        notes={
            403: "Only academic supervisors and administrators follow cohorts.",
            404: "No such cohort, or none of its apprenticeships is visible to the caller.",
        },
    ),
)
def get_cohort_progress(
    cohort_id: PathId, session: DbSession, settings: AppSettings, user: ApiUser
) -> CohortProgressRead:
    """The cohort dashboard's rows, as the page shows them: an administrator sees every
    apprentice, a supervisor the apprenticeships they see in that cohort."""
    board = dashboard_service.cohort_progress(session, settings, user, cohort_id, date.today())
    return cohort_progress_read(board)
