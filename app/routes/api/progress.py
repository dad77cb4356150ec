"""GET /api/v1/apprenticeships/{id}/progress."""

from __future__ import annotations

from fastapi import APIRouter

from app.routes.api.deps import ApiUser
from app.schemas.problem import problem_responses
from app.schemas.progress import ProgressRead
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
